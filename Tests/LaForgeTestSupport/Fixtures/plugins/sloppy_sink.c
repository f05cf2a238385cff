/* A sink that works but cuts two corners the conformance kit must catch: create returns OK for
 * any configuration text, even malformed JSON (the kit reports a fail), and its schema does not
 * set "additionalProperties": false, so a misspelt key would pass silently (the kit warns). */
#include "fixture_sink.h"

static const char sloppy_schema[] =
    "{\"type\":\"object\","
    "\"properties\":{\"label\":{\"type\":\"string\",\"examples\":[\"sloppy\"]}}}";

static const laforge_audit_sink_vtable sink =
    FIXTURE_SINK_VTABLE(sloppy_schema, fixture_sink_create, fixture_sink_write);

static const laforge_plugin_descriptor descriptor =
    FIXTURE_DESCRIPTOR(sizeof(laforge_plugin_descriptor), 1, 0, "sloppy_sink",
                       LAFORGE_CAP_AUDIT_SINK, &sink, NULL);

FIXTURE_ENTRY(descriptor)
