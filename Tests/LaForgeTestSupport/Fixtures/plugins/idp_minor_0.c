/* Offers an IdP connector (ABI 1.1) but declares abi_minor 0: a 1.0 host would not know the
 * capability, so the loader refuses the mismatch. */
#include "fixture_idp.h"

static const laforge_idp_connector_vtable idp_vtable = {
    .struct_size = sizeof(laforge_idp_connector_vtable),
    .create = fixture_idp_create,
    .validate_token = fixture_idp_validate,
    .release = fixture_idp_release,
    .last_error = fixture_idp_last_error,
    .destroy = fixture_idp_destroy,
};

static const laforge_plugin_descriptor descriptor = {
    .struct_size = sizeof(laforge_plugin_descriptor),
    .abi_major = 1,
    .abi_minor = 0,
    .name = "idp_minor_0",
    .version = "1.0.0",
    .capabilities = LAFORGE_CAP_IDP_CONNECTOR,
    .idp_connector = &idp_vtable,
};

FIXTURE_IDP_ENTRY(descriptor)
