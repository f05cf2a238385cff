import Foundation
import LaForgeCore

/// What `laforge config show` prints: the configuration in force after interpolation and
/// command-line overrides, where it came from, and nothing secret. Resolved `${secret:…}` values
/// are `<redacted>` (YAMLNode does that); so is any value of a key whose name says it holds a
/// credential (`password`, `token`, `api_key`, …) unless it is still a `${secret:…}` reference,
/// because `${env:}` and `${file:}` may have put a secret there that nothing marks as one.
public struct EffectiveConfiguration: Sendable {
    public var location: ConfigLocation
    public var config: LaForgeConfig

    public init(location: ConfigLocation, config: LaForgeConfig) {
        self.location = location
        self.config = config
    }

    static let credentialKeyParts = ["password", "passwd", "secret", "token", "api_key", "apikey", "credential", "private_key"]

    static func isCredentialKey(_ key: String) -> Bool {
        let lowered = key.lowercased()
        return credentialKeyParts.contains { lowered.contains($0) }
    }

    /// The document, redacted, with `state_dir` as in force (after `--state-dir`).
    public var document: JSONValue {
        var document = Self.redactingCredentials(config.document.toJSON())
        if case .object(var members) = document {
            members["state_dir"] = .string(config.stateDir)
            document = .object(members)
        }
        return document
    }

    static func redactingCredentials(_ value: JSONValue, key: String? = nil) -> JSONValue {
        switch value {
        case .object(let members):
            return .object(members.reduce(into: [:]) { result, member in
                result[member.key] = redactingCredentials(member.value, key: member.key)
            })
        case .array(let elements):
            return .array(elements.map { redactingCredentials($0, key: key) })
        case .string(let text) where key.map(isCredentialKey) == true && !text.hasPrefix("${secret:"):
            return text == redactedPlaceholder ? value : .string(redactedPlaceholder)
        default:
            return value
        }
    }

    /// `{"source": …, "origin": …, "path": …, "configuration": …}` for `--json`.
    public func jsonValue() -> JSONValue {
        .object([
            "source": .string(location.description), "origin": .string(location.origin.rawValue),
            "path": location.path.map(JSONValue.string) ?? .null, "configuration": document,
        ])
    }

    /// One `key.path: value` line per scalar, keys sorted, after a `# in force:` line.
    public func lines() -> [String] {
        var lines = ["# in force: \(location.description)"]
        func walk(_ value: JSONValue, _ path: String) {
            switch value {
            case .object(let members):
                if members.isEmpty { lines.append("\(path): {}") }
                for key in members.keys.sorted() { walk(members[key]!, path.isEmpty ? key : path + "." + key) }
            case .array(let elements):
                if elements.isEmpty { lines.append("\(path): []") }
                for (index, element) in elements.enumerated() { walk(element, "\(path)[\(index)]") }
            case .string(let text): lines.append("\(path): \(text)")
            case .number(let number):
                lines.append("\(path): " + (number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)))
            case .bool(let flag): lines.append("\(path): \(flag)")
            case .null: lines.append("\(path): null")
            }
        }
        walk(document, "")
        return lines
    }
}
