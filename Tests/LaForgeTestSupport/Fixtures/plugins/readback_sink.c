/* readback_sink.c — an audit sink that can read back what it stored (ABI 1.1 read_back), for
 * the host's `verify chain --sink` and `audit query --sink` tests, independent of any server.
 *
 * Configuration (canonical JSON, defaults applied by the host from the schema below):
 *   path         the file it stores records in (required): per record a header line
 *                `<chain> <kind> <seq> <length>` then exactly <length> data bytes and a newline
 *   tamper_seq   read_back hands out entry <tamper_seq> with one byte changed (`"v":1}` read
 *                back as `"v":2}`): a lying sink (default -1: never)
 *   drop_seq     read_back leaves out entry <drop_seq> (default -1: never)
 *   forget_on_restart  create does not read the file, so a batch re-sent to a new instance
 *                is stored again: idempotent within an instance only (default false)
 *
 * Idempotent like a real sink: create reads the file to learn the highest entry seq and
 * checkpoint size stored per file, and write skips records at or below them.
 * State is per instance (no globals). Compiles with -std=c99 -pedantic -Wall -Wextra -Werror. */
#define _POSIX_C_SOURCE 200809L

#include "fixture_sink.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char readback_schema[] =
    "{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"path\"],\"properties\":{"
    "\"path\":{\"type\":\"string\",\"minLength\":1},"
    "\"tamper_seq\":{\"type\":\"integer\",\"minimum\":-1,\"default\":-1},"
    "\"drop_seq\":{\"type\":\"integer\",\"minimum\":-1,\"default\":-1},"
    "\"forget_on_restart\":{\"type\":\"boolean\",\"default\":false}}}";

typedef struct readback_sink {
    char path[1024];
    long long tamper_seq;
    long long drop_seq;
    long long last_entry;
    long long last_checkpoint;
    char last_error[512];
} readback_sink;

static const char *readback_find(const char *json, const char *key) {
    char pattern[64];
    const char *found;
    if (strlen(key) + 4 > sizeof pattern) return NULL;
    sprintf(pattern, "\"%s\":", key);
    found = strstr(json, pattern);
    return found == NULL ? NULL : found + strlen(pattern);
}

static int readback_copy_string(const char *value, char *out, size_t capacity) {
    size_t length = 0;
    if (value == NULL || *value != '"') return -1;
    for (value++; *value != '"'; value++) {
        char c = *value;
        if (c == '\0' || c == '\\') return -1;
        if (length + 1 >= capacity) return -1;
        out[length++] = c;
    }
    out[length] = '\0';
    return 0;
}

/* Calls `each` for every stored record; stops when it returns non-zero. 0, or -1 on a read
 * error (last_error set). A missing file holds nothing. */
typedef int (*readback_each)(readback_sink *sink, void *context, const char *chain, int kind, long long seq,
                             char *data, size_t length);

static int readback_scan(readback_sink *sink, readback_each each, void *context) {
    FILE *file = fopen(sink->path, "rb");
    char header[256];
    int result = 0;
    if (file == NULL) return errno == ENOENT ? 0 : -1;
    while (fgets(header, sizeof header, file) != NULL) {
        char chain[128];
        int kind;
        long long seq;
        unsigned long length;
        char *data;
        if (sscanf(header, "%127s %d %lld %lu", chain, &kind, &seq, &length) != 4) {
            strcpy(sink->last_error, "readback: a garbled header line in the file");
            result = -1;
            break;
        }
        data = (char *)malloc(length + 1);
        if (data == NULL || fread(data, 1, length + 1, file) != length + 1) {
            free(data);
            strcpy(sink->last_error, "readback: the file ends inside a record");
            result = -1;
            break;
        }
        if (each(sink, context, chain, kind, seq, data, length) != 0) {
            free(data);
            break;
        }
        free(data);
    }
    fclose(file);
    return result;
}

static int readback_learn(readback_sink *sink, void *context, const char *chain, int kind, long long seq, char *data,
                          size_t length) {
    (void)context;
    (void)chain;
    (void)data;
    (void)length;
    if (kind == LAFORGE_RECORD_ENTRY && seq > sink->last_entry) sink->last_entry = seq;
    if (kind == LAFORGE_RECORD_CHECKPOINT && seq > sink->last_checkpoint) sink->last_checkpoint = seq;
    return 0;
}

static int32_t readback_create(const char *config_json, size_t config_len, const laforge_host_api *host,
                               laforge_instance **out) {
    readback_sink *sink;
    const char *value;
    (void)config_len;
    (void)host;
    if (config_json == NULL || out == NULL) return LAFORGE_INVALID_ARGUMENT;
    sink = (readback_sink *)calloc(1, sizeof *sink);
    if (sink == NULL) return LAFORGE_INTERNAL_ERROR;
    *out = (laforge_instance *)sink;
    if (readback_copy_string(readback_find(config_json, "path"), sink->path, sizeof sink->path) != 0) {
        strcpy(sink->last_error, "readback: path must be a plain string of under 1024 bytes");
        return LAFORGE_INVALID_ARGUMENT;
    }
    value = readback_find(config_json, "tamper_seq");
    sink->tamper_seq = value == NULL ? -1 : strtoll(value, NULL, 10);
    value = readback_find(config_json, "drop_seq");
    sink->drop_seq = value == NULL ? -1 : strtoll(value, NULL, 10);
    sink->last_entry = -1;
    sink->last_checkpoint = -1;
    value = readback_find(config_json, "forget_on_restart");
    if (value != NULL && strncmp(value, "true", 4) == 0) return LAFORGE_OK;
    if (readback_scan(sink, readback_learn, NULL) != 0) return LAFORGE_INTERNAL_ERROR;
    return LAFORGE_OK;
}

