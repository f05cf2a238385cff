/* A valid ABI 1.1 IdP connector written in C (designated initializers): token validation only. */
#include "fixture_idp.h"

static const laforge_idp_connector_vtable idp_vtable = {
    .struct_size = sizeof(laforge_idp_connector_vtable),
    .threading = LAFORGE_THREADING_SERIAL,
    .config_schema = NULL,
    .create = fixture_idp_create,
    .validate_token = fixture_idp_validate,
    .release = fixture_idp_release,
    .last_error = fixture_idp_last_error,
    .destroy = fixture_idp_destroy,
};

static const laforge_plugin_descriptor descriptor = {
    .struct_size = sizeof(laforge_plugin_descriptor),
    .abi_major = 1,
    .abi_minor = 1,
    .name = "fixture_idp",
    .version = "1.0.0",
    .description = "LaForge loader test fixture: IdP connector",
    .license = "Apache-2.0",
    .capabilities = LAFORGE_CAP_IDP_CONNECTOR,
    .idp_connector = &idp_vtable,
};

FIXTURE_IDP_ENTRY(descriptor)
