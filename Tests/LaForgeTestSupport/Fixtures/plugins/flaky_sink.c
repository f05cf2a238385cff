/* flaky_sink.c — an audit sink that fails on purpose, for the delivery tests.
 *
 * Configuration (canonical JSON, defaults applied by the host from the schema below):
 *   path           the file it appends `<seq> entry` / `<size> checkpoint` lines to (required)
 *   fail_first     return LAFORGE_RETRY (with a last_error) for the first N write calls of the
 *                  instance, storing nothing (default 0)
 *   refuse_access  fail those calls with LAFORGE_ACCESS_DENIED instead (default false), as a
 *                  sink whose credentials were rejected
 *   permanent_seq  return LAFORGE_PERMANENT_ERROR for the entry with this seq, with *stored = its
 *                  index in the batch, after storing the records before it (default -1: never)
 *
 * Idempotent like a real sink must be: on create it reads the file back to learn the highest
 * entry seq and checkpoint size already stored, and skips records at or below them, so a batch
 * re-sent after RETRY never duplicates a line. The tests assert on the file's exact lines.
 *
 * State is per instance (no globals). Compiles with -std=c99 -pedantic -Wall -Wextra -Werror. */
#define _POSIX_C_SOURCE 200809L

#include "fixture_sink.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char flaky_schema[] =
    "{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"path\"],\"properties\":{"
    "\"path\":{\"type\":\"string\",\"minLength\":1},"
    "\"fail_first\":{\"type\":\"integer\",\"minimum\":0,\"default\":0},"
    "\"refuse_access\":{\"type\":\"boolean\",\"default\":false},"
    "\"permanent_seq\":{\"type\":\"integer\",\"minimum\":-1,\"default\":-1}}}";

typedef struct flaky_sink {
    char path[1024];
    long long fail_first;
    int refuse_access;
    long long permanent_seq;
    long long write_calls;
    long long last_entry;      /* highest entry seq stored, -1 when none */
    long long last_checkpoint; /* largest checkpoint size stored, -1 when none */
    char last_error[256];
} flaky_sink;

/* The text after `"key":` in canonical JSON (keys are unique and unescaped), or NULL. */
static const char *flaky_find(const char *json, const char *key) {
    char pattern[64];
    const char *found;
    if (strlen(key) + 4 > sizeof pattern) return NULL;
    sprintf(pattern, "\"%s\":", key);
    found = strstr(json, pattern);
    return found == NULL ? NULL : found + strlen(pattern);
}

/* Copies a JSON string value (simple escapes only; \uXXXX is refused). 0 on success. */
static int flaky_copy_string(const char *value, char *out, size_t capacity) {
    size_t length = 0;
    if (value == NULL || *value != '"') return -1;
    for (value++; *value != '"'; value++) {
        char c = *value;
        if (c == '\0') return -1;
        if (c == '\\') {
            value++;
            switch (*value) {
            case '"': c = '"'; break;
            case '\\': c = '\\'; break;
            case '/': c = '/'; break;
            default: return -1;
            }
        }
        if (length + 1 >= capacity) return -1;
        out[length++] = c;
    }
    out[length] = '\0';
    return 0;
}

/* Learns what an earlier instance already stored in the file. */
static void flaky_read_back(flaky_sink *sink) {
    FILE *file = fopen(sink->path, "r");
    char line[128];
    sink->last_entry = -1;
    sink->last_checkpoint = -1;
    if (file == NULL) return;
    while (fgets(line, sizeof line, file) != NULL) {
        long long seq;
        char kind[32];
        if (sscanf(line, "%lld %31s", &seq, kind) != 2) continue;
        if (strcmp(kind, "entry") == 0 && seq > sink->last_entry) sink->last_entry = seq;
        if (strcmp(kind, "checkpoint") == 0 && seq > sink->last_checkpoint) sink->last_checkpoint = seq;
    }
    fclose(file);
}

