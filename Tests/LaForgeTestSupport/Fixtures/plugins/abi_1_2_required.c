/* Needs ABI 1.2 (descriptor minor 2): a 1.1 host must refuse it, naming both versions. */
#include "fixture_sink.h"

FIXTURE_SINK_PLUGIN(sizeof(laforge_plugin_descriptor), 1, 2, "abi_1_2_required",
                    LAFORGE_CAP_AUDIT_SINK, FIXTURE_SINK_SCHEMA, fixture_sink_create,
                    fixture_sink_write)
