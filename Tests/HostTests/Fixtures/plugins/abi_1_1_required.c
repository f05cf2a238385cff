/* Needs ABI 1.1 (descriptor minor 1): a 1.0 host must refuse it, naming both versions. */
#include "fixture_sink.h"

FIXTURE_SINK_PLUGIN(sizeof(laforge_plugin_descriptor), 1, 1, "abi_1_1_required",
                    LAFORGE_CAP_AUDIT_SINK, FIXTURE_SINK_SCHEMA, fixture_sink_create,
                    fixture_sink_write)
