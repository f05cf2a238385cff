/* The plugin's own config schema is not a valid JSON Schema (`required` must be an array): the
 * host checks the schema before the user's config and blames the plugin, not the user. */
#include "fixture_sink.h"

FIXTURE_SINK_PLUGIN(sizeof(laforge_plugin_descriptor), 1, 0, "bad_schema", LAFORGE_CAP_AUDIT_SINK,
                    "{\"type\":\"object\",\"required\":\"path\"}", fixture_sink_create,
                    fixture_sink_write)
