import Foundation

/// A strict RFC 8259 JSON parser that also enforces the I-JSON rules (RFC 7493) the host relies
/// on: unique object keys, well-formed UTF-8, no lone surrogates, and numbers that fit a
/// binary64 double.
///
/// It is hand-written rather than built on `JSONSerialization` because the host needs exact
/// control of three things that API hides: how numbers round, what happens to duplicate keys
/// (it keeps one silently), and the position of an error (it reports none a user can use).
public enum JSONParser {
    /// Nesting deeper than this is rejected, so hostile input cannot exhaust the stack.
    public static let maximumDepth = 512

    public static func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONValue {
        let result = bytes.withUnsafeBufferPointer { buffer in
            Result { () throws(JSONParseError) -> JSONValue in
                var reader = JSONByteReader(bytes: buffer)
                return try reader.parseDocument()
            }
        }
        return try result.get()
    }

    /// As `parse`, refusing with `exactNumbers` any number a double cannot hold as written
    /// (`12345678901234567890123`, `-9007199254740993`): audit input is stored as given or
    /// refused, never rounded. The error names the member path (`JSONParseError.field`).
    public static func parse(_ bytes: ArraySlice<UInt8>, exactNumbers: Bool) throws(JSONParseError) -> JSONValue {
        let result = bytes.withUnsafeBufferPointer { buffer in
            Result { () throws(JSONParseError) -> JSONValue in
                var reader = JSONByteReader(bytes: buffer)
                reader.exactNumbers = exactNumbers
                return try reader.parseDocument()
            }
        }
        return try result.get()
    }

    /// Parses a slice in place (an NDJSON line inside a read buffer) without copying it.
    public static func parse(_ bytes: ArraySlice<UInt8>) throws(JSONParseError) -> JSONValue {
        let result = bytes.withUnsafeBufferPointer { buffer in
            Result { () throws(JSONParseError) -> JSONValue in
                var reader = JSONByteReader(bytes: buffer)
                return try reader.parseDocument()
            }
        }
        return try result.get()
    }

    public static func parse(_ data: Data) throws(JSONParseError) -> JSONValue {
        try parse([UInt8](data))
    }

    public static func parse(_ text: String) throws(JSONParseError) -> JSONValue {
        try parse(Array(text.utf8))
    }
}

