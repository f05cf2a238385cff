// `import LaForgeHost` brings every layer of the host, as before the split into modules.
@_exported import LaForgeAudit
@_exported import LaForgeCore
@_exported import LaForgeGovernance
@_exported import LaForgeIdentity
@_exported import LaForgeJournal
@_exported import LaForgePlugins
@_exported import LaForgeSecrets
