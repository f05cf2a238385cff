// The JSON reader every Swift plugin shares (Sources/PluginSupport), visible in every file here.
@_exported import PluginSupport
