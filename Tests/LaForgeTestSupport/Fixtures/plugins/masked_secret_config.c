/* A secret backend and an audit sink in one library, for the test that a `${secret:…}` resolved into
 * a sink's configuration leaves no copy of itself in the host's memory.
 *
 * get_secret: the name is the hex of the masked value; the secret is those bytes XOR 0x5A, so the
 * test never holds the plaintext itself. The sink's create reads its `token` (the host's buffer is
 * borrowed and the plugin keeps nothing of it), counts its bytes and forgets them. State is per
 * instance; no globals. */
#include "fixture_sink.h"

#include <string.h>

static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

static int32_t masked_get_secret(laforge_instance *instance, const char *name, laforge_buffer *out) {
    size_t length, i;
    uint8_t *value;
    (void)instance;
    if (name == NULL || out == NULL) return LAFORGE_INVALID_ARGUMENT;
    length = strlen(name);
    if (length == 0 || length % 2 != 0) return LAFORGE_NOT_FOUND;
    value = (uint8_t *)malloc(length / 2);
    if (value == NULL) return LAFORGE_INTERNAL_ERROR;
    for (i = 0; i < length / 2; i++) {
        int high = hex_value(name[2 * i]), low = hex_value(name[2 * i + 1]);
        if (high < 0 || low < 0) {
            free(value);
            return LAFORGE_NOT_FOUND;
        }
        value[i] = (uint8_t)((high << 4 | low) ^ 0x5A);
    }
    out->data = value;
    out->len = length / 2;
    return LAFORGE_OK;
}

static void masked_release(laforge_instance *instance, laforge_buffer *buffer) {
    (void)instance;
    if (buffer == NULL || buffer->data == NULL) return;
    memset(buffer->data, 0, buffer->len);
    free(buffer->data);
    buffer->data = NULL;
    buffer->len = 0;
}

/* The sink needs a `token` string; it checks the key is there and keeps nothing of the value. */
static int32_t token_sink_create(const char *config_json, size_t config_len, const laforge_host_api *host,
                                 laforge_instance **out) {
    int32_t status = fixture_sink_create(config_json, config_len, host, out);
    if (status != LAFORGE_OK) return status;
    if (config_json == NULL || strstr(config_json, "\"token\":\"") == NULL) {
        strcpy(((fixture_sink *)*out)->last_error, "config has no token");
        return LAFORGE_INVALID_ARGUMENT;
    }
    return LAFORGE_OK;
}

static const laforge_audit_sink_vtable token_sink_vtable = FIXTURE_SINK_VTABLE(
    "{\"type\":\"object\",\"properties\":{\"token\":{\"type\":\"string\",\"minLength\":8}},"
    "\"required\":[\"token\"],\"additionalProperties\":false}",
    token_sink_create, fixture_sink_write);

static const laforge_secret_backend_vtable masked_vtable = {
    sizeof(laforge_secret_backend_vtable), LAFORGE_THREADING_SERIAL, NULL,
    fixture_sink_create, masked_get_secret, NULL, NULL, NULL, masked_release,
    fixture_sink_last_error, fixture_sink_destroy};

static const laforge_plugin_descriptor masked_descriptor = FIXTURE_DESCRIPTOR(
    sizeof(laforge_plugin_descriptor), 1, 0, "masked_secret_config",
    LAFORGE_CAP_AUDIT_SINK | LAFORGE_CAP_SECRET_BACKEND, &token_sink_vtable, &masked_vtable);

FIXTURE_ENTRY(masked_descriptor)
