/*
 * example_plugin.c — the LaForge example plugin: an append-only file audit sink and a development
 * secret store in one shared library, written against laforge_plugin.h (ABI 1.0).
 *
 * Build (from the package root; `make -C examples` does the same):
 *     cc -std=c99 -pedantic -Wall -Wextra -Werror -fPIC -shared \
 *        -I Sources/PluginABI/include -o examples/libexample_plugin.so examples/example_plugin.c
 *
 * docs/ABI.md walks through this file section by section; keep the two in step.
 *
 * What it shows:
 *   - one entry point, one static descriptor, two capabilities;
 *   - reading every struct the host passes with the struct_size rule (rule 2 of the header);
 *   - per-instance state only: two instances of either capability work side by side;
 *   - the `*stored` contract of an audit sink's write, and idempotency on re-sent batches;
 *   - secret values that never reach a log line or an error message, and are zeroed on release.
 */

/* O_CLOEXEC, fdatasync, ftruncate, strerror_r (the XSI variant that returns int). */
#define _POSIX_C_SOURCE 200809L

#include "laforge_plugin.h"
#include "laforge_plugin_util.h" /* optional helpers: rule-2 reads, last_error, secure zeroing, config JSON */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

/* ---------------------------------------------------------------------------------------------
 * Small helpers shared by both capabilities (the rest come from laforge_plugin_util.h). None
 * of them touches global mutable state.
 * ------------------------------------------------------------------------------------------- */

/* The thread-safe strerror: plain strerror() may share one buffer between threads. */
static const char *describe_errno(int error, char *buffer, size_t size) {
    if (strerror_r(error, buffer, size) != 0) {
        laforge_format_error(buffer, size, "errno %d", error);
    }
    return buffer;
}

/* Logs through the host when the host API table has a log function. `message` must never hold
 * a secret value: the host cannot redact what it does not know is secret. */
static void host_log(const laforge_host_api *host, int32_t level, const char *message) {
    if (host != NULL && LAFORGE_HAS_FIELD(host, laforge_host_api, log) && host->log != NULL) {
        host->log(host->host_ctx, level, message);
    }
}

static char *duplicate_string(const char *text, size_t len) {
    char *copy = (char *)malloc(len + 1);
    if (copy != NULL) {
        memcpy(copy, text, len);
        copy[len] = '\0';
    }
    return copy;
}

/* ---------------------------------------------------------------------------------------------
 * Audit sink: appends one line per record to a local file.
 *
 *     <seq> <leaf hash, hex>                    for an entry
 *     checkpoint <tree size> <root hash, hex>   for a checkpoint
 *
 * SERIAL: the host never calls one instance from two threads at once, so the instance needs no
 * lock. Two instances (two files) are independent.
 * ------------------------------------------------------------------------------------------- */

static const char file_sink_schema[] =
    "{\"type\":\"object\","
    "\"properties\":{"
    "\"path\":{\"type\":\"string\",\"minLength\":1},"
    "\"token\":{\"type\":\"string\",\"x-laforge-secret\":true},"
    "\"fsync\":{\"type\":\"boolean\",\"default\":true}},"
    "\"required\":[\"path\"],"
    "\"additionalProperties\":false}";

typedef struct file_sink {
    const laforge_host_api *host; /* borrowed from create until destroy returns */
    int fd;                       /* -1 until opened */
    int fsync_enabled;
    char *path;                   /* for error messages */
    /* Idempotency within this process: a batch re-sent after RETRY skips what is stored. */
    uint64_t next_entry_seq;
    uint64_t next_checkpoint_size;
    char *lines;                  /* reused formatting buffer */
    size_t lines_capacity;
    char last_error[512];
} file_sink;

/* Longest line: "checkpoint " + 20 digits + " " + 64 hex digits + "\n". */
#define FILE_SINK_MAX_LINE 97

static file_sink *as_file_sink(laforge_instance *instance) {
    return (file_sink *)instance;
}

/* Creates a sink instance. Ownership: `config_json` and `host` are borrowed (host until destroy).
 * On failure *out is still set when an instance exists, so the host can read last_error. */
