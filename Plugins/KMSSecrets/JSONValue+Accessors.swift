/// Accessors the KMS clients use on the providers' JSON answers.
extension JSONValue {
    var stringValue: String? {
        guard case .string(let text) = self else { return nil }
        return text
    }

    var boolValue: Bool? {
        guard case .bool(let flag) = self else { return nil }
        return flag
    }

    /// An integer written as a number or (Google's int64 convention) as a decimal string.
    var integerValue: Int64? {
        switch self {
        case .number(let text): return Int64(text) ?? Double(text).map { Int64($0) }
        case .string(let text): return Int64(text)
        default: return nil
        }
    }

    func string(_ name: String) -> String? { member(name)?.stringValue }
}
