import LaForgeCore

/// A configuration problem, located in the file and in the document, with a message a user can act
/// on.
///
/// It always renders as `FILE:LINE:COL: KEY.PATH: message`, for example
/// `config/laforge.yaml:14:5: audit.sinks[1].config.batch_size: expected integer, got string "ten"`.
/// Parts that are unknown are left out: an unreadable file renders as `FILE: message`, an error
/// about the document as a whole as `FILE:LINE:COL: message`.
///
/// Messages never contain a value that came from `${secret:…}`: every rendering of a value goes
/// through `YAMLNode.valueSummary`, which prints `<redacted>` for those.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, for the CLI to choose an exit code and for tests to match on.
    public enum Kind: String, Sendable, Equatable, CaseIterable {
        /// The file is not well-formed YAML, is empty, or holds several documents.
        case syntax
        /// A value has the wrong YAML type (a string where an integer is expected).
        case type
        /// A mapping holds a key this version does not know.
        case unknownKey
        /// A required key is absent.
        case missingKey
        /// A value has the right type but is not acceptable (unsupported version, bad name).
        case invalidValue
        /// A `${…}` reference is malformed or cannot be resolved.
        case interpolation
        /// A mapping key or an instance name appears twice.
        case duplicate
        /// The file, or a file it refers to, cannot be read.
        case io
    }

    public var kind: Kind
    /// The file the error is about, as the user named it.
    public var file: String
    /// Where in `file` the error is; nil when the file itself could not be read.
    public var mark: SourceMark?
    /// Where in the document the error is; empty for errors about the document as a whole.
    public var path: [JSONPathComponent]
    /// The sentence after the path, without location.
    public var message: String
    /// For `.unknownKey`: the closest valid key, if one is close enough to be a likely typo.
    public var suggestion: String?
    /// For `.duplicate`: where the first occurrence is.
    public var firstMark: SourceMark?

    public init(
        kind: Kind, file: String, mark: SourceMark?, path: [JSONPathComponent] = [], message: String,
        suggestion: String? = nil, firstMark: SourceMark? = nil
    ) {
        self.kind = kind
        self.file = file
        self.mark = mark
        self.path = path
        self.message = message
        self.suggestion = suggestion
        self.firstMark = firstMark
    }

    /// An error at a node of the document.
    public init(
        _ kind: Kind, at mark: SourceMark, path: [JSONPathComponent] = [], _ message: String,
        suggestion: String? = nil, firstMark: SourceMark? = nil
    ) {
        self.init(
            kind: kind, file: mark.file, mark: mark, path: path, message: message, suggestion: suggestion,
            firstMark: firstMark)
    }

    public var description: String {
        var text = mark.map { "\($0): " } ?? (file.isEmpty ? "" : "\(file): ")
        if !path.isEmpty {
            text += JSONPathComponent.render(path) + ": "
        }
        return text + message
    }
}

extension ConfigError {
    /// `key` is not one of `validKeys`; suggests the closest valid key when it is a likely typo.
    static func unknownKey(_ key: String, at mark: SourceMark, path: [JSONPathComponent], validKeys: [String])
        -> ConfigError
    {
        if let suggestion = closestMatch(to: key, in: validKeys) {
            return ConfigError(
                .unknownKey, at: mark, path: path, "unknown key; did you mean \(quotedForMessage(suggestion))?",
                suggestion: suggestion)
        }
        return ConfigError(
            .unknownKey, at: mark, path: path, "unknown key; valid keys are: \(validKeys.joined(separator: ", "))")
    }

    /// An error about a value inside a plugin's `config:` subtree, found after the subtree was
    /// handed over as JSON (typically a JSON Schema violation). `path` is relative to the subtree;
    /// the error is located at the deepest node of the subtree that `path` reaches.
    ///
    /// `message` comes from code that saw the JSON form, in which no resolved secret is present
    /// (`PluginSchemaCheck` validates with stand-ins and renames them `<redacted>` in messages).
    public static func pluginConfig(
        _ kind: Kind, instance: PluginInstanceConfig, at path: [JSONPathComponent], _ message: String
    ) -> ConfigError {
        let fullPath = instance.keyPath + ["config"] + path
        guard let config = instance.config else {
            return ConfigError(kind, at: instance.mark, path: fullPath, message)
        }
        return ConfigError(kind, at: config.mark(at: path), path: fullPath, message)
    }
}

/// What every rendering prints instead of a value that came from `${secret:…}`.
public let redactedPlaceholder = "<redacted>"
