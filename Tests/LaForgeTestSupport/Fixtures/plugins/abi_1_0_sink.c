/* A valid minimal ABI 1.0 audit sink with a 1.0-sized descriptor (64 bytes, as built against the 1.0 header): a 1.1 host reads its idp_connector pointer as absent and loads it. */
#include "fixture_sink.h"

FIXTURE_SINK_PLUGIN(LAFORGE_DESCRIPTOR_SIZE_1_0, 1, 0, "abi_1_0_sink", LAFORGE_CAP_AUDIT_SINK,
                    FIXTURE_SINK_SCHEMA, fixture_sink_create, fixture_sink_write)
