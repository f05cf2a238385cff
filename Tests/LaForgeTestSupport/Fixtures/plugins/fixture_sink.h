/*
 * fixture_sink.h — the minimal, valid ABI 1.0 audit sink that the loader fixtures share.
 *
 * Each fixture in this folder is one .c file that includes this header and then breaks exactly
 * one rule (a version, a size, a NULL pointer, a status), so a loader test that refuses it can
 * name that one rule. Functions a fixture replaces stay unused, hence FIXTURE_UNUSED.
 *
 * State is per instance (no globals), like a real plugin's.
 */
#ifndef LAFORGE_FIXTURE_SINK_H
#define LAFORGE_FIXTURE_SINK_H

#include "laforge_plugin.h"

#include <stdlib.h>

#if defined(__GNUC__)
#define FIXTURE_UNUSED __attribute__((unused))
#else
#define FIXTURE_UNUSED
#endif

/* Accepts only `{}` (the vtables below have a NULL config_schema unless a fixture says
 * otherwise), so config_json is not inspected. */
#define FIXTURE_SINK_SCHEMA NULL

typedef struct fixture_sink {
    const laforge_host_api *host; /* borrowed until destroy returns */
    unsigned long long records_stored;
    char last_error[256];
} fixture_sink;

/* Borrowed inputs; on success *out owns a fresh instance. Never called concurrently. */
static FIXTURE_UNUSED int32_t fixture_sink_create(const char *config_json, size_t config_len,
                                                  const laforge_host_api *host,
                                                  laforge_instance **out) {
    fixture_sink *sink;
    (void)config_json;
    (void)config_len;
    if (out == NULL) return LAFORGE_INVALID_ARGUMENT;
    sink = (fixture_sink *)calloc(1, sizeof *sink);
    if (sink == NULL) return LAFORGE_INTERNAL_ERROR;
    sink->host = host;
    *out = (laforge_instance *)sink;
    return LAFORGE_OK;
}

/* Counts the records as stored; the batch is borrowed. SERIAL. */
static FIXTURE_UNUSED int32_t fixture_sink_write(laforge_instance *instance,
                                                 const laforge_audit_batch *batch,
                                                 size_t *stored) {
    fixture_sink *sink = (fixture_sink *)instance;
    if (sink == NULL || batch == NULL || stored == NULL) return LAFORGE_INVALID_ARGUMENT;
    sink->records_stored += batch->count;
    *stored = batch->count;
    return LAFORGE_OK;
}

/* Plugin-owned, valid until the next call on the instance. */
static FIXTURE_UNUSED const char *fixture_sink_last_error(laforge_instance *instance) {
    fixture_sink *sink = (fixture_sink *)instance;
    return sink == NULL ? "" : sink->last_error;
}

/* Called once per instance, also after a failed create. */
static FIXTURE_UNUSED void fixture_sink_destroy(laforge_instance *instance) {
    free(instance);
}

/* A complete sink vtable with the given create and write (flush, health, read_back and reopen
 * are optional), declared 1.0-sized as a plugin built against the 1.0 header would. */
#define FIXTURE_SINK_VTABLE(schema, create_fn, write_fn)                                       \
    {                                                                                          \
        LAFORGE_AUDIT_SINK_VTABLE_SIZE_1_0, LAFORGE_THREADING_SERIAL, schema, create_fn,       \
            write_fn, NULL, NULL, fixture_sink_last_error, fixture_sink_destroy, NULL, NULL    \
    }

/* A 1.0 descriptor offering `caps` with the given vtables. */
#define FIXTURE_DESCRIPTOR(size, major, minor, name, caps, sink_vtable, secret_vtable)         \
    {                                                                                          \
        size, major, minor, name, "1.0.0", "LaForge loader test fixture", "Apache-2.0", caps,  \
            sink_vtable, secret_vtable, NULL                                                   \
    }

/* Declares the entry point (so -Wmissing-prototypes is happy) and defines it to return
 * `descriptor`. */
#define FIXTURE_ENTRY(descriptor)                                                              \
    LAFORGE_EXPORT const laforge_plugin_descriptor *laforge_plugin_entry(                      \
        const laforge_host_info *host, const char **refusal);                                  \
    LAFORGE_EXPORT const laforge_plugin_descriptor *laforge_plugin_entry(                      \
        const laforge_host_info *host, const char **refusal) {                                 \
        (void)host;                                                                            \
        (void)refusal;                                                                         \
        return &(descriptor);                                                                  \
    }

/* The whole plugin in one line: a sink vtable with `create_fn`/`write_fn` and `schema`, a
 * descriptor of `descriptor_size` bytes declaring ABI `major`.`minor` and `caps` (the secret
 * backend vtable is always NULL), and the entry point. Use it without a trailing semicolon. */
#define FIXTURE_SINK_PLUGIN(descriptor_size, major, minor, name, caps, schema, create_fn,         \
                            write_fn)                                                          \
    static const laforge_audit_sink_vtable fixture_vtable =                                    \
        FIXTURE_SINK_VTABLE(schema, create_fn, write_fn);                                      \
    static const laforge_plugin_descriptor fixture_descriptor =                                \
        FIXTURE_DESCRIPTOR(descriptor_size, major, minor, name, caps, &fixture_vtable, NULL);  \
    FIXTURE_ENTRY(fixture_descriptor)

#endif /* LAFORGE_FIXTURE_SINK_H */
