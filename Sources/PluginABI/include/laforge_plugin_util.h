/*
 * laforge_plugin_util.h — optional helpers for plugins written in C, header only (C99, C++11).
 *
 * Nothing here is part of the ABI: laforge_plugin.h alone is the contract, and a plugin may
 * ignore this file. It holds what every C plugin otherwise writes by hand (docs/ABI.md, "A C
 * sink in 30 minutes", builds one with it):
 *
 *   - LAFORGE_HAS_FIELD and laforge_batch_record: reading host structs with the header's rule 2;
 *   - laforge_format_error and LAFORGE_THREAD_LOCAL: a last_error message that is always
 *     NUL-terminated, per instance (SERIAL) or per thread (CONCURRENT);
 *   - laforge_secure_zero: zeroing secrets with stores the optimizer keeps;
 *   - laforge_json_parse_flat_object: the configuration create() receives, read as a flat object
 *     of strings, booleans and integers.
 *
 * Every function is `static inline`: include the header in as many files as you like. It needs
 * only the C library (stdarg, stdio, stdlib, string).
 */
#ifndef LAFORGE_PLUGIN_UTIL_H
#define LAFORGE_PLUGIN_UTIL_H

#include "laforge_plugin.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------
 * Reading what the host passes
 * ------------------------------------------------------------------------------------------- */

/* True when a size-prefixed struct that the other side filled is large enough to contain
 * `field`: the header's rule 2 says a reader treats missing tail fields as absent. */
#define LAFORGE_HAS_FIELD(ptr, type, field) \
    ((ptr)->struct_size >= offsetof(type, field) + sizeof(((const type *)0)->field))

/* Copies record `index` of `batch` into `out` with rule 2 (fields the host's struct lacks read
 * as 0/NULL). Returns 0, or -1 when the batch has no such record or holds a NULL pointer. */
static inline int laforge_batch_record(const laforge_audit_batch *batch, size_t index,
                                       laforge_audit_record *out) {
    laforge_audit_batch view;
    const laforge_audit_record *given;
    memset(out, 0, sizeof *out);
    if (batch == NULL) return -1;
    memset(&view, 0, sizeof view);
    memcpy(&view, batch, batch->struct_size < sizeof view ? batch->struct_size : sizeof view);
    if (index >= view.count || view.records == NULL) return -1;
    given = view.records[index];
    if (given == NULL) return -1;
    memcpy(out, given, given->struct_size < sizeof *out ? given->struct_size : sizeof *out);
    return 0;
}

/* The number of records in `batch` (0 for NULL), read with rule 2. */
static inline size_t laforge_batch_count(const laforge_audit_batch *batch) {
    if (batch == NULL || !LAFORGE_HAS_FIELD(batch, laforge_audit_batch, count)) return 0;
    return batch->count;
}

/* ---------------------------------------------------------------------------------------------
 * last_error messages and secrets
 * ------------------------------------------------------------------------------------------- */

/* Storage per thread, for the message of a CONCURRENT vtable's last_error: each caller then
 * reads its own failure. (A SERIAL vtable can keep one buffer in the instance.) */
#if defined(__cplusplus) && __cplusplus >= 201103L
#define LAFORGE_THREAD_LOCAL thread_local
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define LAFORGE_THREAD_LOCAL _Thread_local
#elif defined(__GNUC__)
#define LAFORGE_THREAD_LOCAL __thread
#endif

/* Lets the compiler check every format string against its arguments. */
#if defined(__GNUC__)
#define LAFORGE_PRINTF_LIKE(format_index, first_arg) \
    __attribute__((format(printf, format_index, first_arg)))
#else
#define LAFORGE_PRINTF_LIKE(format_index, first_arg)
#endif

/* Formats into a fixed-size error buffer; the result is always NUL-terminated and truncated to
 * fit, so a reader can never run past the end of the buffer. Never format a secret value. */
static inline void laforge_format_error(char *buffer, size_t size, const char *format, ...)
    LAFORGE_PRINTF_LIKE(3, 4);
