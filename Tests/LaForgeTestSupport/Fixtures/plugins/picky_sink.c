/* picky_sink.c — an audit sink that refuses every record for good until an operator "fixes"
 * it, for the dead-letter replay tests.
 *
 * Configuration (canonical JSON):
 *   path         the file it stores `<seq> entry` / `<size> checkpoint` lines in (required)
 *   calls        a file it appends the same line to for every record it is handed while
 *                accepting, duplicates included, so a test can count deliveries (required)
 *   accept_file  while this file does not exist, the first record of every batch is answered
 *                LAFORGE_PERMANENT_ERROR (stored 0); once it exists, records are stored (required)
 *   delay_ms     sleep this long before storing each record (default 0), so a test can kill the
 *                host in the middle of a replay
 *
 * Idempotent by (kind, seq) in any order, as the ABI asks of every sink: a record whose line the
 * file already holds is not stored again (a replay re-sends the record in doubt after a crash).
 * Compiles with -std=c99 -pedantic -Wall -Wextra -Werror. */
#define _POSIX_C_SOURCE 200809L

#include "fixture_sink.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char picky_schema[] =
    "{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"path\",\"calls\",\"accept_file\"],\"properties\":{"
    "\"path\":{\"type\":\"string\",\"minLength\":1},"
    "\"calls\":{\"type\":\"string\",\"minLength\":1},"
    "\"accept_file\":{\"type\":\"string\",\"minLength\":1},"
    "\"delay_ms\":{\"type\":\"integer\",\"minimum\":0,\"default\":0}}}";

typedef struct picky_sink {
    char path[1024];
    char calls[1024];
    char accept_file[1024];
    long long delay_ms;
    char last_error[256];
} picky_sink;

/* The text after `"key":` in canonical JSON (keys are unique and unescaped), or NULL. */
static const char *picky_find(const char *json, const char *key) {
    char pattern[64];
    const char *found;
    if (strlen(key) + 4 > sizeof pattern) return NULL;
    sprintf(pattern, "\"%s\":", key);
    found = strstr(json, pattern);
    return found == NULL ? NULL : found + strlen(pattern);
}

/* Copies a JSON string value without escapes (test paths have none). 0 on success. */
static int picky_copy_string(const char *value, char *out, size_t capacity) {
    size_t length = 0;
    if (value == NULL || *value != '"') return -1;
    for (value++; *value != '"'; value++) {
        if (*value == '\0' || *value == '\\' || length + 1 >= capacity) return -1;
        out[length++] = *value;
    }
    out[length] = '\0';
    return 0;
}

static int32_t picky_create(const char *config_json, size_t config_len, const laforge_host_api *host,
                            laforge_instance **out) {
    picky_sink *sink;
    const char *value;
    (void)config_len;
    (void)host;
    if (config_json == NULL || out == NULL) return LAFORGE_INVALID_ARGUMENT;
    sink = (picky_sink *)calloc(1, sizeof *sink);
    if (sink == NULL) return LAFORGE_INTERNAL_ERROR;
    *out = (laforge_instance *)sink;
    if (picky_copy_string(picky_find(config_json, "path"), sink->path, sizeof sink->path) != 0 ||
        picky_copy_string(picky_find(config_json, "calls"), sink->calls, sizeof sink->calls) != 0 ||
        picky_copy_string(picky_find(config_json, "accept_file"), sink->accept_file, sizeof sink->accept_file) != 0) {
        strcpy(sink->last_error, "picky: path, calls and accept_file must be plain strings of under 1024 bytes");
        return LAFORGE_INVALID_ARGUMENT;
    }
    value = picky_find(config_json, "delay_ms");
    sink->delay_ms = value == NULL ? 0 : strtoll(value, NULL, 10);
    return LAFORGE_OK;
}

/* Whether `file` holds exactly the line `line` (with its newline). */
static int picky_holds(const char *file_path, const char *line) {
    FILE *file = fopen(file_path, "r");
    char read[128];
    int found = 0;
    if (file == NULL) return 0;
    while (!found && fgets(read, sizeof read, file) != NULL) found = strcmp(read, line) == 0;
    fclose(file);
    return found;
}

/* Appends `line` to `file_path` and syncs it; 0 on success. */
static int picky_append(picky_sink *sink, const char *file_path, const char *line) {
    FILE *file = fopen(file_path, "a");
    int failed;
    if (file == NULL) {
        sprintf(sink->last_error, "picky: cannot open %.200s: errno %d", file_path, errno);
        return -1;
    }
    failed = fputs(line, file) < 0 || fflush(file) != 0 || fsync(fileno(file)) != 0;
    if (fclose(file) != 0) failed = 1;
    if (failed) sprintf(sink->last_error, "picky: cannot write %.200s: errno %d", file_path, errno);
    return failed ? -1 : 0;
}

static int32_t picky_write(laforge_instance *instance, const laforge_audit_batch *batch, size_t *stored) {
    picky_sink *sink = (picky_sink *)instance;
    size_t index;
    if (sink == NULL || batch == NULL || stored == NULL) return LAFORGE_INVALID_ARGUMENT;
    *stored = 0;
    if (batch->count > 0 && access(sink->accept_file, F_OK) != 0) {
        sprintf(sink->last_error, "picky: refusing %s %llu for good until %.200s exists",
                batch->records[0]->kind == LAFORGE_RECORD_ENTRY ? "entry" : "checkpoint",
                (unsigned long long)batch->records[0]->seq, sink->accept_file);
        return LAFORGE_PERMANENT_ERROR;
    }
    for (index = 0; index < batch->count; index++) {
        const laforge_audit_record *record = batch->records[index];
        char line[64];
        sprintf(line, "%llu %s\n", (unsigned long long)record->seq,
                record->kind == LAFORGE_RECORD_ENTRY ? "entry" : "checkpoint");
        if (sink->delay_ms > 0) {
            struct timespec pause;
            pause.tv_sec = (time_t)(sink->delay_ms / 1000);
            pause.tv_nsec = (long)(sink->delay_ms % 1000) * 1000000L;
            nanosleep(&pause, NULL);
        }
        if (picky_append(sink, sink->calls, line) != 0) return LAFORGE_RETRY;
        if (!picky_holds(sink->path, line) && picky_append(sink, sink->path, line) != 0) return LAFORGE_RETRY;
        *stored = index + 1;
    }
    return LAFORGE_OK;
}

static const char *picky_last_error(laforge_instance *instance) {
    picky_sink *sink = (picky_sink *)instance;
    return sink == NULL ? "" : sink->last_error;
}

static void picky_destroy(laforge_instance *instance) { free(instance); }

static const laforge_audit_sink_vtable picky_vtable = {
    sizeof(laforge_audit_sink_vtable), LAFORGE_THREADING_SERIAL, picky_schema, picky_create, picky_write, NULL, NULL,
    picky_last_error, picky_destroy, NULL, NULL};

static const laforge_plugin_descriptor picky_descriptor =
    FIXTURE_DESCRIPTOR(sizeof(laforge_plugin_descriptor), LAFORGE_ABI_VERSION_MAJOR, LAFORGE_ABI_VERSION_MINOR,
                       "picky_sink", LAFORGE_CAP_AUDIT_SINK, &picky_vtable, NULL);

FIXTURE_ENTRY(picky_descriptor)
