/*
 * Pins the 1.0 (and 1.1, 1.2) struct layouts on LP64 platforms (Linux x86_64 and aarch64). A change to any of
 * these numbers breaks every plugin already built: append fields instead (see the header).
 */
#include "laforge_plugin.h"

#if defined(__LP64__)
LAFORGE_STATIC_ASSERT(sizeof(laforge_host_info) == 16, host_info_size_1_0);
LAFORGE_STATIC_ASSERT(offsetof(laforge_plugin_descriptor, capabilities) == 40, descriptor_caps_offset);
LAFORGE_STATIC_ASSERT(LAFORGE_DESCRIPTOR_SIZE_1_0 == 64, descriptor_size_1_0);
LAFORGE_STATIC_ASSERT(LAFORGE_AUDIT_SINK_VTABLE_SIZE_1_0 == 64, audit_sink_vtable_size_1_0);
LAFORGE_STATIC_ASSERT(LAFORGE_SECRET_BACKEND_VTABLE_SIZE_1_0 == 80, secret_backend_vtable_size_1_0);
LAFORGE_STATIC_ASSERT(sizeof(laforge_audit_record) == 48, audit_record_size_1_0);
LAFORGE_STATIC_ASSERT(sizeof(laforge_audit_batch) == 32, audit_batch_size_1_0);
LAFORGE_STATIC_ASSERT(LAFORGE_HOST_API_SIZE_1_0 == 64, host_api_size_1_0);
/* 1.1 */
LAFORGE_STATIC_ASSERT(sizeof(laforge_host_api) == 72, host_api_size_1_1);
LAFORGE_STATIC_ASSERT(LAFORGE_AUDIT_SINK_VTABLE_SIZE_1_1 == 72, audit_sink_vtable_size_1_1);
LAFORGE_STATIC_ASSERT(LAFORGE_DESCRIPTOR_SIZE_1_1 == 72, descriptor_size_1_1);
LAFORGE_STATIC_ASSERT(sizeof(laforge_plugin_descriptor) == 72, descriptor_sizeof_1_1);
LAFORGE_STATIC_ASSERT(offsetof(laforge_plugin_descriptor, idp_connector) == 64, descriptor_idp_offset);
LAFORGE_STATIC_ASSERT(LAFORGE_IDP_CONNECTOR_VTABLE_SIZE_1_1 == 96, idp_connector_vtable_size_1_1);
LAFORGE_STATIC_ASSERT(offsetof(laforge_idp_connector_vtable, validate_token) == 24, idp_validate_offset);
LAFORGE_STATIC_ASSERT(offsetof(laforge_idp_connector_vtable, release) == 72, idp_release_offset);
LAFORGE_STATIC_ASSERT(LAFORGE_CAP_IDP_CONNECTOR == 4, cap_idp_connector_is_bit_2);
/* 1.2 */
LAFORGE_STATIC_ASSERT(LAFORGE_AUDIT_SINK_VTABLE_SIZE_1_2 == 80, audit_sink_vtable_size_1_2);
LAFORGE_STATIC_ASSERT(sizeof(laforge_audit_sink_vtable) == 80, audit_sink_vtable_sizeof_1_2);
#endif
