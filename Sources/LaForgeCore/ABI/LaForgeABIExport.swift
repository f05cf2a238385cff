// PluginStatus and the ABI helpers (copySizePrefixed, the raw status codes, static C strings)
// live in LaForgeABI, the one copy the host and the Swift plugin kit share; every layer sees them
// through Core, where the host's own copies used to be.
@_exported import LaForgeABI
