/*
 * A sink that stores nothing: the benchmark's way to measure what crossing the C ABI costs
 * (laforge-bench abi), with no I/O in the way. Not for production use.
 */
#include <stdlib.h>
#include "laforge_plugin.h"

struct laforge_instance {
    uint64_t records_seen;
};

static int32_t null_create(const char *config_json, size_t config_len, const laforge_host_api *host,
                           laforge_instance **out) {
    (void)config_json;
    (void)config_len;
    (void)host;
    *out = calloc(1, sizeof(laforge_instance));
    return *out ? LAFORGE_OK : LAFORGE_INTERNAL_ERROR;
}

static int32_t null_write(laforge_instance *instance, const laforge_audit_batch *batch, size_t *stored) {
    instance->records_seen += batch->count;
    *stored = batch->count;
    return LAFORGE_OK;
}

static const char *null_last_error(laforge_instance *instance) {
    (void)instance;
    return "";
}

static void null_destroy(laforge_instance *instance) { free(instance); }

static const laforge_audit_sink_vtable null_sink = {
    sizeof(laforge_audit_sink_vtable), LAFORGE_THREADING_SERIAL,
    "{\"type\":\"object\",\"additionalProperties\":false}",
    null_create, null_write, NULL, NULL, null_last_error, null_destroy};

static const laforge_plugin_descriptor descriptor = {
    sizeof(laforge_plugin_descriptor), LAFORGE_ABI_VERSION_MAJOR, LAFORGE_ABI_VERSION_MINOR,
    "bench-null-sink", "1.0.0", "Discards every batch (benchmark only)", "Apache-2.0",
    LAFORGE_CAP_AUDIT_SINK, &null_sink, NULL, NULL};

LAFORGE_EXPORT const laforge_plugin_descriptor *laforge_plugin_entry(const laforge_host_info *host,
                                                                     const char **refusal) {
    (void)host;
    (void)refusal;
    return &descriptor;
}
