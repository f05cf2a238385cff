/* Needs ABI 1.3 (descriptor minor 3): a 1.2 host must refuse it, naming both versions. */
#include "fixture_sink.h"

FIXTURE_SINK_PLUGIN(sizeof(laforge_plugin_descriptor), 1, 3, "abi_1_3_required",
                    LAFORGE_CAP_AUDIT_SINK, FIXTURE_SINK_SCHEMA, fixture_sink_create,
                    fixture_sink_write)
