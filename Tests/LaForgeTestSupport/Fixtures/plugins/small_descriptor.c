/* The descriptor claims 24 bytes, less than LAFORGE_DESCRIPTOR_SIZE_1_0: it was not built
 * against a 1.0 header, and the host must refuse it without reading past those 24 bytes. */
#include "fixture_sink.h"

FIXTURE_SINK_PLUGIN(24, 1, 0, "small_descriptor", LAFORGE_CAP_AUDIT_SINK, FIXTURE_SINK_SCHEMA,
                    fixture_sink_create, fixture_sink_write)
