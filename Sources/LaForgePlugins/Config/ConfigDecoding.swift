import LaForgeCore

/// A node being decoded into a typed setting, with its key path so every error can say where it
/// is. Each section's decoder is written with these; they produce the messages users see
/// ("expected integer, got string \"ten\""), so sections stay consistent.
struct ConfigValue {
    var node: YAMLNode
    var path: [JSONPathComponent]

    var mark: SourceMark { node.mark }

    /// The node as a mapping. Check its keys with `rejectUnknownKeys` once the keys that decide
    /// what is valid (such as `version`) have been read.
    func mapping() throws(ConfigError) -> ConfigMapping {
        guard let entries = node.mapping else { throw typeMismatch(expected: "mapping") }
        return ConfigMapping(value: self, entries: entries)
    }

    func sequence() throws(ConfigError) -> [ConfigValue] {
        guard let items = node.sequence else { throw typeMismatch(expected: "sequence") }
        return items.enumerated().map { ConfigValue(node: $1, path: path + [.index($0)]) }
    }

    /// A string setting of the host itself. `${secret:…}` is refused here: host settings are read
    /// before any secret backend is loaded, and only plugin `config:` subtrees are resolved later.
    func string() throws(ConfigError) -> String {
        if let reference = node.secretReferences.first {
            throw ConfigError(
                .interpolation, at: reference.mark, path: path,
                "\(reference) is not allowed here; ${secret:…} may only be used inside a plugin's config")
        }
        guard case .string(let text)? = node.scalar?.value else { throw typeMismatch(expected: "string") }
        return text
    }

    func nonEmptyString() throws(ConfigError) -> String {
        let text = try string()
        guard !text.isEmpty else { throw ConfigError(.invalidValue, at: mark, path: path, "must not be empty") }
        return text
    }

    func int() throws(ConfigError) -> Int {
        guard case .int(let value)? = node.scalar?.value else { throw typeMismatch(expected: "integer") }
        return value
    }

    func bool() throws(ConfigError) -> Bool {
        guard case .bool(let value)? = node.scalar?.value else { throw typeMismatch(expected: "boolean") }
        return value
    }

    /// One of the enumeration's raw values, with a suggestion for a near miss (`prod`).
    func oneOf<Choice: RawRepresentable & CaseIterable>(_: Choice.Type) throws(ConfigError) -> Choice
    where Choice.RawValue == String {
        let text = try string()
        if let choice = Choice(rawValue: text) { return choice }
        let choices = Choice.allCases.map(\.rawValue)
        var message = "expected one of \(choices.joined(separator: ", ")), got \(quotedForMessage(text))"
        if let suggestion = closestMatch(to: text, in: choices) {
            message += "; did you mean \(suggestion)?"
        }
        throw ConfigError(.invalidValue, at: mark, path: path, message)
    }

    func typeMismatch(expected: String) -> ConfigError {
        ConfigError(.type, at: mark, path: path, "expected \(expected), got \(node.valueSummary)")
    }
}

/// A mapping being decoded: finds keys, reports missing and unknown ones.
struct ConfigMapping {
    var value: ConfigValue
    var entries: [YAMLMappingEntry]

    var path: [JSONPathComponent] { value.path }
    var mark: SourceMark { value.mark }

    /// The value of `key`, or nil when it is absent or empty (`key:` with nothing after it, or
    /// `~`): leaving a value empty is the same as leaving the key out.
    func optional(_ key: String) -> ConfigValue? {
        guard let entry = entries.first(where: { $0.key == key }) else { return nil }
        if case .null? = entry.value.scalar?.value, entry.value.scalar?.template == nil { return nil }
        return ConfigValue(node: entry.value, path: path + [.key(key)])
    }

    func required(_ key: String) throws(ConfigError) -> ConfigValue {
        if let value = optional(key) { return value }
        if let entry = entries.first(where: { $0.key == key }) {
            throw ConfigError(
                .missingKey, at: entry.value.mark, path: path + [.key(key)], "required value is empty")
        }
        throw ConfigError(.missingKey, at: mark, path: path, "missing required key \(quotedForMessage(key))")
    }

    func contains(_ key: String) -> Bool {
        entries.contains { $0.key == key }
    }

    /// Refuses the first key not in `validKeys`, suggesting the one it most likely meant.
    func rejectUnknownKeys(_ validKeys: [String]) throws(ConfigError) {
        for entry in entries where !validKeys.contains(entry.key) {
            throw ConfigError.unknownKey(
                entry.key, at: entry.keyMark, path: path + [.key(entry.key)], validKeys: validKeys)
        }
    }
}
