/* A secret backend with key operations only (get_secret is NULL), so the conformance kit's
 * encrypt/decrypt/generate_data_key checks run against something that passes them. The
 * "cipher" is a toy — XOR plus an FNV-1a checksum that binds the context and detects a flipped
 * byte — never a model for real code. State is per instance; no globals. */
#include "laforge_plugin.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct toy_kms {
    char last_error[128];
} toy_kms;

static uint64_t fnv1a(uint64_t hash, const uint8_t *data, size_t len) {
    size_t i;
    for (i = 0; i < len; i++) {
        hash ^= data[i];
        hash *= 1099511628211ULL;
    }
    return hash;
}

static void put64(uint8_t *out, uint64_t value) {
    int i;
    for (i = 0; i < 8; i++) out[i] = (uint8_t)(value >> (8 * i));
}

static uint64_t get64(const uint8_t *in) {
    uint64_t value = 0;
    int i;
    for (i = 0; i < 8; i++) value |= (uint64_t)in[i] << (8 * i);
    return value;
}

static void fail(toy_kms *kms, const char *message) {
    strncpy(kms->last_error, message, sizeof kms->last_error - 1);
    kms->last_error[sizeof kms->last_error - 1] = '\0';
}

/* Accepts a JSON object (first byte '{', last byte '}'); anything else is refused with a reason
 * in last_error. Borrowed inputs; *out owns the instance, also on failure. */
static int32_t toy_create(const char *config_json, size_t config_len, const laforge_host_api *host,
                          laforge_instance **out) {
    toy_kms *kms;
    (void)host;
    if (out == NULL) return LAFORGE_INVALID_ARGUMENT;
    kms = (toy_kms *)calloc(1, sizeof *kms);
    if (kms == NULL) return LAFORGE_INTERNAL_ERROR;
    *out = (laforge_instance *)kms;
    if (config_json == NULL || config_len < 2 || config_json[0] != '{' ||
        config_json[config_len - 1] != '}') {
        fail(kms, "configuration is not a JSON object");
        return LAFORGE_INVALID_ARGUMENT;
    }
    return LAFORGE_OK;
}

/* Blob: 8-byte context tag | plaintext XOR 0x5A | 8-byte checksum of everything before it. */
static int32_t toy_encrypt(laforge_instance *instance, const char *key_id, laforge_bytes plaintext,
                           laforge_bytes context, laforge_buffer *out) {
    toy_kms *kms = (toy_kms *)instance;
    uint8_t *blob;
    size_t i;
    (void)key_id;
    if (kms == NULL || out == NULL) return LAFORGE_INVALID_ARGUMENT;
    blob = (uint8_t *)malloc(plaintext.len + 16);
    if (blob == NULL) {
        fail(kms, "out of memory");
        return LAFORGE_INTERNAL_ERROR;
    }
    put64(blob, fnv1a(14695981039346656037ULL, context.data, context.len));
    for (i = 0; i < plaintext.len; i++) blob[8 + i] = plaintext.data[i] ^ 0x5A;
    put64(blob + 8 + plaintext.len, fnv1a(14695981039346656037ULL, blob, 8 + plaintext.len));
    out->data = blob;
    out->len = plaintext.len + 16;
    return LAFORGE_OK;
}

