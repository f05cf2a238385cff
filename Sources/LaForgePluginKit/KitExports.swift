// What a plugin file needs besides the kit: the header's C types and the ABI helpers the kit
// shares with the host. `import LaForgePluginKit` is the one import a Swift plugin file needs.
@_exported import LaForgeABI
@_exported import PluginABI
