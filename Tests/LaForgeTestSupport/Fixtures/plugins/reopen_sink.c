/* An ABI 1.2 audit sink with reopen: each call logs "reopen_sink: reopened N" (N counts per
 * instance) and answers OK, so a test sees the host's reopen reach every instance once. */
#include "fixture_sink.h"

#include <stdio.h>

static int32_t reopen_sink_reopen(laforge_instance *instance) {
    fixture_sink *sink = (fixture_sink *)instance;
    char message[64];
    if (sink == NULL) return LAFORGE_INTERNAL_ERROR;
    sink->records_stored += 1000000ULL; /* reopens counted in the millions, writes below */
    snprintf(message, sizeof message, "reopen_sink: reopened %llu", sink->records_stored / 1000000ULL);
    sink->host->log(sink->host->host_ctx, LAFORGE_LOG_INFO, message);
    return LAFORGE_OK;
}

static const laforge_audit_sink_vtable reopen_vtable = {
    sizeof(laforge_audit_sink_vtable), LAFORGE_THREADING_SERIAL, FIXTURE_SINK_SCHEMA,
    fixture_sink_create, fixture_sink_write, NULL, NULL, fixture_sink_last_error,
    fixture_sink_destroy, NULL, reopen_sink_reopen};

static const laforge_plugin_descriptor reopen_descriptor =
    FIXTURE_DESCRIPTOR(sizeof(laforge_plugin_descriptor), 1, 2, "reopen_sink",
                       LAFORGE_CAP_AUDIT_SINK, &reopen_vtable, NULL);

FIXTURE_ENTRY(reopen_descriptor)