static inline void laforge_format_error(char *buffer, size_t size, const char *format, ...) {
    va_list args;
    if (buffer == NULL || size == 0) return;
    va_start(args, format);
    vsnprintf(buffer, size, format, args);
    va_end(args);
    buffer[size - 1] = '\0';
}

/* Zeroes memory that held a secret. The volatile pointer keeps the compiler from removing the
 * stores as dead (a plain memset before free() may legally be optimized away). */
static inline void laforge_secure_zero(void *memory, size_t len) {
    volatile unsigned char *p = (volatile unsigned char *)memory;
    while (len-- > 0) {
        *p++ = 0;
    }
}

/* ---------------------------------------------------------------------------------------------
 * A minimal reader for the configuration the host passes to create().
 *
 * The host validated the user's configuration against our schema, applied defaults and
 * serialized it as RFC 8785 canonical JSON, so the input is one flat object without whitespace.
 * This reader accepts exactly that: an object whose values are strings, booleans or integers
 * (RFC 8785 writes an integral number below 10^21 as plain digits; this reader takes the int64
 * range). Nested objects and arrays are refused: keep a plugin's configuration flat. It decodes
 * every JSON string escape, including \uXXXX surrogate pairs, and refuses \u0000 because a C
 * string cannot hold it. Error messages name positions and keys, never values: a value may be a
 * secret.
 * ------------------------------------------------------------------------------------------- */

typedef enum laforge_json_kind { LAFORGE_JSON_STRING, LAFORGE_JSON_BOOLEAN, LAFORGE_JSON_INTEGER } laforge_json_kind;

typedef struct laforge_json_member {
    char *key;
    laforge_json_kind kind;
    char *string;    /* LAFORGE_JSON_STRING: decoded, NUL-terminated */
    int boolean;     /* LAFORGE_JSON_BOOLEAN */
    int64_t integer; /* LAFORGE_JSON_INTEGER */
} laforge_json_member;

typedef struct laforge_json_object {
    laforge_json_member *members;
    size_t count;
} laforge_json_object;

typedef struct laforge_json_reader {
    const char *text;
    size_t len;
    size_t pos;
    char *error;
    size_t error_size;
} laforge_json_reader;

static inline int laforge_json__fail(laforge_json_reader *reader, const char *what) {
    laforge_format_error(reader->error, reader->error_size, "invalid configuration JSON at byte %zu: %s",
                 reader->pos, what);
    return -1;
}

static inline int laforge_json__hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Reads the four hex digits after "\u". */
static inline int laforge_json__read_hex4(laforge_json_reader *reader, uint32_t *out) {
    uint32_t value = 0;
    size_t i;
    if (reader->len - reader->pos < 4) return laforge_json__fail(reader, "truncated \\u escape");
    for (i = 0; i < 4; i++) {
        int digit = laforge_json__hex_digit(reader->text[reader->pos + i]);
        if (digit < 0) return laforge_json__fail(reader, "bad hex digit in \\u escape");
        value = (value << 4) | (uint32_t)digit;
    }
    reader->pos += 4;
    *out = value;
    return 0;
}