static int32_t toy_decrypt(laforge_instance *instance, const char *key_id, laforge_bytes ciphertext,
                           laforge_bytes context, laforge_buffer *out) {
    toy_kms *kms = (toy_kms *)instance;
    size_t body, i;
    uint8_t *plain;
    (void)key_id;
    if (kms == NULL || out == NULL) return LAFORGE_INVALID_ARGUMENT;
    if (ciphertext.len < 16) {
        fail(kms, "ciphertext too short");
        return LAFORGE_PERMANENT_ERROR;
    }
    body = ciphertext.len - 16;
    if (get64(ciphertext.data + 8 + body) !=
        fnv1a(14695981039346656037ULL, ciphertext.data, 8 + body)) {
        fail(kms, "ciphertext checksum mismatch");
        return LAFORGE_PERMANENT_ERROR;
    }
    if (get64(ciphertext.data) != fnv1a(14695981039346656037ULL, context.data, context.len)) {
        fail(kms, "ciphertext was encrypted under another context");
        return LAFORGE_ACCESS_DENIED;
    }
    plain = (uint8_t *)malloc(body + 1);
    if (plain == NULL) {
        fail(kms, "out of memory");
        return LAFORGE_INTERNAL_ERROR;
    }
    for (i = 0; i < body; i++) plain[i] = ciphertext.data[8 + i] ^ 0x5A;
    out->data = plain;
    out->len = body;
    return LAFORGE_OK;
}

static int32_t toy_generate_data_key(laforge_instance *instance, const char *key_id,
                                     size_t key_len, laforge_bytes context,
                                     laforge_buffer *plaintext_key, laforge_buffer *wrapped_key) {
    toy_kms *kms = (toy_kms *)instance;
    uint64_t state = (uint64_t)(uintptr_t)instance ^ (uint64_t)key_len ^ 0x9E3779B97F4A7C15ULL;
    uint8_t *key;
    laforge_bytes view;
    size_t i;
    int32_t status;
    if (kms == NULL || plaintext_key == NULL || wrapped_key == NULL) return LAFORGE_INVALID_ARGUMENT;
    key = (uint8_t *)malloc(key_len + 1);
    if (key == NULL) {
        fail(kms, "out of memory");
        return LAFORGE_INTERNAL_ERROR;
    }
    for (i = 0; i < key_len; i++) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        key[i] = (uint8_t)state;
    }
    view.data = key;
    view.len = key_len;
    status = toy_encrypt(instance, key_id, view, context, wrapped_key);
    if (status != LAFORGE_OK) {
        memset(key, 0, key_len);
        free(key);
        return status;
    }
    plaintext_key->data = key;
    plaintext_key->len = key_len;
    return LAFORGE_OK;
}

/* Zeroes and frees a buffer this instance produced; once per buffer, from any thread. */
static void toy_release(laforge_instance *instance, laforge_buffer *buffer) {
    (void)instance;
    if (buffer == NULL || buffer->data == NULL) return;
    memset(buffer->data, 0, buffer->len);
    free(buffer->data);
    buffer->data = NULL;
    buffer->len = 0;
}

static const char *toy_last_error(laforge_instance *instance) {
    return instance == NULL ? "" : ((toy_kms *)instance)->last_error;
}

static void toy_destroy(laforge_instance *instance) {
    free(instance);
}

static const laforge_secret_backend_vtable toy_vtable = {
    sizeof(laforge_secret_backend_vtable), LAFORGE_THREADING_SERIAL,
    "{\"type\":\"object\",\"properties\":{\"key_name\":{\"type\":\"string\",\"default\":\"toy\"}},"
    "\"additionalProperties\":false}",
    toy_create, NULL, toy_encrypt, toy_decrypt, toy_generate_data_key, toy_release,
    toy_last_error, toy_destroy};

static const laforge_plugin_descriptor toy_descriptor = {
    sizeof(laforge_plugin_descriptor), 1, 0, "toy_kms", "1.0.0",
    "LaForge conformance test fixture: key operations only", "Apache-2.0",
    LAFORGE_CAP_SECRET_BACKEND, NULL, &toy_vtable, NULL};

LAFORGE_EXPORT const laforge_plugin_descriptor *laforge_plugin_entry(const laforge_host_info *host,
                                                                     const char **refusal);
LAFORGE_EXPORT const laforge_plugin_descriptor *laforge_plugin_entry(const laforge_host_info *host,
                                                                     const char **refusal) {
    (void)host;
    (void)refusal;
    return &toy_descriptor;
}
