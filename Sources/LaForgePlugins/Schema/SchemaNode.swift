import Foundation
import LaForgeCore

/// One compiled (sub)schema. Nodes live in one array inside `JSONSchema` and refer to each
/// other by index, which lets `$ref` form cycles without reference-counted graphs.
struct SchemaNode: Sendable {
    /// `#/properties/mode`-style location in the schema document, for error messages.
    var pointer: String
    /// Set for the boolean schemas `true` and `false`; all other fields are then unused.
    var booleanSchema: Bool?

    var types: [SchemaType]?
    var properties: [String: Int] = [:]
    var required: [String] = []
    var additionalProperties: Int?
    var enumValues: [JSONValue]?
    var constValue: JSONValue?
    var minimum: Double?
    var maximum: Double?
    var exclusiveMinimum: Double?
    var exclusiveMaximum: Double?
    var minLength: Int?
    var maxLength: Int?
    var pattern: CompiledPattern?
    var items: Int?
    var minItems: Int?
    var maxItems: Int?
    var defaultValue: JSONValue?
    var allOf: [Int] = []
    var anyOf: [Int] = []
    var oneOf: [Int] = []
    var not: Int?
    var referenceText: String?
    var reference: Int?
    /// `"x-laforge-secret": true`: the value must never be logged or shown.
    var isSecret = false

    init(pointer: String, booleanSchema: Bool? = nil) {
        self.pointer = pointer
        self.booleanSchema = booleanSchema
    }

    /// The nodes that apply to the same instance location without descending into it.
    var inPlaceApplicators: [Int] {
        var result = allOf + anyOf + oneOf
        if let reference { result.append(reference) }
        if let not { result.append(not) }
        return result
    }
}

/// The JSON Schema `type` names.
enum SchemaType: String, Sendable, CaseIterable {
    case null, boolean, object, array, number, string, integer

    func matches(_ value: JSONValue) -> Bool {
        switch (self, value) {
        case (.null, .null), (.boolean, .bool), (.object, .object), (.array, .array),
            (.number, .number), (.string, .string):
            return true
        case (.integer, .number(let number)):
            // JSON Schema 2020-12 §6.1.1: any number with a zero fractional part, so 1.0 counts.
            return number.isFinite && number.rounded(.towardZero) == number
        default:
            return false
        }
    }
}

/// A `pattern` compiled once at schema load.
///
/// `@unchecked Sendable`: `NSRegularExpression` is immutable after creation and documented as
/// safe to use from several threads.
struct CompiledPattern: @unchecked Sendable {
    let source: String
    let expression: NSRegularExpression

    /// JSON Schema patterns are unanchored (2020-12 §6.3.3): any match anywhere counts.
    func matches(_ string: String) -> Bool {
        let range = NSRange(location: 0, length: string.utf16.count)
        return expression.firstMatch(in: string, options: [], range: range) != nil
    }
}