static inline size_t laforge_json__utf8_encode(uint32_t code_point, char *out) {
    if (code_point < 0x80) {
        out[0] = (char)code_point;
        return 1;
    }
    if (code_point < 0x800) {
        out[0] = (char)(0xC0 | (code_point >> 6));
        out[1] = (char)(0x80 | (code_point & 0x3F));
        return 2;
    }
    if (code_point < 0x10000) {
        out[0] = (char)(0xE0 | (code_point >> 12));
        out[1] = (char)(0x80 | ((code_point >> 6) & 0x3F));
        out[2] = (char)(0x80 | (code_point & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (code_point >> 18));
    out[1] = (char)(0x80 | ((code_point >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((code_point >> 6) & 0x3F));
    out[3] = (char)(0x80 | (code_point & 0x3F));
    return 4;
}

/* Reads a JSON string at the reader's position into a fresh NUL-terminated buffer. Decoding
 * never makes a string longer than its escaped form, so the raw length bounds the output. */
static inline int laforge_json__read_string(laforge_json_reader *reader, char **out) {
    size_t start, end, written = 0;
    char *decoded;

    if (reader->pos >= reader->len || reader->text[reader->pos] != '"') {
        return laforge_json__fail(reader, "expected a string");
    }
    start = ++reader->pos;
    /* Find the closing quote, skipping escaped characters. */
    for (end = start; end < reader->len && reader->text[end] != '"'; end++) {
        if (reader->text[end] == '\\') end++;
    }
    if (end >= reader->len) return laforge_json__fail(reader, "unterminated string");

    decoded = (char *)malloc(end - start + 1);
    if (decoded == NULL) return laforge_json__fail(reader, "out of memory");

    while (reader->pos < end) {
        unsigned char c = (unsigned char)reader->text[reader->pos];
        if (c < 0x20) {
            laforge_secure_zero(decoded, end - start + 1);
            free(decoded);
            return laforge_json__fail(reader, "control character in string");
        }
        if (c != '\\') {
            decoded[written++] = (char)c;
            reader->pos++;
            continue;
        }
        reader->pos++; /* the backslash */
        c = (unsigned char)reader->text[reader->pos++];
        switch (c) {
        case '"': decoded[written++] = '"'; break;
        case '\\': decoded[written++] = '\\'; break;
        case '/': decoded[written++] = '/'; break;
        case 'b': decoded[written++] = '\b'; break;
        case 'f': decoded[written++] = '\f'; break;
        case 'n': decoded[written++] = '\n'; break;
        case 'r': decoded[written++] = '\r'; break;
        case 't': decoded[written++] = '\t'; break;
        case 'u': {
            uint32_t unit, low;
            if (laforge_json__read_hex4(reader, &unit) != 0) goto fail;
            if (unit == 0) {
                laforge_json__fail(reader, "\\u0000 is not supported in configuration strings");
                goto fail;
            }
            if (unit >= 0xDC00 && unit <= 0xDFFF) {
                laforge_json__fail(reader, "unpaired low surrogate");
                goto fail;
            }
            if (unit >= 0xD800 && unit <= 0xDBFF) {
                if (end - reader->pos < 6 || reader->text[reader->pos] != '\\' ||
                    reader->text[reader->pos + 1] != 'u') {
                    laforge_json__fail(reader, "unpaired high surrogate");
                    goto fail;
                }
                reader->pos += 2;
                if (laforge_json__read_hex4(reader, &low) != 0) goto fail;
                if (low < 0xDC00 || low > 0xDFFF) {
                    laforge_json__fail(reader, "unpaired high surrogate");
                    goto fail;
                }
                unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
            }
            /* At most 4 UTF-8 bytes from at least 6 escaped bytes: the buffer is big enough. */
            written += laforge_json__utf8_encode(unit, decoded + written);
            break;
        }
        default:
            laforge_json__fail(reader, "unknown escape in string");
            goto fail;
        }
    }
    decoded[written] = '\0';
    reader->pos = end + 1; /* the closing quote */
    *out = decoded;
    return 0;

fail:
    laforge_secure_zero(decoded, end - start + 1);
    free(decoded);
    return -1;
}

static inline int laforge_json__read_literal(laforge_json_reader *reader, const char *literal) {
    size_t n = strlen(literal);
    if (reader->len - reader->pos < n || memcmp(reader->text + reader->pos, literal, n) != 0) {
        return -1;
    }
    reader->pos += n;
    return 0;
}

/* Reads an integer in the int64 range (digits with an optional minus, no fraction or exponent).
 * Returns -1 without moving when the value is not one. */
static inline int laforge_json__read_integer(laforge_json_reader *reader, int64_t *out) {
    size_t pos = reader->pos;
    int negative = 0;
    uint64_t magnitude = 0, limit;
    if (pos < reader->len && reader->text[pos] == '-') {
        negative = 1;
        pos++;
    }
    if (pos >= reader->len || reader->text[pos] < '0' || reader->text[pos] > '9') return -1;
    limit = negative ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX;
    while (pos < reader->len && reader->text[pos] >= '0' && reader->text[pos] <= '9') {
        uint64_t digit = (uint64_t)(reader->text[pos] - '0');
        if (magnitude > (limit - digit) / 10u) return -1;
        magnitude = magnitude * 10u + digit;
        pos++;
    }
    if (pos < reader->len && (reader->text[pos] == '.' || reader->text[pos] == 'e' || reader->text[pos] == 'E')) {
        return -1;
    }
    *out = negative ? (magnitude == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)magnitude) : (int64_t)magnitude;
    reader->pos = pos;
    return 0;
}

/* Frees a parsed object. String values are zeroed first: one of them may be a token. */
static inline void laforge_json_object_free(laforge_json_object *object) {
    size_t i;
    for (i = 0; i < object->count; i++) {
        free(object->members[i].key);
        if (object->members[i].string != NULL) {
            laforge_secure_zero(object->members[i].string, strlen(object->members[i].string));
            free(object->members[i].string);
        }
    }
    free(object->members);
    object->members = NULL;
    object->count = 0;
}

/* Parses `text` (len bytes) as a flat object of string and boolean values. On failure returns
 * -1 with a message in `error` and leaves `out` empty. */
static inline int laforge_json_parse_flat_object(const char *text, size_t len, laforge_json_object *out, char *error,
                                  size_t error_size) {
    laforge_json_reader reader;
    reader.text = text;
    reader.len = len;
    reader.pos = 0;
    reader.error = error;
    reader.error_size = error_size;
    out->members = NULL;
    out->count = 0;

    if (text == NULL || laforge_json__read_literal(&reader, "{") != 0) {
        return laforge_json__fail(&reader, "expected an object");
    }
    if (laforge_json__read_literal(&reader, "}") == 0) goto done;
    for (;;) {
        laforge_json_member member;
        laforge_json_member *grown;
        memset(&member, 0, sizeof member);

        if (laforge_json__read_string(&reader, &member.key) != 0) goto fail;
        if (laforge_json__read_literal(&reader, ":") != 0) {
            free(member.key);
            laforge_json__fail(&reader, "expected ':'");
            goto fail;
        }
        if (reader.pos < len && text[reader.pos] == '"') {
            member.kind = LAFORGE_JSON_STRING;
            if (laforge_json__read_string(&reader, &member.string) != 0) {
                free(member.key);
                goto fail;
            }
        } else if (laforge_json__read_literal(&reader, "true") == 0) {
            member.kind = LAFORGE_JSON_BOOLEAN;
            member.boolean = 1;
        } else if (laforge_json__read_literal(&reader, "false") == 0) {
            member.kind = LAFORGE_JSON_BOOLEAN;
            member.boolean = 0;
        } else if (laforge_json__read_integer(&reader, &member.integer) == 0) {
            member.kind = LAFORGE_JSON_INTEGER;
        } else {
            laforge_format_error(error, error_size,
                         "invalid configuration JSON at byte %zu: the value of \"%s\" is not a "
                         "string, a boolean or an integer",
                         reader.pos, member.key);
            free(member.key);
            goto fail;
        }

        grown = (laforge_json_member *)realloc(out->members, (out->count + 1) * sizeof *grown);
        if (grown == NULL) {
            free(member.key);
            if (member.string != NULL) {
                laforge_secure_zero(member.string, strlen(member.string));
                free(member.string);
            }
            laforge_json__fail(&reader, "out of memory");
            goto fail;
        }
        out->members = grown;
        out->members[out->count++] = member;

        if (laforge_json__read_literal(&reader, ",") == 0) continue;
        if (laforge_json__read_literal(&reader, "}") == 0) break;
        laforge_json__fail(&reader, "expected ',' or '}'");
        goto fail;
    }
done:
    if (reader.pos != len) {
        laforge_json__fail(&reader, "trailing bytes after the object");
        goto fail;
    }
    return 0;

fail:
    laforge_json_object_free(out);
    return -1;
}

static inline const laforge_json_member *laforge_json_find(const laforge_json_object *object, const char *key) {
    size_t i;
    for (i = 0; i < object->count; i++) {
        if (strcmp(object->members[i].key, key) == 0) return &object->members[i];
    }
    return NULL;
}

#ifdef __cplusplus
}
#endif

#endif /* LAFORGE_PLUGIN_UTIL_H */
