import LaForgeCore

/// A scalar's text, how it was written, and the value the YAML 1.2 core schema gives it.
///
/// After interpolation a scalar is one of three things: an ordinary value; a template still holding
/// `${secret:…}` references (`template != nil`, value is the template's text); or a resolved secret
/// (`secret != nil`), whose `text` and `value` are `<redacted>`: the resolved bytes stay in
/// `secret` and reach only the plugin's configuration buffer.
public struct YAMLScalar: Sendable, Hashable {
    public enum Style: Sendable, Hashable {
        case plain, singleQuoted, doubleQuoted, literal, folded
    }

    /// A scalar's value under the YAML 1.2 core schema.
    public enum Value: Sendable, Hashable {
        case null
        case bool(Bool)
        /// Only integers JSON numbers hold exactly (|n| ≤ 2^53) are accepted.
        case int(Int)
        /// Never infinite or NaN: configuration refuses `.inf` and `.nan`.
        case float(Double)
        case string(String)
    }

    /// The scalar's content after escapes, folding and interpolation of `${env:}` and `${file:}`.
    public internal(set) var text: String
    public internal(set) var style: Style
    public internal(set) var value: Value
    /// The resolved text when it came, wholly or in part, from a `${secret:…}`.
    public internal(set) var secret: ResolvedSecretText?
    /// True when the text came, wholly or in part, from a resolved `${secret:…}`.
    public var isSecret: Bool { secret != nil }
    /// Set while the scalar still holds `${secret:…}` references; `text` then is the template with
    /// the references written back as `${secret:…}`.
    public internal(set) var template: [InterpolationSegment]?

    /// Quoted and block scalars are always strings; only plain scalars are resolved by the schema.
    public var isPlain: Bool { style == .plain }

    init(text: String, style: Style, value: Value) {
        self.text = text
        self.style = style
        self.value = value
        self.secret = nil
        self.template = nil
    }

    init(template: [InterpolationSegment], style: Style) {
        let text = template.map(\.sourceText).joined()
        self.init(text: text, style: style, value: .string(text))
        self.template = template
    }

    init(resolvedSecret secret: ResolvedSecretText, style: Style) {
        self.init(text: redactedPlaceholder, style: style, value: .string(redactedPlaceholder))
        self.secret = secret
    }

    /// The `${secret:…}` references this scalar still waits for.
    public var secretReferences: [SecretReference] {
        template?.compactMap { segment in
            if case .secret(let reference) = segment { return reference }
            return nil
        } ?? []
    }

    var typeName: String {
        switch value {
        case .null: "null"
        case .bool: "boolean"
        case .int: "integer"
        case .float: "number"
        case .string: "string"
        }
    }
}

extension YAMLScalar: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        if isSecret { return redactedPlaceholder }
        switch value {
        case .null: return "null"
        case .bool(let value): return String(value)
        case .int(let value): return String(value)
        case .float(let value): return String(value)
        case .string(let value): return quotedForMessage(value)
        }
    }

    public var debugDescription: String { "YAMLScalar(\(description))" }

    public var customMirror: Mirror {
        Mirror(self, children: ["style": style, "value": description], displayStyle: .struct)
    }
}

// MARK: - YAML 1.2 core schema

/// Why a scalar could not be given a value; the caller adds the location.
struct ScalarResolutionFailure: Error {
    var kind: ConfigError.Kind
    var message: String
}

extension YAMLScalar {
    static let strTag = "tag:yaml.org,2002:str"
    static let intTag = "tag:yaml.org,2002:int"
    static let floatTag = "tag:yaml.org,2002:float"
    static let boolTag = "tag:yaml.org,2002:bool"
    static let nullTag = "tag:yaml.org,2002:null"
    static let seqTag = "tag:yaml.org,2002:seq"
    static let mapTag = "tag:yaml.org,2002:map"
    /// The non-specific tag: on a scalar it means "string" (YAML 1.2 §6.9.1).
    static let nonSpecificTag = "!"

    /// JSON numbers are doubles; a larger integer would silently change on its way to a plugin.
    static let largestExactInteger = 1 << 53

