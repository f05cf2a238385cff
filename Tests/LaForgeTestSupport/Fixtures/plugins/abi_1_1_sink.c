/* An audit sink built as against the 1.1 header: descriptor minor 1, a 1.1-sized descriptor and
 * a sink vtable whose struct_size ends at read_back (72 bytes). The memory right after those 72
 * bytes holds a reopen pointer that a 1.2 host must never read: it reads struct_size first and
 * treats the missing tail as NULL. Calling it is reported through last_error and the log. */
#include "fixture_sink.h"

static int32_t abi_1_1_reopen_past_struct_size(laforge_instance *instance) {
    fixture_sink *sink = (fixture_sink *)instance;
    if (sink != NULL && sink->host != NULL) {
        sink->host->log(sink->host->host_ctx, LAFORGE_LOG_ERROR,
                        "abi_1_1_sink: reopen was called past the vtable's struct_size");
    }
    return LAFORGE_INTERNAL_ERROR;
}

static const laforge_audit_sink_vtable abi_1_1_vtable = {
    LAFORGE_AUDIT_SINK_VTABLE_SIZE_1_1, LAFORGE_THREADING_SERIAL, FIXTURE_SINK_SCHEMA,
    fixture_sink_create, fixture_sink_write, NULL, NULL, fixture_sink_last_error,
    fixture_sink_destroy, NULL, abi_1_1_reopen_past_struct_size};

static const laforge_plugin_descriptor abi_1_1_descriptor =
    FIXTURE_DESCRIPTOR(LAFORGE_DESCRIPTOR_SIZE_1_1, 1, 1, "abi_1_1_sink", LAFORGE_CAP_AUDIT_SINK,
                       &abi_1_1_vtable, NULL);

FIXTURE_ENTRY(abi_1_1_descriptor)
