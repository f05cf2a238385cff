// The Swift plugin kit (Sources/LaForgePluginKit) and the C ABI it re-exports, visible in every file here.
@_exported import LaForgePluginKit
