import PluginABI

// The parameter and result types of `laforge_plugin_entry` (laforge_plugin_entry_fn in the
// header), so each plugin's `@_cdecl` export is one line of signature:
//
//     public func laforgePluginEntry(_ host: PluginEntryHostInfo, _ refusal: PluginEntryRefusal) -> PluginEntryDescriptor

/// `const laforge_host_info *host`: borrowed for the entry call.
public typealias PluginEntryHostInfo = UnsafePointer<laforge_host_info>?
/// `const char **refusal`: where a refusing entry puts its static reason.
public typealias PluginEntryRefusal = UnsafeMutablePointer<UnsafePointer<CChar>?>?
/// `const laforge_plugin_descriptor *`: the static descriptor, or NULL to refuse the host.
public typealias PluginEntryDescriptor = UnsafePointer<laforge_plugin_descriptor>?