static int32_t file_sink_create(const char *config_json, size_t config_len,
                                const laforge_host_api *host, laforge_instance **out) {
    file_sink *sink;
    laforge_json_object config;
    const laforge_json_member *path, *token, *fsync_flag;
    char reason[128];

    if (out == NULL) return LAFORGE_INVALID_ARGUMENT;
    *out = NULL;
    sink = (file_sink *)calloc(1, sizeof *sink);
    if (sink == NULL) return LAFORGE_INTERNAL_ERROR;
    sink->fd = -1;
    sink->host = host;
    *out = (laforge_instance *)sink;

    if (laforge_json_parse_flat_object(config_json, config_len, &config, sink->last_error,
                               sizeof sink->last_error) != 0) {
        return LAFORGE_INVALID_ARGUMENT;
    }
    path = laforge_json_find(&config, "path");
    token = laforge_json_find(&config, "token");
    fsync_flag = laforge_json_find(&config, "fsync");
    if (path == NULL || path->kind != LAFORGE_JSON_STRING || path->string[0] == '\0') {
        laforge_format_error(sink->last_error, sizeof sink->last_error,
                     "\"path\" must be a non-empty string");
        laforge_json_object_free(&config);
        return LAFORGE_INVALID_ARGUMENT;
    }
    /* The host applied the schema's default, so `fsync` is present; stay safe if it is not. */
    sink->fsync_enabled = fsync_flag == NULL || fsync_flag->kind != LAFORGE_JSON_BOOLEAN ||
                          fsync_flag->boolean;
    if (token != NULL && token->kind == LAFORGE_JSON_STRING) {
        /* A real sink would authenticate with it. Say that it arrived, never what it is. */
        host_log(host, LAFORGE_LOG_INFO, "example sink: token configured");
    }
    sink->path = duplicate_string(path->string, strlen(path->string));
    laforge_json_object_free(&config);
    if (sink->path == NULL) {
        laforge_format_error(sink->last_error, sizeof sink->last_error, "out of memory");
        return LAFORGE_INTERNAL_ERROR;
    }

    sink->fd = open(sink->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (sink->fd < 0) {
        int error = errno;
        laforge_format_error(sink->last_error, sizeof sink->last_error, "cannot open %s: %s", sink->path,
                     describe_errno(error, reason, sizeof reason));
        return error == EACCES || error == EPERM ? LAFORGE_ACCESS_DENIED
                                                 : LAFORGE_INVALID_ARGUMENT;
    }
    return LAFORGE_OK;
}

/* Appends "<seq> <hex>\n" or "checkpoint <size> <hex>\n" to `out`; returns the bytes written. */
static size_t format_record_line(const laforge_audit_record *record, char *out) {
    static const char hex[] = "0123456789abcdef";
    size_t n, i;
    if (record->kind == LAFORGE_RECORD_CHECKPOINT) {
        n = (size_t)sprintf(out, "checkpoint %" PRIu64 " ", record->seq);
    } else {
        n = (size_t)sprintf(out, "%" PRIu64 " ", record->seq);
    }
    for (i = 0; i < 32; i++) {
        out[n++] = hex[record->hash[i] >> 4];
        out[n++] = hex[record->hash[i] & 0x0F];
    }
    out[n++] = '\n';
    return n;
}

/* Writes all of `len` bytes; returns 0 or an errno value. write() may store fewer bytes than
 * asked (a full disk, a signal), so one call is the goal, not a guarantee. */
static int write_fully(int fd, const char *bytes, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, bytes, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        bytes += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Stores a batch (borrowed for the call). SERIAL. Returns LAFORGE_OK with *stored = count, or
 * LAFORGE_RETRY with *stored = 0 after an I/O error (nothing of this batch is left in the file),
 * or LAFORGE_PERMANENT_ERROR with *stored = the index of a record that can never be stored,
 * after storing the records before it. */
static int32_t file_sink_write(laforge_instance *instance, const laforge_audit_batch *batch,
                               size_t *stored) {
    file_sink *sink = as_file_sink(instance);
    laforge_audit_batch view;
    size_t i, used = 0, usable;
    uint64_t next_entry_seq = sink == NULL ? 0 : sink->next_entry_seq;
    uint64_t next_checkpoint_size = sink == NULL ? 0 : sink->next_checkpoint_size;
    int32_t verdict = LAFORGE_OK;
    struct stat before;
    int error;
    char reason[128];

    if (sink == NULL || batch == NULL || stored == NULL) return LAFORGE_INVALID_ARGUMENT;
    *stored = 0;

    /* Rule 2: read min(our size, the host's size) and treat missing fields as absent. */
    memset(&view, 0, sizeof view);
    memcpy(&view, batch, batch->struct_size < sizeof view ? batch->struct_size : sizeof view);
    if (view.count == 0) return LAFORGE_OK;
    if (view.records == NULL) {
        laforge_format_error(sink->last_error, sizeof sink->last_error, "batch without records");
        return LAFORGE_INVALID_ARGUMENT;
    }
    if (view.count > SIZE_MAX / FILE_SINK_MAX_LINE) {
        laforge_format_error(sink->last_error, sizeof sink->last_error, "batch too large");
        return LAFORGE_INVALID_ARGUMENT;
    }
    if (sink->lines_capacity < view.count * FILE_SINK_MAX_LINE) {
        char *grown = (char *)realloc(sink->lines, view.count * FILE_SINK_MAX_LINE);
        if (grown == NULL) {
            laforge_format_error(sink->last_error, sizeof sink->last_error, "out of memory");
            return LAFORGE_RETRY;
        }
        sink->lines = grown;
        sink->lines_capacity = view.count * FILE_SINK_MAX_LINE;
    }

    /* Format every storable record; stop at the first one that can never be stored. */
    usable = view.count;
    for (i = 0; i < view.count; i++) {
        laforge_audit_record record;
        const laforge_audit_record *given = view.records[i];
        memset(&record, 0, sizeof record);
        if (given != NULL) {
            memcpy(&record, given,
                   given->struct_size < sizeof record ? given->struct_size : sizeof record);
        }
        if (record.hash == NULL ||
            (record.kind != LAFORGE_RECORD_ENTRY && record.kind != LAFORGE_RECORD_CHECKPOINT)) {
            laforge_format_error(sink->last_error, sizeof sink->last_error,
                         "record %zu of the batch (seq %" PRIu64 ", kind %" PRIu32
                         ") is missing, has no hash or has an unknown kind",
                         i, record.seq, record.kind);
            usable = i;
            verdict = LAFORGE_PERMANENT_ERROR;
            break;
        }
        /* A re-sent record this instance already stored: storing it twice must have the effect
         * of storing it once. */
        if (record.kind == LAFORGE_RECORD_ENTRY) {
            if (record.seq < next_entry_seq) continue;
            next_entry_seq = record.seq + 1;
        } else {
            if (record.seq < next_checkpoint_size) continue;
            next_checkpoint_size = record.seq + 1;
        }
        used += format_record_line(&record, sink->lines + used);
    }

    if (used > 0) {
        /* Remember where the file ended, to cut a torn tail off after a failed write. */
        if (fstat(sink->fd, &before) != 0) {
            error = errno;
            laforge_format_error(sink->last_error, sizeof sink->last_error, "cannot stat %s: %s",
                         sink->path, describe_errno(error, reason, sizeof reason));
            return LAFORGE_RETRY;
        }
        error = write_fully(sink->fd, sink->lines, used);
        if (error != 0) {
            int cut = ftruncate(sink->fd, before.st_size);
            laforge_format_error(sink->last_error, sizeof sink->last_error, "cannot append to %s: %s%s",
                         sink->path, describe_errno(error, reason, sizeof reason),
                         cut == 0 ? "" : " (and a partial line may remain)");
            return LAFORGE_RETRY;
        }
        if (sink->fsync_enabled && fdatasync(sink->fd) != 0) {
            /* After a failed fdatasync the kernel may have dropped the dirty pages: nothing of
             * this batch counts as stored, and the host sends it again. */
            error = errno;
            laforge_format_error(sink->last_error, sizeof sink->last_error, "cannot sync %s: %s",
                         sink->path, describe_errno(error, reason, sizeof reason));
            return LAFORGE_RETRY;
        }
    }

    /* Everything before `usable` is durable now: advance the idempotency marks. */
    sink->next_entry_seq = next_entry_seq;
    sink->next_checkpoint_size = next_checkpoint_size;
    *stored = usable;
    return verdict;
}

/* Makes every appended line durable. SERIAL. */
static int32_t file_sink_flush(laforge_instance *instance) {
    file_sink *sink = as_file_sink(instance);
    char reason[128];
    if (sink == NULL) return LAFORGE_INVALID_ARGUMENT;
    if (fdatasync(sink->fd) != 0) {
        int error = errno;
        laforge_format_error(sink->last_error, sizeof sink->last_error, "cannot sync %s: %s", sink->path,
                     describe_errno(error, reason, sizeof reason));
        return LAFORGE_RETRY;
    }
    return LAFORGE_OK;
}

/* Cheap liveness probe: the descriptor is still open. SERIAL. */
static int32_t file_sink_health(laforge_instance *instance) {
    file_sink *sink = as_file_sink(instance);
    struct stat status;
    char reason[128];
    if (sink == NULL) return LAFORGE_INVALID_ARGUMENT;
    if (fstat(sink->fd, &status) != 0) {
        int error = errno;
        laforge_format_error(sink->last_error, sizeof sink->last_error, "%s is not open: %s", sink->path,
                     describe_errno(error, reason, sizeof reason));
        return LAFORGE_RETRY;
    }
    return LAFORGE_OK;
}

/* The host's reopen (ABI 1.2), sent when it receives SIGHUP: logrotate renamed the file, so
 * open `path` again and append there. The new file is opened before the old one is closed, so a
 * failure leaves the sink writing where it did (RETRY; the host's next reopen tries again).
 * SERIAL: never runs during a write. */
static int32_t file_sink_reopen(laforge_instance *instance) {
    file_sink *sink = as_file_sink(instance);
    char reason[128];
    int fd;
    if (sink == NULL) return LAFORGE_INVALID_ARGUMENT;
    fd = open(sink->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        int error = errno;
        laforge_format_error(sink->last_error, sizeof sink->last_error, "cannot reopen %s: %s", sink->path,
                             describe_errno(error, reason, sizeof reason));
        return LAFORGE_RETRY;
    }
    close(sink->fd);
    sink->fd = fd;
    return LAFORGE_OK;
}

/* The message of the most recent failure; plugin-owned, valid until the next call. */
static const char *file_sink_last_error(laforge_instance *instance) {
    file_sink *sink = as_file_sink(instance);
    return sink == NULL ? "" : sink->last_error;
}

/* Closes the file and frees the instance; called once, after every other call returned. */
static void file_sink_destroy(laforge_instance *instance) {
    file_sink *sink = as_file_sink(instance);
    if (sink == NULL) return;
    if (sink->fd >= 0) close(sink->fd);
    free(sink->path);
    free(sink->lines);
    free(sink);
}

static const laforge_audit_sink_vtable file_sink_vtable = {
    sizeof(laforge_audit_sink_vtable),
    LAFORGE_THREADING_SERIAL,
    file_sink_schema,
    file_sink_create,
    file_sink_write,
    file_sink_flush,
    file_sink_health,
    file_sink_last_error,
    file_sink_destroy,
    NULL, /* read_back (ABI 1.1): verify this sink's file with `laforge verify chain --file` */
    file_sink_reopen, /* reopen (ABI 1.2): the host calls it on SIGHUP (logrotate) */
};

/* ---------------------------------------------------------------------------------------------
 * Secret backend: a development store read from a NAME=VALUE file at create.
 *
 * No key operations (encrypt, decrypt and generate_data_key are NULL): this is a store for
 * development machines, not a KMS. CONCURRENT: the table is only read after create, and the one
 * mutable field, last_error, is written under a lock.
 * ------------------------------------------------------------------------------------------- */

static const char dev_secrets_schema[] =
    "{\"type\":\"object\","
    "\"properties\":{\"secrets_file\":{\"type\":\"string\",\"minLength\":1}},"
    "\"required\":[\"secrets_file\"],"
    "\"additionalProperties\":false}";

typedef struct dev_secret {
    char *name;
    char *value;      /* NUL-terminated for convenience; value_len excludes the NUL */
    size_t value_len;
} dev_secret;

typedef struct dev_secrets {
    dev_secret *secrets;
    size_t count;
    pthread_mutex_t error_lock; /* guards last_error between concurrent calls */
    char last_error[512];
} dev_secrets;

static dev_secrets *as_dev_secrets(laforge_instance *instance) {
    return (dev_secrets *)instance;
}

/* Sets last_error. The buffer always ends in NUL, so a reader that races a later failure sees
 * a possibly mixed message but never reads past the buffer. */
static void dev_secrets_fail(dev_secrets *store, const char *format, ...) LAFORGE_PRINTF_LIKE(2, 3);
static void dev_secrets_fail(dev_secrets *store, const char *format, ...) {
    va_list args;
    pthread_mutex_lock(&store->error_lock);
    va_start(args, format);
    vsnprintf(store->last_error, sizeof store->last_error, format, args);
    va_end(args);
    pthread_mutex_unlock(&store->error_lock);
}

/* Reads the whole file at `path` into a NUL-terminated buffer the caller zeroes and frees. */
static int read_whole_file(const char *path, char **out, size_t *out_len, int *error) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat status;
    char *bytes;
    size_t len = 0;

    if (fd < 0 || fstat(fd, &status) != 0) {
        *error = errno;
        if (fd >= 0) close(fd);
        return -1;
    }
    bytes = (char *)malloc((size_t)status.st_size + 1);
    if (bytes == NULL) {
        *error = ENOMEM;
        close(fd);
        return -1;
    }
    while (len < (size_t)status.st_size) {
        ssize_t n = read(fd, bytes + len, (size_t)status.st_size - len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            *error = errno;
            laforge_secure_zero(bytes, len);
            free(bytes);
            close(fd);
            return -1;
        }
        if (n == 0) break; /* the file shrank while we read it */
        len += (size_t)n;
    }
    close(fd);
    bytes[len] = '\0';
    *out = bytes;
    *out_len = len;
    return 0;
}

/* Parses NAME=VALUE lines into the store's table. Blank lines and lines starting with '#' are
 * skipped; the first '=' splits; a trailing '\r' is dropped; values are taken as they are (no
 * quote processing). Messages name the file and the line, never a value. */
static int32_t dev_secrets_parse(dev_secrets *store, const char *path, const char *text,
                                 size_t len) {
    size_t line_start = 0, line_number = 0;

    while (line_start < len) {
        const char *line = text + line_start;
        const char *newline = (const char *)memchr(line, '\n', len - line_start);
        size_t line_len = newline != NULL ? (size_t)(newline - line) : len - line_start;
        size_t content_len = line_len, skip = 0, i;
        const char *equals;
        dev_secret *grown;

        line_start += line_len + 1;
        line_number++;
        if (content_len > 0 && line[content_len - 1] == '\r') content_len--;
        while (skip < content_len && (line[skip] == ' ' || line[skip] == '\t')) skip++;
        if (skip == content_len || line[skip] == '#') continue;

        equals = (const char *)memchr(line, '=', content_len);
        if (equals == NULL || equals == line || memchr(line, '\0', content_len) != NULL) {
            dev_secrets_fail(store, "%s:%zu: expected NAME=VALUE", path, line_number);
            return LAFORGE_INVALID_ARGUMENT;
        }
        for (i = 0; line + i < equals; i++) {
            if (line[i] == ' ' || line[i] == '\t') {
                dev_secrets_fail(store, "%s:%zu: a secret name cannot contain spaces", path,
                                 line_number);
                return LAFORGE_INVALID_ARGUMENT;
            }
        }
        for (i = 0; i < store->count; i++) {
            if (strlen(store->secrets[i].name) == (size_t)(equals - line) &&
                memcmp(store->secrets[i].name, line, (size_t)(equals - line)) == 0) {
                dev_secrets_fail(store, "%s:%zu: secret %s is defined twice", path, line_number,
                                 store->secrets[i].name);
                return LAFORGE_INVALID_ARGUMENT;
            }
        }

        grown = (dev_secret *)realloc(store->secrets, (store->count + 1) * sizeof *grown);
        if (grown == NULL) goto out_of_memory;
        store->secrets = grown;
        grown[store->count].name = duplicate_string(line, (size_t)(equals - line));
        grown[store->count].value_len = content_len - (size_t)(equals - line) - 1;
        grown[store->count].value = duplicate_string(equals + 1, grown[store->count].value_len);
        store->count++; /* counted now so destroy frees a half-filled entry */
        if (grown[store->count - 1].name == NULL || grown[store->count - 1].value == NULL) {
            goto out_of_memory;
        }
    }
    return LAFORGE_OK;

out_of_memory:
    dev_secrets_fail(store, "out of memory reading %s", path);
    return LAFORGE_INTERNAL_ERROR;
}

/* Creates a store. Ownership: `config_json` and `host` are borrowed; the store keeps no pointer
 * to either. On failure *out is still set, so the host can read last_error and then destroy. */
static int32_t dev_secrets_create(const char *config_json, size_t config_len,
                                  const laforge_host_api *host, laforge_instance **out) {
    dev_secrets *store;
    laforge_json_object config;
    const laforge_json_member *path;
    char *text = NULL, reason[128];
    size_t text_len = 0;
    int error = 0;
    int32_t status;

    (void)host;
    if (out == NULL) return LAFORGE_INVALID_ARGUMENT;
    *out = NULL;
    store = (dev_secrets *)calloc(1, sizeof *store);
    if (store == NULL) return LAFORGE_INTERNAL_ERROR;
    if (pthread_mutex_init(&store->error_lock, NULL) != 0) {
        free(store);
        return LAFORGE_INTERNAL_ERROR;
    }
    *out = (laforge_instance *)store;

    if (laforge_json_parse_flat_object(config_json, config_len, &config, store->last_error,
                               sizeof store->last_error) != 0) {
        return LAFORGE_INVALID_ARGUMENT;
    }
    path = laforge_json_find(&config, "secrets_file");
    if (path == NULL || path->kind != LAFORGE_JSON_STRING || path->string[0] == '\0') {
        dev_secrets_fail(store, "\"secrets_file\" must be a non-empty string");
        laforge_json_object_free(&config);
        return LAFORGE_INVALID_ARGUMENT;
    }
    if (read_whole_file(path->string, &text, &text_len, &error) != 0) {
        dev_secrets_fail(store, "cannot read %s: %s", path->string,
                         describe_errno(error, reason, sizeof reason));
        laforge_json_object_free(&config);
        return error == EACCES || error == EPERM ? LAFORGE_ACCESS_DENIED
                                                 : LAFORGE_INVALID_ARGUMENT;
    }
    status = dev_secrets_parse(store, path->string, text, text_len);
    laforge_secure_zero(text, text_len);
    free(text);
    laforge_json_object_free(&config);
    return status;
}

/* Copies the secret `name` (borrowed) into `out`, which the host gives back to release.
 * CONCURRENT: reads the table, which nothing changes after create. */
static int32_t dev_secrets_get_secret(laforge_instance *instance, const char *name,
                                      laforge_buffer *out) {
    dev_secrets *store = as_dev_secrets(instance);
    size_t i;

    if (store == NULL || out == NULL) return LAFORGE_INVALID_ARGUMENT;
    if (name == NULL || name[0] == '\0') {
        dev_secrets_fail(store, "a secret name is required");
        return LAFORGE_INVALID_ARGUMENT;
    }
    for (i = 0; i < store->count; i++) {
        const dev_secret *secret = &store->secrets[i];
        if (strcmp(secret->name, name) == 0) {
            char *copy = duplicate_string(secret->value, secret->value_len);
            if (copy == NULL) {
                dev_secrets_fail(store, "out of memory copying secret %s", name);
                return LAFORGE_INTERNAL_ERROR;
            }
            out->data = (uint8_t *)copy;
            out->len = secret->value_len;
            out->opaque = NULL;
            return LAFORGE_OK;
        }
    }
    dev_secrets_fail(store, "no secret named %s", name);
    return LAFORGE_NOT_FOUND;
}

/* Zeroes and frees a buffer get_secret filled. Called once per buffer, from any thread. */
static void dev_secrets_release(laforge_instance *instance, laforge_buffer *buffer) {
    (void)instance;
    if (buffer == NULL || buffer->data == NULL) return;
    laforge_secure_zero(buffer->data, buffer->len);
    free(buffer->data);
    buffer->data = NULL;
    buffer->len = 0;
    buffer->opaque = NULL;
}

/* The message of the most recent failure; plugin-owned, valid until the next failing call. */
static const char *dev_secrets_last_error(laforge_instance *instance) {
    dev_secrets *store = as_dev_secrets(instance);
    return store == NULL ? "" : store->last_error;
}

/* Zeroes and frees the table; called once, after every other call returned. */
static void dev_secrets_destroy(laforge_instance *instance) {
    dev_secrets *store = as_dev_secrets(instance);
    size_t i;
    if (store == NULL) return;
    for (i = 0; i < store->count; i++) {
        free(store->secrets[i].name);
        if (store->secrets[i].value != NULL) {
            laforge_secure_zero(store->secrets[i].value, store->secrets[i].value_len);
            free(store->secrets[i].value);
        }
    }
    free(store->secrets);
    pthread_mutex_destroy(&store->error_lock);
    free(store);
}

static const laforge_secret_backend_vtable dev_secrets_vtable = {
    sizeof(laforge_secret_backend_vtable),
    LAFORGE_THREADING_CONCURRENT,
    dev_secrets_schema,
    dev_secrets_create,
    dev_secrets_get_secret,
    NULL, /* encrypt */
    NULL, /* decrypt */
    NULL, /* generate_data_key */
    dev_secrets_release,
    dev_secrets_last_error,
    dev_secrets_destroy,
};

/* ---------------------------------------------------------------------------------------------
 * The descriptor and the entry point
 * ------------------------------------------------------------------------------------------- */

static const laforge_plugin_descriptor example_descriptor = {
    sizeof(laforge_plugin_descriptor),
    LAFORGE_ABI_VERSION_MAJOR,
    0, /* needs nothing newer than ABI 1.0 */
    "example",
    "0.1.0",
    "Example plugin: append-only file audit sink and NAME=VALUE development secret store",
    "Apache-2.0",
    LAFORGE_CAP_AUDIT_SINK | LAFORGE_CAP_SECRET_BACKEND,
    &file_sink_vtable,
    &dev_secrets_vtable,
    NULL, /* idp_connector (ABI 1.1): not offered */
};

/* Called once per load, from one thread, before anything else. Returns the static descriptor,
 * or NULL with a static reason to refuse a host this file was not written for. */
LAFORGE_EXPORT const laforge_plugin_descriptor *
laforge_plugin_entry(const laforge_host_info *host, const char **refusal);

LAFORGE_EXPORT const laforge_plugin_descriptor *
laforge_plugin_entry(const laforge_host_info *host, const char **refusal) {
    if (host == NULL || !LAFORGE_HAS_FIELD(host, laforge_host_info, abi_major) ||
        host->abi_major != LAFORGE_ABI_VERSION_MAJOR) {
        if (refusal != NULL) *refusal = "the example plugin is written for LaForge plugin ABI 1.x";
        return NULL;
    }
    return &example_descriptor;
}
