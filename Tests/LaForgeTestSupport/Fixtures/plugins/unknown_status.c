/* write returns 42, a status the ABI does not define: the host treats it as an error and says
 * so, naming the value. */
#include "fixture_sink.h"

static int32_t unknown_status_write(laforge_instance *instance, const laforge_audit_batch *batch,
                                    size_t *stored) {
    (void)instance;
    (void)batch;
    (void)stored;
    return 42;
}

FIXTURE_SINK_PLUGIN(sizeof(laforge_plugin_descriptor), 1, 0, "unknown_status", LAFORGE_CAP_AUDIT_SINK,
                    FIXTURE_SINK_SCHEMA, fixture_sink_create, unknown_status_write)
