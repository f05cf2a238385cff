/* A valid shared library that does not export laforge_plugin_entry (a near-miss name instead). */
#include "laforge_plugin.h"

LAFORGE_EXPORT int laforge_plugin_entry_v0(void);

LAFORGE_EXPORT int laforge_plugin_entry_v0(void) {
    return 0;
}
