/* A valid minimal ABI 1.0 audit sink: the loader accepts it. */
#include "fixture_sink.h"

FIXTURE_SINK_PLUGIN(sizeof(laforge_plugin_descriptor), 1, 0, "abi_1_0_sink", LAFORGE_CAP_AUDIT_SINK,
                    FIXTURE_SINK_SCHEMA, fixture_sink_create, fixture_sink_write)
