/*
 * fixture_idp.h — a minimal ABI 1.1 IdP connector in C, shared by the IdP loader fixtures.
 *
 * It accepts the token "good-token" as subject "alice" of group "laforge-admins" and refuses
 * anything else with ACCESS_DENIED and a reason, so the loader tests can drive the whole C ABI
 * (create, validate_token, release, last_error, destroy) without a provider. Each fixture .c
 * file includes this and breaks at most one rule.
 */
#ifndef LAFORGE_FIXTURE_IDP_H
#define LAFORGE_FIXTURE_IDP_H

#include "laforge_plugin.h"

#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__)
#define FIXTURE_UNUSED __attribute__((unused))
#else
#define FIXTURE_UNUSED
#endif

typedef struct fixture_idp {
    char last_error[256];
    unsigned long outstanding; /* buffers handed out and not yet released */
} fixture_idp;

static FIXTURE_UNUSED int32_t fixture_idp_create(const char *config_json, size_t config_len,
                                                 const laforge_host_api *host, laforge_instance **out) {
    (void)config_json;
    (void)config_len;
    (void)host;
    if (out == NULL) return LAFORGE_INVALID_ARGUMENT;
    *out = (laforge_instance *)calloc(1, sizeof(fixture_idp));
    return *out == NULL ? LAFORGE_INTERNAL_ERROR : LAFORGE_OK;
}

static FIXTURE_UNUSED int32_t fixture_idp_validate(laforge_instance *instance, laforge_bytes token,
                                                   laforge_buffer *identity) {
    static const char good[] = "good-token";
    static const char answer[] =
        "{\"subject\":\"alice\",\"issuer\":\"fixture\",\"groups\":[\"laforge-admins\"],\"claims\":{\"sub\":\"alice\"}}";
    fixture_idp *idp = (fixture_idp *)instance;
    if (token.len != sizeof good - 1 || memcmp(token.data, good, token.len) != 0) {
        strcpy(idp->last_error, "signature verification failed (fixture)");
        return LAFORGE_ACCESS_DENIED;
    }
    identity->data = (uint8_t *)malloc(sizeof answer - 1);
    if (identity->data == NULL) return LAFORGE_INTERNAL_ERROR;
    memcpy(identity->data, answer, sizeof answer - 1);
    identity->len = sizeof answer - 1;
    idp->outstanding++;
    return LAFORGE_OK;
}

static FIXTURE_UNUSED void fixture_idp_release(laforge_instance *instance, laforge_buffer *buffer) {
    fixture_idp *idp = (fixture_idp *)instance;
    if (buffer->data == NULL) return;
    memset(buffer->data, 0, buffer->len);
    free(buffer->data);
    buffer->data = NULL;
    idp->outstanding--;
}

static FIXTURE_UNUSED const char *fixture_idp_last_error(laforge_instance *instance) {
    return instance == NULL ? "" : ((fixture_idp *)instance)->last_error;
}

/* A leaked identity buffer would be a host bug: abort so the test sees it. */
static FIXTURE_UNUSED void fixture_idp_destroy(laforge_instance *instance) {
    fixture_idp *idp = (fixture_idp *)instance;
    if (idp != NULL && idp->outstanding != 0) abort();
    free(idp);
}

#define FIXTURE_IDP_ENTRY(descriptor)                                                          \
    LAFORGE_EXPORT const laforge_plugin_descriptor *laforge_plugin_entry(                      \
        const laforge_host_info *host, const char **refusal);                                  \
    LAFORGE_EXPORT const laforge_plugin_descriptor *laforge_plugin_entry(                      \
        const laforge_host_info *host, const char **refusal) {                                 \
        (void)host;                                                                            \
        (void)refusal;                                                                         \
        return &(descriptor);                                                                  \
    }

#endif /* LAFORGE_FIXTURE_IDP_H */
