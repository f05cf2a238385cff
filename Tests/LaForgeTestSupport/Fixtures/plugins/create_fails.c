/* create returns LAFORGE_INVALID_ARGUMENT but still hands out an instance whose last_error is
 * "bad endpoint: connection refused". The host must read that message, then call destroy (which
 * logs "create_fails: destroy called" at DEBUG so a test can see it) and nothing else. */
#include "fixture_sink.h"

#include <string.h>

static int32_t failing_create(const char *config_json, size_t config_len,
                              const laforge_host_api *host, laforge_instance **out) {
    fixture_sink *sink;
    int32_t status = fixture_sink_create(config_json, config_len, host, out);
    if (status != LAFORGE_OK) return status;
    sink = (fixture_sink *)*out;
    strcpy(sink->last_error, "bad endpoint: connection refused");
    return LAFORGE_INVALID_ARGUMENT;
}

/* Logs through the host (valid until destroy returns), then frees. */
static void logging_destroy(laforge_instance *instance) {
    fixture_sink *sink = (fixture_sink *)instance;
    if (sink != NULL && sink->host != NULL && sink->host->log != NULL) {
        sink->host->log(sink->host->host_ctx, LAFORGE_LOG_DEBUG, "create_fails: destroy called");
    }
    fixture_sink_destroy(instance);
}

static const laforge_audit_sink_vtable sink = {
    sizeof(laforge_audit_sink_vtable), LAFORGE_THREADING_SERIAL, FIXTURE_SINK_SCHEMA,
    failing_create, fixture_sink_write, NULL, NULL, fixture_sink_last_error, logging_destroy, NULL,
    NULL};

static const laforge_plugin_descriptor descriptor =
    FIXTURE_DESCRIPTOR(sizeof(laforge_plugin_descriptor), 1, 0, "create_fails",
                       LAFORGE_CAP_AUDIT_SINK, &sink, NULL);

FIXTURE_ENTRY(descriptor)
