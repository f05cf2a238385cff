/// The `audit:` section. Each setting group decodes in its own function so new groups (journal,
/// checkpoints) are added without touching the others.
public struct AuditConfig: Sendable {
    /// Audit sink plugin instances, in file order; empty when `audit.sinks` is absent (the journal
    /// alone still records every event).
    public var sinks: [PluginInstanceConfig]

    public init(sinks: [PluginInstanceConfig] = []) {
        self.sinks = sinks
    }

    static let keys = ["sinks"]

    /// `value` is nil when the section is absent or empty.
    static func decode(_ value: ConfigValue?) throws(ConfigError) -> AuditConfig {
        guard let value else { return AuditConfig() }
        let section = try value.mapping()
        try section.rejectUnknownKeys(keys)
        var audit = AuditConfig()
        if let sinks = section.optional("sinks") {
            audit.sinks = try LaForgeConfig.decodePluginInstances(sinks, role: .auditSink)
        }
        return audit
    }
}