/// The parsing state: a cursor over the input bytes. Kept separate from `JSONParser` so the
/// public surface is only the entry points.
package struct JSONByteReader {
    package let bytes: UnsafeBufferPointer<UInt8>
    package var index = 0
    package var depth = 0
    /// Refuse numbers a double cannot hold as written (see `JSONParser.parse(_:exactNumbers:)`).
    package var exactNumbers = false
    /// With `exactNumbers`: the member names and array indexes down to the value being parsed,
    /// to name the field of a refused number.
    var path: [String] = []

    package init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    package mutating func parseDocument() throws(JSONParseError) -> JSONValue {
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF {
            // RFC 8259 §8.1: senders must not add a BOM; accepting one would let two byte
            // sequences stand for the same document.
            throw error(at: 0, "a byte order mark is not allowed at the start of JSON")
        }
        skipWhitespace()
        let value = try parseValue()
        skipWhitespace()
        if index < bytes.count {
            throw error(at: index, "unexpected \(describeByte(at: index)) after the JSON value")
        }
        return value
    }

    // MARK: Values

    package mutating func parseValue() throws(JSONParseError) -> JSONValue {
        guard index < bytes.count else {
            throw error(at: index, "unexpected end of input, expected a JSON value")
        }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): return try parseLiteral("true", .bool(true))
        case UInt8(ascii: "f"): return try parseLiteral("false", .bool(false))
        case UInt8(ascii: "n"): return try parseLiteral("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        case UInt8(ascii: "'"):
            throw error(at: index, "strings must be enclosed in double quotes, not single quotes")
        default:
            throw error(at: index, "unexpected \(describeByte(at: index)), expected a JSON value")
        }
    }

    package mutating func parseLiteral(_ word: StaticString, _ value: JSONValue) throws(JSONParseError)
        -> JSONValue
    {
        let start = index
        let count = word.utf8CodeUnitCount
        let matches = word.withUTF8Buffer { expected in
            bytes.count - start >= count && (0..<count).allSatisfy { bytes[start + $0] == expected[$0] }
        }
        guard matches else {
            throw error(at: start, "invalid literal, expected \"\(word)\"")
        }
        index += count
        return value
    }

    mutating func parseObject() throws(JSONParseError) -> JSONValue {
        try enterContainer()
        index += 1  // "{"
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return .object([:])
        }
        // Room for a typical object (an event, an identity, a token's claims) from the start:
        // growing from empty re-hashes every key at each doubling, about twice the hashing.
        var members = [String: JSONValue](minimumCapacity: 12)
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else {
                if peek() == UInt8(ascii: "}") {
                    throw error(at: index, "a trailing comma is not allowed before \"}\"")
                }
                throw error(at: index, "expected a string key, found \(describeByte(at: index))")
            }
            let keyOffset = index
            let key = try parseString()
            skipWhitespace()
            guard peek() == UInt8(ascii: ":") else {
                throw error(at: index, "expected \":\" after object key, found \(describeByte(at: index))")
            }
            index += 1
            skipWhitespace()
            if exactNumbers { path.append(key) }
            let value = try parseValue()
            if exactNumbers { path.removeLast() }
            if members.updateValue(value, forKey: key) != nil {
                // RFC 7493 §2.3: parsers disagree on which duplicate wins, so the only safe
                // answer is to refuse the document.
                throw error(at: keyOffset, "duplicate key \(JSONCanonicalizer.canonicalString(.string(key))) in object")
            }
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","):
                index += 1
            case UInt8(ascii: "}"):
                index += 1
                depth -= 1
                return .object(members)
            default:
                throw error(at: index, "expected \",\" or \"}\" in object, found \(describeByte(at: index))")
            }
        }
    }

    mutating func parseArray() throws(JSONParseError) -> JSONValue {
        try enterContainer()
        index += 1  // "["
        var elements: [JSONValue] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "]") {
            index += 1
            depth -= 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            if peek() == UInt8(ascii: "]") {
                throw error(at: index, "a trailing comma is not allowed before \"]\"")
            }
            if exactNumbers { path.append("[\(elements.count)]") }
            elements.append(try parseValue())
            if exactNumbers { path.removeLast() }
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","):
                index += 1
            case UInt8(ascii: "]"):
                index += 1
                depth -= 1
                return .array(elements)
            default:
                throw error(at: index, "expected \",\" or \"]\" in array, found \(describeByte(at: index))")
            }
        }
    }

    package mutating func enterContainer() throws(JSONParseError) {
        depth += 1
        if depth > JSONParser.maximumDepth {
            throw error(at: index, "nesting is deeper than \(JSONParser.maximumDepth) levels")
        }
    }

    // MARK: Numbers

    package mutating func parseNumber() throws(JSONParseError) -> JSONValue {
        let start = index
        var isInteger = true
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard let first = peek(), isDigit(first) else {
            throw error(at: index, "expected a digit after \"-\", found \(describeByte(at: index))")
        }
        index += 1
        if first == UInt8(ascii: "0") {
            if let next = peek(), isDigit(next) {
                throw error(at: start, "leading zeros are not allowed in numbers")
            }
        } else {
            skipDigits()
        }
        if peek() == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard let next = peek(), isDigit(next) else {
                throw error(at: index, "expected a digit after the decimal point, found \(describeByte(at: index))")
            }
            skipDigits()
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { index += 1 }
            guard let next = peek(), isDigit(next) else {
                throw error(at: index, "expected a digit in the exponent, found \(describeByte(at: index))")
            }
            skipDigits()
        }
        let literal = UnsafeBufferPointer(rebasing: bytes[start..<index])
        // Up to 15 digits an integer is exact in a Double, so skip the string round trip.
        let negative = literal[0] == UInt8(ascii: "-")
        let digitCount = literal.count - (negative ? 1 : 0)
        if isInteger && digitCount <= 15 {
            var magnitude: Int64 = 0
            for byte in literal where byte != UInt8(ascii: "-") {
                magnitude = magnitude * 10 + Int64(byte - UInt8(ascii: "0"))
            }
            return .number(negative ? -Double(magnitude) : Double(magnitude))
        }
        let text = String(decoding: literal, as: UTF8.self)
        guard let value = Double(text), value.isFinite else {
            throw error(at: start, "number \(text) is outside the range of a 64-bit floating-point value")
        }
        if value == 0 && !hasOnlyZeroMantissa(literal) {
            // Silently turning 1e-400 into 0 would change the meaning of the document.
            throw error(at: start, "number \(text) is too small to represent as a 64-bit floating-point value")
        }
        if exactNumbers {
            var canonical: [UInt8] = []
            JSONCanonicalizer.writeNumber(value, into: &canonical)
            if !Self.sameDecimal(Array(literal), canonical) {
                var refused = error(
                    at: start,
                    "number \(text) cannot be stored as written: as a 64-bit floating-point value it is \(String(decoding: canonical, as: UTF8.self)) "
                        + "(integers beyond ±2^53 are not I-JSON, RFC 7493 §2.2): send it as a string")
                refused.field = path.reduce("") { $1.hasPrefix("[") || $0.isEmpty ? $0 + $1 : $0 + "." + $1 }
                throw refused
            }
        }
        return .number(value)
    }

    /// Whether two JSON number literals denote the same decimal value (`1.0` and `1`, `1e2` and
    /// `100`, `-0` and `0` do; `9007199254740993` and `9007199254740992` do not).
    static func sameDecimal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        func normalized(_ literal: [UInt8]) -> (negative: Bool, digits: [UInt8], exponent: Int) {
            var negative = false
            var digits: [UInt8] = []
            var exponent = 0
            var index = 0
            if index < literal.count, literal[index] == UInt8(ascii: "-") {
                negative = true
                index += 1
            }
            var afterPoint = false
            while index < literal.count, literal[index] != UInt8(ascii: "e"), literal[index] != UInt8(ascii: "E") {
                if literal[index] == UInt8(ascii: ".") {
                    afterPoint = true
                } else {
                    digits.append(literal[index])
                    if afterPoint { exponent -= 1 }
                }
                index += 1
            }
            if index < literal.count {
                index += 1
                var sign = 1
                if index < literal.count, literal[index] == UInt8(ascii: "+") || literal[index] == UInt8(ascii: "-") {
                    sign = literal[index] == UInt8(ascii: "-") ? -1 : 1
                    index += 1
                }
                var value = 0
                // Saturate: an exponent this large already made the value 0 or infinite.
                while index < literal.count {
                    value = min(value * 10 + Int(literal[index] - UInt8(ascii: "0")), 1 << 40)
                    index += 1
                }
                exponent += sign * value
            }
            while let first = digits.first, first == UInt8(ascii: "0") { digits.removeFirst() }
            while let last = digits.last, last == UInt8(ascii: "0") {
                digits.removeLast()
                exponent += 1
            }
            if digits.isEmpty { return (false, [], 0) }
            return (negative, digits, exponent)
        }
        let left = normalized(a)
        let right = normalized(b)
        return left.negative == right.negative && left.digits == right.digits && left.exponent == right.exponent
    }

    /// Whether every digit before the exponent is zero (`0.000e5` is a legitimate zero).
    private func hasOnlyZeroMantissa(_ literal: UnsafeBufferPointer<UInt8>) -> Bool {
        for byte in literal {
            if byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") { return true }
            if byte >= UInt8(ascii: "1") && byte <= UInt8(ascii: "9") { return false }
        }
        return true
    }

    mutating func skipDigits() {
        while index < bytes.count, isDigit(bytes[index]) { index += 1 }
    }

    func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    // MARK: Strings

    /// Parses a string starting at its opening quote. Unescaped runs are validated as UTF-8 in
    /// place and copied once; only strings with escapes go through a scratch buffer.
    package mutating func parseString() throws(JSONParseError) -> String {
        index += 1  // opening quote
        var runStart = index
        var scratch: [UInt8]? = nil
        while true {
            guard index < bytes.count else {
                throw error(at: index, "unexpected end of input inside a string (missing closing quote)")
            }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let run = UnsafeBufferPointer(rebasing: bytes[runStart..<index])
                index += 1
                if var buffer = scratch {
                    buffer.append(contentsOf: run)
                    return String(decoding: buffer, as: UTF8.self)
                }
                return String(decoding: run, as: UTF8.self)
            } else if byte == UInt8(ascii: "\\") {
                if scratch == nil { scratch = [] }
                scratch!.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
                try parseEscape(into: &scratch!)
                runStart = index
            } else if byte < 0x20 {
                throw error(at: index, "control character U+\(hex4(UInt32(byte))) must be escaped in a string")
            } else if byte < 0x80 {
                index += 1
            } else {
                try skipUTF8Sequence()
            }
        }
    }

    mutating func parseEscape(into buffer: inout [UInt8]) throws(JSONParseError) {
        let escapeStart = index
        index += 1  // backslash
        guard let byte = peek() else {
            throw error(at: index, "unexpected end of input inside a string escape")
        }
        index += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): buffer.append(byte)
        case UInt8(ascii: "b"): buffer.append(0x08)
        case UInt8(ascii: "f"): buffer.append(0x0C)
        case UInt8(ascii: "n"): buffer.append(0x0A)
        case UInt8(ascii: "r"): buffer.append(0x0D)
        case UInt8(ascii: "t"): buffer.append(0x09)
        case UInt8(ascii: "u"):
            let unit = try parseHex4(escapeStart: escapeStart)
            var scalarValue = unit
            if (0xD800...0xDBFF).contains(unit) {
                guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"),
                    bytes[index + 1] == UInt8(ascii: "u")
                else {
                    throw error(
                        at: escapeStart, "lone high surrogate \\u\(hex4(unit)) (a \\uDC00-\\uDFFF escape must follow)")
                }
                let lowStart = index
                index += 2
                let low = try parseHex4(escapeStart: lowStart)
                guard (0xDC00...0xDFFF).contains(low) else {
                    throw error(
                        at: escapeStart,
                        "lone high surrogate \\u\(hex4(unit)) (followed by \\u\(hex4(low)), not a low surrogate)")
                }
                scalarValue = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(unit) {
                throw error(at: escapeStart, "lone low surrogate \\u\(hex4(unit)) (no high surrogate before it)")
            }
            buffer.append(contentsOf: String(Character(Unicode.Scalar(scalarValue)!)).utf8)
        default:
            throw error(at: escapeStart, "invalid escape \"\\\(describeEscapeByte(byte))\" in string")
        }
    }

    mutating func parseHex4(escapeStart: Int) throws(JSONParseError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = peek() else {
                throw error(at: index, "unexpected end of input inside a \\u escape")
            }
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default:
                throw error(at: escapeStart, "a \\u escape needs exactly four hexadecimal digits")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    /// Validates one multi-byte UTF-8 sequence at `index` (Unicode 15 Table 3-7: no overlong
    /// forms, no encoded surrogates, nothing above U+10FFFF) and moves past it.
    package mutating func skipUTF8Sequence() throws(JSONParseError) {
        let lead = bytes[index]
        let length: Int
        var secondRange: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0:
            length = 3
            secondRange = 0xA0...0xBF
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED:
            length = 3
            secondRange = 0x80...0x9F
        case 0xF0:
            length = 4
            secondRange = 0x90...0xBF
        case 0xF1...0xF3: length = 4
        case 0xF4:
            length = 4
            secondRange = 0x80...0x8F
        default:
            throw error(at: index, "invalid UTF-8 byte 0x\(hex2(lead))")
        }
        guard index + length <= bytes.count else {
            throw error(at: index, "truncated UTF-8 sequence at end of input")
        }
        guard secondRange.contains(bytes[index + 1]) else {
            throw error(at: index, "invalid UTF-8 sequence starting with byte 0x\(hex2(lead))")
        }
        for offset in 2..<max(2, length) where !(0x80...0xBF).contains(bytes[index + offset]) {
            throw error(at: index, "invalid UTF-8 sequence starting with byte 0x\(hex2(lead))")
        }
        index += length
    }

    // MARK: Helpers

    // The two helpers the ingest fast path (AuditEventTranscoder, in LaForgeAudit) calls for
    // nearly every byte: inlinable, so the module boundary costs no call per byte.
    @inlinable
    package func peek() -> UInt8? {
        index < bytes.count ? bytes[index] : nil
    }

    @inlinable
    package mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    func describeByte(at offset: Int) -> String {
        guard offset < bytes.count else { return "end of input" }
        let byte = bytes[offset]
        if byte >= 0x21 && byte < 0x7F {
            return "character '\(Character(Unicode.Scalar(byte)))'"
        }
        switch byte {
        case 0x20, 0x09, 0x0A, 0x0D: return "whitespace"
        default: return "byte 0x\(hex2(byte))"
        }
    }

    func describeEscapeByte(_ byte: UInt8) -> String {
        byte >= 0x21 && byte < 0x7F ? String(Character(Unicode.Scalar(byte))) : "x\(hex2(byte))"
    }

    /// Builds the error with line and column worked out from the offset: positions are only
    /// needed on this cold path, so the hot loops do not track them.
    func error(at offset: Int, _ message: String) -> JSONParseError {
        var line = 1
        var column = 1
        for position in 0..<min(offset, bytes.count) {
            let byte = bytes[position]
            if byte == 0x0A {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        return JSONParseError(offset: offset, line: line, column: column, message: message)
    }
}

private func hex2(_ byte: UInt8) -> String {
    let digits = String(byte, radix: 16, uppercase: true)
    return digits.count == 1 ? "0" + digits : digits
}

private func hex4(_ value: UInt32) -> String {
    let digits = String(value, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
}