static int32_t flaky_create(const char *config_json, size_t config_len, const laforge_host_api *host,
                            laforge_instance **out) {
    flaky_sink *sink;
    const char *value;
    (void)config_len;
    (void)host;
    if (config_json == NULL || out == NULL) return LAFORGE_INVALID_ARGUMENT;
    sink = (flaky_sink *)calloc(1, sizeof *sink);
    if (sink == NULL) return LAFORGE_INTERNAL_ERROR;
    *out = (laforge_instance *)sink;
    if (flaky_copy_string(flaky_find(config_json, "path"), sink->path, sizeof sink->path) != 0) {
        strcpy(sink->last_error, "flaky: path must be a plain string of under 1024 bytes");
        return LAFORGE_INVALID_ARGUMENT;
    }
    value = flaky_find(config_json, "fail_first");
    sink->fail_first = value == NULL ? 0 : strtoll(value, NULL, 10);
    value = flaky_find(config_json, "refuse_access");
    sink->refuse_access = value != NULL && strncmp(value, "true", 4) == 0;
    value = flaky_find(config_json, "permanent_seq");
    sink->permanent_seq = value == NULL ? -1 : strtoll(value, NULL, 10);
    flaky_read_back(sink);
    return LAFORGE_OK;
}

/* Appends the lines for records [0, count) not stored before; 0 on success. */
static int flaky_append(flaky_sink *sink, const laforge_audit_batch *batch, size_t count) {
    FILE *file = fopen(sink->path, "a");
    size_t index;
    int failed;
    if (file == NULL) {
        sprintf(sink->last_error, "flaky: cannot open the file: errno %d", errno);
        return -1;
    }
    for (index = 0; index < count; index++) {
        const laforge_audit_record *record = batch->records[index];
        long long seq = (long long)record->seq;
        if (record->kind == LAFORGE_RECORD_ENTRY) {
            if (seq <= sink->last_entry) continue;
            fprintf(file, "%lld entry\n", seq);
            sink->last_entry = seq;
        } else {
            if (seq <= sink->last_checkpoint) continue;
            fprintf(file, "%lld checkpoint\n", seq);
            sink->last_checkpoint = seq;
        }
    }
    failed = fflush(file) != 0 || fsync(fileno(file)) != 0;
    if (fclose(file) != 0) failed = 1;
    if (failed) sprintf(sink->last_error, "flaky: cannot write the file: errno %d", errno);
    return failed ? -1 : 0;
}

static int32_t flaky_write(laforge_instance *instance, const laforge_audit_batch *batch, size_t *stored) {
    flaky_sink *sink = (flaky_sink *)instance;
    size_t index;
    if (sink == NULL || batch == NULL || stored == NULL) return LAFORGE_INVALID_ARGUMENT;
    sink->write_calls++;
    if (sink->write_calls <= sink->fail_first) {
        sprintf(sink->last_error, "flaky: failing write call %lld of the first %lld on purpose%s", sink->write_calls,
                sink->fail_first, sink->refuse_access ? " (access denied)" : "");
        return sink->refuse_access ? LAFORGE_ACCESS_DENIED : LAFORGE_RETRY;
    }
    for (index = 0; index < batch->count; index++) {
        const laforge_audit_record *record = batch->records[index];
        if (record->kind == LAFORGE_RECORD_ENTRY && sink->permanent_seq >= 0 &&
            (long long)record->seq == sink->permanent_seq) {
            if (flaky_append(sink, batch, index) != 0) return LAFORGE_RETRY;
            *stored = index;
            sprintf(sink->last_error, "flaky: entry %lld is refused on purpose", sink->permanent_seq);
            return LAFORGE_PERMANENT_ERROR;
        }
    }
    if (flaky_append(sink, batch, batch->count) != 0) return LAFORGE_RETRY;
    *stored = batch->count;
    return LAFORGE_OK;
}

static const char *flaky_last_error(laforge_instance *instance) {
    flaky_sink *sink = (flaky_sink *)instance;
    return sink == NULL ? "" : sink->last_error;
}

static void flaky_destroy(laforge_instance *instance) { free(instance); }

static const laforge_audit_sink_vtable flaky_vtable = {
    sizeof(laforge_audit_sink_vtable), LAFORGE_THREADING_SERIAL, flaky_schema, flaky_create, flaky_write, NULL, NULL,
    flaky_last_error, flaky_destroy, NULL, NULL};

static const laforge_plugin_descriptor flaky_descriptor =
    FIXTURE_DESCRIPTOR(sizeof(laforge_plugin_descriptor), LAFORGE_ABI_VERSION_MAJOR, LAFORGE_ABI_VERSION_MINOR,
                       "flaky_sink", LAFORGE_CAP_AUDIT_SINK, &flaky_vtable, NULL);

FIXTURE_ENTRY(flaky_descriptor)
