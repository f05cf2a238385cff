/* Built for ABI major 2: a 1.x host must refuse it, reading only the three fields frozen for
 * every major (struct_size, abi_major, abi_minor). */
#include "fixture_sink.h"

FIXTURE_SINK_PLUGIN(sizeof(laforge_plugin_descriptor), 2, 0, "abi_major_2", LAFORGE_CAP_AUDIT_SINK,
                    FIXTURE_SINK_SCHEMA, fixture_sink_create, fixture_sink_write)
