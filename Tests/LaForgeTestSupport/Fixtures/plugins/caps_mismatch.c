/* A valid audit sink that also sets LAFORGE_CAP_SECRET_BACKEND without a secret_backend vtable:
 * refused, naming the capability whose vtable is missing. */
#include "fixture_sink.h"

FIXTURE_SINK_PLUGIN(sizeof(laforge_plugin_descriptor), 1, 0, "caps_mismatch",
                    LAFORGE_CAP_AUDIT_SINK | LAFORGE_CAP_SECRET_BACKEND, FIXTURE_SINK_SCHEMA,
                    fixture_sink_create, fixture_sink_write)
