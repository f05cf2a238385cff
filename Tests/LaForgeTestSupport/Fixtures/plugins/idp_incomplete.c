/* An IdP connector whose vtable lacks validate_token and sets login_start without
 * login_callback: the loader refuses it, naming the missing function. */
#include "fixture_idp.h"

static const laforge_idp_connector_vtable idp_vtable = {
    .struct_size = sizeof(laforge_idp_connector_vtable),
    .threading = LAFORGE_THREADING_SERIAL,
    .create = fixture_idp_create,
    .validate_token = NULL,
    .release = fixture_idp_release,
    .last_error = fixture_idp_last_error,
    .destroy = fixture_idp_destroy,
};

static const laforge_plugin_descriptor descriptor = {
    .struct_size = sizeof(laforge_plugin_descriptor),
    .abi_major = 1,
    .abi_minor = 1,
    .name = "idp_incomplete",
    .version = "1.0.0",
    .capabilities = LAFORGE_CAP_IDP_CONNECTOR,
    .idp_connector = &idp_vtable,
};

FIXTURE_IDP_ENTRY(descriptor)
