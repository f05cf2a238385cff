/* The plugin refuses the host: the entry returns NULL with the reason "needs host feature X". */
#include "laforge_plugin.h"

LAFORGE_EXPORT const laforge_plugin_descriptor *laforge_plugin_entry(const laforge_host_info *host,
                                                                     const char **refusal);

LAFORGE_EXPORT const laforge_plugin_descriptor *laforge_plugin_entry(const laforge_host_info *host,
                                                                     const char **refusal) {
    (void)host;
    if (refusal != NULL) *refusal = "needs host feature X";
    return NULL;
}
