/* An audit sink vtable whose required `write` is NULL: refused as a half-filled vtable. */
#include "fixture_sink.h"

FIXTURE_SINK_PLUGIN(sizeof(laforge_plugin_descriptor), 1, 0, "null_required_function",
                    LAFORGE_CAP_AUDIT_SINK, FIXTURE_SINK_SCHEMA, fixture_sink_create, NULL)
