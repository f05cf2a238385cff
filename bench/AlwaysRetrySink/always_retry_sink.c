/*
 * A sink that is always down: every write returns LAFORGE_RETRY with nothing stored, as a SIEM
 * that refuses connections would. `laforge-bench sink-down` compiles it at run time
 *   cc -std=c99 -shared -fPIC -I Sources/PluginABI/include -o ... always_retry_sink.c
 * and checks that the backlog stays in the journal, not in the host's memory. Not for production use.
 */
#include <stdlib.h>
#include "laforge_plugin.h"

struct laforge_instance {
    uint64_t writes_refused;
};

static int32_t retry_create(const char *config_json, size_t config_len, const laforge_host_api *host,
                            laforge_instance **out) {
    (void)config_json;
    (void)config_len;
    (void)host;
    *out = calloc(1, sizeof(laforge_instance));
    return *out ? LAFORGE_OK : LAFORGE_INTERNAL_ERROR;
}

/* Stores nothing (*stored stays 0, as the host set it) and asks to be retried. */
static int32_t retry_write(laforge_instance *instance, const laforge_audit_batch *batch, size_t *stored) {
    (void)batch;
    (void)stored;
    instance->writes_refused++;
    return LAFORGE_RETRY;
}

static const char *retry_last_error(laforge_instance *instance) {
    (void)instance;
    return "the receiver is down (bench always-retry sink)";
}

static void retry_destroy(laforge_instance *instance) { free(instance); }

static const laforge_audit_sink_vtable always_retry_sink = {
    sizeof(laforge_audit_sink_vtable), LAFORGE_THREADING_SERIAL,
    "{\"type\":\"object\",\"additionalProperties\":false}",
    retry_create, retry_write, NULL, NULL, retry_last_error, retry_destroy};

static const laforge_plugin_descriptor descriptor = {
    sizeof(laforge_plugin_descriptor), LAFORGE_ABI_VERSION_MAJOR, LAFORGE_ABI_VERSION_MINOR,
    "bench-always-retry-sink", "1.0.0", "Refuses every batch with RETRY (benchmark only)", "Apache-2.0",
    LAFORGE_CAP_AUDIT_SINK, &always_retry_sink, NULL};

LAFORGE_EXPORT const laforge_plugin_descriptor *laforge_plugin_entry(const laforge_host_info *host,
                                                                     const char **refusal) {
    (void)host;
    (void)refusal;
    return &descriptor;
}