    /// Gives `text` its value: an explicit core tag decides; otherwise a quoted or block scalar is
    /// a string and a plain one is matched against the core schema's forms (YAML 1.2 §10.3.2).
    static func resolve(text: String, style: Style, tag: String?) throws(ScalarResolutionFailure) -> Value {
        switch tag {
        case nil:
            return style == .plain ? try resolvePlain(text) : .string(text)
        case strTag?, nonSpecificTag?:
            return .string(text)
        case nullTag?:
            if let value = coreNull(text) { return value }
            throw ScalarResolutionFailure(kind: .type, message: "\(quotedForMessage(text)) is not a null (!!null)")
        case boolTag?:
            if let value = coreBool(text) { return value }
            throw ScalarResolutionFailure(kind: .type, message: "\(quotedForMessage(text)) is not a boolean (!!bool)")
        case intTag?:
            if let value = try coreInt(text) { return value }
            throw ScalarResolutionFailure(kind: .type, message: "\(quotedForMessage(text)) is not an integer (!!int)")
        case floatTag?:
            if let value = try coreInt(text) { return value }
            if let value = try coreFloat(text) { return value }
            throw ScalarResolutionFailure(kind: .type, message: "\(quotedForMessage(text)) is not a number (!!float)")
        case let tag?:
            throw ScalarResolutionFailure(kind: .invalidValue, message: "unsupported tag \(tag) on a scalar")
        }
    }

    private static func resolvePlain(_ text: String) throws(ScalarResolutionFailure) -> Value {
        if let value = coreNull(text) { return value }
        if let value = coreBool(text) { return value }
        if let value = try coreInt(text) { return value }
        if let value = try coreFloat(text) { return value }
        return .string(text)
    }

    private static func coreNull(_ text: String) -> Value? {
        ["", "~", "null", "Null", "NULL"].contains(text) ? .null : nil
    }

    private static func coreBool(_ text: String) -> Value? {
        switch text {
        case "true", "True", "TRUE": .bool(true)
        case "false", "False", "FALSE": .bool(false)
        default: nil
        }
    }

    /// `[-+]?[0-9]+`, `0o[0-7]+`, `0x[0-9a-fA-F]+`; nil when `text` has none of these forms.
    private static func coreInt(_ text: String) throws(ScalarResolutionFailure) -> Value? {
        let parsed: Int?
        if text.hasPrefix("0o") {
            let digits = text.dropFirst(2)
            guard !digits.isEmpty, digits.allSatisfy({ ("0"..."7").contains($0) }) else { return nil }
            parsed = Int(digits, radix: 8)
        } else if text.hasPrefix("0x") {
            let digits = text.dropFirst(2)
            guard !digits.isEmpty, digits.allSatisfy(\.isHexDigit) else { return nil }
            parsed = Int(digits, radix: 16)
        } else {
            let digits = text.first == "-" || text.first == "+" ? text.dropFirst() : text[...]
            guard !digits.isEmpty, digits.allSatisfy(isDecimalDigit) else { return nil }
            parsed = Int(text.first == "+" ? String(digits) : text)
        }
        guard let parsed, parsed.magnitude <= largestExactInteger else {
            throw ScalarResolutionFailure(
                kind: .invalidValue,
                message: "integer \(text) is out of range (JSON numbers hold integers up to ±2^53 exactly)")
        }
        return .int(parsed)
    }

    /// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`; `.inf` and `.nan` are refused.
    private static func coreFloat(_ text: String) throws(ScalarResolutionFailure) -> Value? {
        let unsigned = text.first == "-" || text.first == "+" ? text.dropFirst() : text[...]
        if [".inf", ".Inf", ".INF"].contains(unsigned) || [".nan", ".NaN", ".NAN"].contains(text) {
            throw ScalarResolutionFailure(
                kind: .invalidValue,
                message: "infinite and NaN numbers are not allowed in configuration; quote \(text) to make it a string")
        }
        var rest = unsigned
        let integerDigits = rest.prefix(while: isDecimalDigit)
        rest = rest.dropFirst(integerDigits.count)
        var fractionDigits: Substring = ""
        if rest.first == "." {
            rest = rest.dropFirst()
            fractionDigits = rest.prefix(while: isDecimalDigit)
            rest = rest.dropFirst(fractionDigits.count)
        }
        guard !integerDigits.isEmpty || !fractionDigits.isEmpty else { return nil }
        if rest.first == "e" || rest.first == "E" {
            rest = rest.dropFirst()
            if rest.first == "-" || rest.first == "+" { rest = rest.dropFirst() }
            let exponentDigits = rest.prefix(while: isDecimalDigit)
            guard !exponentDigits.isEmpty else { return nil }
            rest = rest.dropFirst(exponentDigits.count)
        }
        guard rest.isEmpty, let value = Double(text.first == "+" ? String(text.dropFirst()) : text) else {
            return nil
        }
        guard value.isFinite else {
            throw ScalarResolutionFailure(kind: .invalidValue, message: "number \(text) is out of range")
        }
        return .float(value)
    }

    private static func isDecimalDigit(_ character: Character) -> Bool {
        ("0"..."9").contains(character)
    }
}