static int32_t readback_write(laforge_instance *instance, const laforge_audit_batch *batch, size_t *stored) {
    readback_sink *sink = (readback_sink *)instance;
    FILE *file;
    size_t index;
    int failed;
    if (sink == NULL || batch == NULL || stored == NULL) return LAFORGE_INVALID_ARGUMENT;
    file = fopen(sink->path, "ab");
    if (file == NULL) {
        sprintf(sink->last_error, "readback: cannot open the file: errno %d", errno);
        return LAFORGE_RETRY;
    }
    for (index = 0; index < batch->count; index++) {
        const laforge_audit_record *record = batch->records[index];
        long long seq = (long long)record->seq;
        if (record->kind == LAFORGE_RECORD_ENTRY) {
            if (seq <= sink->last_entry) continue;
            sink->last_entry = seq;
        } else {
            if (seq <= sink->last_checkpoint) continue;
            sink->last_checkpoint = seq;
        }
        fprintf(file, "%s %u %lld %lu\n", batch->chain_id, (unsigned)record->kind, seq, (unsigned long)record->data_len);
        fwrite(record->data, 1, record->data_len, file);
        fputc('\n', file);
    }
    failed = fflush(file) != 0 || fsync(fileno(file)) != 0;
    if (fclose(file) != 0) failed = 1;
    if (failed) {
        sprintf(sink->last_error, "readback: cannot write the file: errno %d", errno);
        return LAFORGE_RETRY;
    }
    *stored = batch->count;
    return LAFORGE_OK;
}

typedef struct readback_visit_context {
    const char *chain_id; /* NULL: the first chain found, and every record must be of it */
    char first_chain[128];
    int mixed;
    uint64_t from_seq;
    int32_t (*visit)(void *visit_ctx, const laforge_audit_record *record, const char *location);
    void *visit_ctx;
} readback_visit_context;

static int readback_hand_out(readback_sink *sink, void *raw, const char *chain, int kind, long long seq, char *data,
                             size_t length) {
    readback_visit_context *context = (readback_visit_context *)raw;
    laforge_audit_record record;
    char location[256];
    if (context->chain_id == NULL) {
        if (context->first_chain[0] == '\0') strcpy(context->first_chain, chain);
        if (strcmp(context->first_chain, chain) != 0) {
            context->mixed = 1;
            sprintf(sink->last_error, "readback: the file holds several chains (%s, %s): name one", context->first_chain,
                    chain);
            return 1;
        }
    } else if (strcmp(context->chain_id, chain) != 0) {
        return 0;
    }
    if (kind == LAFORGE_RECORD_ENTRY && (uint64_t)seq < context->from_seq) return 0;
    if (kind == LAFORGE_RECORD_CHECKPOINT && (uint64_t)seq <= context->from_seq && !(seq == 0 && context->from_seq == 0))
        return 0;
    if (kind == LAFORGE_RECORD_ENTRY && seq == sink->drop_seq) return 0;
    if (kind == LAFORGE_RECORD_ENTRY && seq == sink->tamper_seq && length > 2) {
        /* `..."v":1}` becomes `..."v":2}`: valid JSON, different bytes, so a different hash. */
        data[length - 2] = data[length - 2] == '1' ? '2' : '1';
    }
    memset(&record, 0, sizeof record);
    record.struct_size = sizeof record;
    record.kind = (uint32_t)kind;
    record.seq = (uint64_t)seq;
    record.data = data;
    record.data_len = length;
    sprintf(location, "readback file record %s/%lld", kind == LAFORGE_RECORD_ENTRY ? "entry" : "checkpoint", seq);
    return context->visit(context->visit_ctx, &record, location) != 0;
}

static int32_t readback_read_back(laforge_instance *instance, const char *chain_id, uint64_t from_seq,
                                  int32_t (*visit)(void *visit_ctx, const laforge_audit_record *record,
                                                   const char *location),
                                  void *visit_ctx) {
    readback_sink *sink = (readback_sink *)instance;
    readback_visit_context context;
    if (sink == NULL || visit == NULL) return LAFORGE_INVALID_ARGUMENT;
    memset(&context, 0, sizeof context);
    context.chain_id = chain_id;
    context.from_seq = from_seq;
    context.visit = visit;
    context.visit_ctx = visit_ctx;
    if (readback_scan(sink, readback_hand_out, &context) != 0) return LAFORGE_INTERNAL_ERROR;
    return context.mixed ? LAFORGE_INVALID_ARGUMENT : LAFORGE_OK;
}

static const char *readback_last_error(laforge_instance *instance) {
    readback_sink *sink = (readback_sink *)instance;
    return sink == NULL ? "" : sink->last_error;
}

static void readback_destroy(laforge_instance *instance) { free(instance); }

static const laforge_audit_sink_vtable readback_vtable = {
    sizeof(laforge_audit_sink_vtable), LAFORGE_THREADING_SERIAL, readback_schema, readback_create, readback_write,
    NULL, NULL, readback_last_error, readback_destroy, readback_read_back, NULL};

static const laforge_plugin_descriptor readback_descriptor =
    FIXTURE_DESCRIPTOR(sizeof(laforge_plugin_descriptor), LAFORGE_ABI_VERSION_MAJOR, 0, "readback_sink",
                       LAFORGE_CAP_AUDIT_SINK, &readback_vtable, NULL);

FIXTURE_ENTRY(readback_descriptor)
