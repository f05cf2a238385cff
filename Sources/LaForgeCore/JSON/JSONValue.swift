/// A parsed JSON document, as the host passes it between configuration, schema validation,
/// plugins and the audit canonicalizer.
///
/// Numbers are a single `Double` on purpose: I-JSON (RFC 7493 §2.2) and JCS (RFC 8785 §3.2.2.3)
/// both limit interoperable numbers to IEEE-754 binary64, so a wider representation would only
/// let a value through that another component cannot reproduce byte for byte.
///
/// Equality is exact: strings are equal only if their Unicode scalars are (RFC 8259 §8.3), not
/// under Swift's canonical equivalence, so two values that canonicalize to different bytes
/// never compare equal (JSON Schema's `const`/`enum` require the same). Object keys, however,
/// are `Dictionary` keys and so use Swift's equivalence: two keys that differ only in
/// normalization (`"Å"` and `"A\u{30A}"`) are one key here, and the parser reports such a pair
/// as a duplicate. That is stricter than RFC 8259 but only rejects keys that look identical to a
/// reader and mean different things to a machine.
public enum JSONValue: Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])
}

extension JSONValue {
    /// The member named `key` when this is an object; `nil` for a missing key or a non-object,
    /// so lookups chain without a cascade of `if case`.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members[key]
    }

    /// The element at `index` when this is an array and the index is in bounds; `nil` otherwise
    /// (never a trap: indexes often come from input).
    public subscript(index: Int) -> JSONValue? {
        guard case .array(let elements) = self, elements.indices.contains(index) else { return nil }
        return elements[index]
    }

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    public var numberValue: Double? {
        if case .number(let value) = self { return value }
        return nil
    }

    /// The number as an `Int` when it has no fractional part and fits; JSON has no separate
    /// integer type, so `2.0` and `2` are both integers here (as in JSON Schema's `"integer"`).
    public var intValue: Int? {
        guard case .number(let value) = self, value.rounded(.towardZero) == value,
            let exact = Int(exactly: value)
        else { return nil }
        return exact
    }

    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    public var objectValue: [String: JSONValue]? {
        if case .object(let value) = self { return value }
        return nil
    }

    /// The JSON type name used in user-facing messages ("expected integer, got string").
    package var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}

extension JSONValue: Equatable, Hashable {
    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null):
            return true
        case (.bool(let left), .bool(let right)):
            return left == right
        case (.number(let left), .number(let right)):
            return left == right
        case (.string(let left), .string(let right)):
            return left.utf8.elementsEqual(right.utf8)
        case (.array(let left), .array(let right)):
            return left == right
        case (.object(let left), .object(let right)):
            guard left.count == right.count else { return false }
            for (key, value) in left {
                guard let index = right.index(forKey: key), right[index].key.utf8.elementsEqual(key.utf8),
                    right[index].value == value
                else { return false }
            }
            return true
        default:
            return false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null:
            hasher.combine(0)
        case .bool(let flag):
            hasher.combine(1)
            hasher.combine(flag)
        case .number(let number):
            hasher.combine(2)
            hasher.combine(number)
        case .string(let string):
            hasher.combine(3)
            for byte in string.utf8 { hasher.combine(byte) }
        case .array(let elements):
            hasher.combine(4)
            hasher.combine(elements)
        case .object(let members):
            hasher.combine(5)
            hasher.combine(members.count)
            // Dictionary order is arbitrary, so combine the members order-independently.
            var combined = 0
            for (key, value) in members {
                var member = Hasher()
                member.combine(JSONValue.string(key))
                member.combine(value)
                combined ^= member.finalize()
            }
            hasher.combine(combined)
        }
    }
}

// Literal conformances exist so tests and built-in schemas read like the JSON they stand for.

extension JSONValue: ExpressibleByNilLiteral {
    public init(nilLiteral: ()) { self = .null }
}

extension JSONValue: ExpressibleByBooleanLiteral {
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension JSONValue: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
}

extension JSONValue: ExpressibleByFloatLiteral {
    public init(floatLiteral value: Double) { self = .number(value) }
}

extension JSONValue: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
}

extension JSONValue: ExpressibleByArrayLiteral {
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
}

extension JSONValue: ExpressibleByDictionaryLiteral {
    /// Traps on a duplicate key, exactly like a `Dictionary` literal: a literal is source code,
    /// not input, so a duplicate is a programming error.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(uniqueKeysWithValues: elements))
    }
}

extension JSONValue: CustomStringConvertible {
    /// The RFC 8785 canonical form, so a value prints the same way everywhere it is logged.
    public var description: String { JSONCanonicalizer.canonicalString(self) }
}
