import LaForgeCore

/// The host's half of the config pipeline (DESIGN §2.4): the plugin's schema is checked first
/// (so a plugin bug is never blamed on the user), then the user's `config:` subtree is
/// validated against it, defaults are applied, and the canonical JSON of the result is what
/// the plugin's create() receives.
public struct PluginSchemaCheck: Sendable {
    public let schema: JSONSchema

    /// Parses and checks the plugin's schema text (nil: no configuration accepted).
    public init(schemaText: String?, library: String) throws(PluginLoadError) {
        guard let schemaText else {
            schema = try! JSONSchema(.object(["type": "object", "additionalProperties": false]))
            return
        }
        let json: JSONValue
        do {
            json = try JSONParser.parse(schemaText)
        } catch {
            throw PluginLoadError(
                .invalidPluginSchema, library: library,
                "its config schema is not valid JSON (\(error)); this is a bug in the plugin, not in your configuration")
        }
        do {
            schema = try JSONSchema(json)
        } catch {
            throw PluginLoadError(
                .invalidPluginSchema, library: library,
                "its config schema is invalid (\(error)); this is a bug in the plugin, not in your configuration")
        }
    }

    /// Validates `config` and returns the normalized canonical JSON, or one error per violation.
    public func normalize(_ config: JSONValue) -> Result<String, SchemaViolations> {
        let violations = schema.validate(config)
        guard violations.isEmpty else { return .failure(SchemaViolations(violations: violations)) }
        return .success(JSONCanonicalizer.canonicalString(schema.applyingDefaults(to: config)))
    }

    /// `normalize` for a configured instance, with violations turned into config errors that
    /// point at the user's YAML line and never show a secret.
    ///
    /// Resolved secrets never pass through a `String`: each is validated as a random stand-in
    /// string (its type only, see `JSONSchema.validate(_:opaqueStrings:)`), and the stand-ins in the
    /// canonical text are replaced by the secrets' bytes in the locked `PluginConfigJSON`.
    func normalize(_ instance: PluginInstanceConfig, config: YAMLNode?) -> Result<PluginConfigJSON, ConfigErrors> {
        var secrets: [String: ResolvedSecretText] = [:]
        let nonce = (0..<4).map { _ in String(UInt64.random(in: 0...UInt64.max), radix: 36) }.joined()
        let json = config?.toJSON { secret in
            let marker = "laforge-secret-\(nonce)-\(secrets.count)"
            secrets[marker] = secret
            return .string(marker)
        } ?? .object([:])
        let violations = schema.validate(json, opaqueStrings: Set(secrets.keys))
        guard violations.isEmpty else {
            var resolvedInstance = instance
            resolvedInstance.config = config
            return .failure(ConfigErrors(errors: violations.map { violation in
                var message = violation.message
                for marker in secrets.keys { message = message.replacing(marker, with: redactedPlaceholder) }
                return ConfigError.pluginConfig(
                    Self.errorKind(for: violation.keyword), instance: resolvedInstance,
                    at: violation.instancePath, message)
            }))
        }
        let canonical = JSONCanonicalizer.canonicalString(schema.applyingDefaults(to: json))
        return .success(PluginConfigJSON(canonical: canonical, secrets: secrets))
    }

    static func errorKind(for keyword: String) -> ConfigError.Kind {
        switch keyword {
        case "type": return .type
        case "required": return .missingKey
        case "additionalProperties": return .unknownKey
        default: return .invalidValue
        }
    }
}

/// Every schema violation of one configuration (Result needs an Error type).
public struct SchemaViolations: Error, Sendable {
    public var violations: [SchemaViolation]
}

/// Every configuration error found in one pass.
public struct ConfigErrors: Error, Sendable {
    public var errors: [ConfigError]
}
