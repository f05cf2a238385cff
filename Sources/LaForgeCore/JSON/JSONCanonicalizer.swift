/// The JSON Canonicalization Scheme (RFC 8785): one byte sequence per JSON value, so that
/// audit records can be hashed and signed and the signature checked by any JCS implementation.
///
/// This is the host's only JSON serializer on the audit path; it writes straight into a byte
/// buffer (no per-character `String` appends) because every audit event passes through it.
public enum JSONCanonicalizer {
    /// The canonical UTF-8 bytes of `value`.
    ///
    /// Non-finite numbers cannot come from `JSONParser` and have no JSON form; if one is built
    /// by hand it is written as `null`, as ECMAScript's `JSON.stringify` (which RFC 8785 is
    /// defined in terms of) does, rather than trapping on the audit path.
    public static func canonicalize(_ value: JSONValue) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(256)
        write(value, into: &output)
        return output
    }

    /// The canonical form as a `String`, for logs, messages and tests.
    public static func canonicalString(_ value: JSONValue) -> String {
        String(decoding: canonicalize(value), as: UTF8.self)
    }

    /// The ECMAScript `Number.prototype.toString` form of `number` (RFC 8785 §3.2.2.3), e.g.
    /// `1e+21`, `0.000001`, `1e-7`, `0` for -0. Returns `"null"` for NaN and infinities.
    public static func formatNumber(_ number: Double) -> String {
        var output: [UInt8] = []
        writeNumber(number, into: &output)
        return String(decoding: output, as: UTF8.self)
    }

    // MARK: Writing

    package static func write(_ value: JSONValue, into output: inout [UInt8]) {
        switch value {
        case .null:
            output.append(contentsOf: literalNull)
        case .bool(let flag):
            output.append(contentsOf: flag ? literalTrue : literalFalse)
        case .number(let number):
            writeNumber(number, into: &output)
        case .string(let string):
            writeString(string, into: &output)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (position, element) in elements.enumerated() {
                if position > 0 { output.append(UInt8(ascii: ",")) }
                write(element, into: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            output.append(UInt8(ascii: "{"))
            // RFC 8785 §3.2.3 sorts by UTF-16 code units. The keys' UTF-8 bytes are gathered in
            // one buffer and compared with the one correction in `precedesInUTF16Order`, which
            // gives the same order without transcoding or a byte iterator per comparison.
            var keyBytes: [UInt8] = []
            keyBytes.reserveCapacity(members.count * 16)
            var entries: [(keyStart: Int, keyEnd: Int, value: JSONValue)] = []
            entries.reserveCapacity(members.count)
            for (key, value) in members {
                let start = keyBytes.count
                keyBytes.append(contentsOf: key.utf8)
                entries.append((start, keyBytes.count, value))
            }
            keyBytes.withUnsafeBufferPointer { keys in
                func key(_ start: Int, _ end: Int) -> UnsafeBufferPointer<UInt8> {
                    UnsafeBufferPointer(rebasing: keys[start..<end])
                }
                if entries.count > 1 {
                    entries.sort { precedesInUTF16Order(key($0.keyStart, $0.keyEnd), key($1.keyStart, $1.keyEnd)) }
                }
                for (position, entry) in entries.enumerated() {
                    if position > 0 { output.append(UInt8(ascii: ",")) }
                    writeStringBytes(key(entry.keyStart, entry.keyEnd), into: &output)
                    output.append(UInt8(ascii: ":"))
                    write(entry.value, into: &output)
                }
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    /// UTF-8 byte order is code point order, which equals UTF-16 code unit order except that
    /// UTF-16 puts U+10000…U+10FFFF (surrogates, 0xD800…) before U+E000…U+FFFF. At the first
    /// differing byte those two ranges show up as lead bytes 0xEE–0xEF versus 0xF0–0xF4, and
    /// since all earlier bytes are equal both bytes start a scalar, so flipping there suffices.
    static func precedesInUTF16Order(_ lhs: UnsafeBufferPointer<UInt8>, _ rhs: UnsafeBufferPointer<UInt8>) -> Bool {
        let common = min(lhs.count, rhs.count)
        var position = 0
        while position < common {
            let left = lhs[position]
            let right = rhs[position]
            if left != right {
                if left >= 0xF0 && (right == 0xEE || right == 0xEF) { return true }
                if right >= 0xF0 && (left == 0xEE || left == 0xEF) { return false }
                return left < right
            }
            position += 1
        }
        return lhs.count < rhs.count
    }

    package static func writeString(_ string: String, into output: inout [UInt8]) {
        var string = string
        string.withUTF8 { writeStringBytes($0, into: &output) }
    }

    /// RFC 8785 §3.2.2.2: escape only `"`, `\` and C0 controls, using the short forms where
    /// JSON has them and lowercase `\u00xx` otherwise; everything else is written as UTF-8.
    /// Runs that need no escaping are copied in one call, which is nearly every byte.
    private static func writeStringBytes(_ bytes: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        var runStart = 0
        for (position, byte) in bytes.enumerated()
        where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
            output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<position]))
            runStart = position + 1
            output.append(UInt8(ascii: "\\"))
            switch byte {
            case UInt8(ascii: "\""): output.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"): output.append(UInt8(ascii: "\\"))
            case 0x08: output.append(UInt8(ascii: "b"))
            case 0x09: output.append(UInt8(ascii: "t"))
            case 0x0A: output.append(UInt8(ascii: "n"))
            case 0x0C: output.append(UInt8(ascii: "f"))
            case 0x0D: output.append(UInt8(ascii: "r"))
            default:
                output.append(UInt8(ascii: "u"))
                output.append(UInt8(ascii: "0"))
                output.append(UInt8(ascii: "0"))
                output.append(hexDigits[Int(byte >> 4)])
                output.append(hexDigits[Int(byte & 0xF)])
            }
        }
        output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...]))
        output.append(UInt8(ascii: "\""))
    }

    // MARK: Numbers

    /// ECMAScript Number::toString (ECMA-262 §6.1.6.1.20) for a finite double.
    ///
    /// The digits come from Swift's `description`, which already yields the shortest digit
    /// string that round-trips and, among those, the one closest to the exact value: the
    /// same digits ECMAScript requires. Only the layout differs, so it is redone here.
    package static func writeNumber(_ number: Double, into output: inout [UInt8]) {
        guard number.isFinite else {
            output.append(contentsOf: literalNull)
            return
        }
        if number == 0 {
            output.append(UInt8(ascii: "0"))  // also -0 (RFC 8785 §3.2.2.3)
            return
        }
        // Integers below 2^53 are the common case (counters, timestamps) and need no digit
        // search: they are exact, and ECMAScript prints them in full up to 1e21.
        if number.rounded(.towardZero) == number && abs(number) < 9_007_199_254_740_992 {
            writeInteger(Int64(number), into: &output)
            return
        }
        if number < 0 { output.append(UInt8(ascii: "-")) }
        var digits: [UInt8] = []
        digits.reserveCapacity(17)
        // `decimalExponent` is ECMAScript's n: the value is 0.d1d2…dk × 10^n.
        var decimalExponent = 0
        var seenPoint = false
        var exponentValue = 0
        var exponentNegative = false
        var inExponent = false
        for byte in abs(number).description.utf8 {
            if inExponent {
                switch byte {
                case UInt8(ascii: "-"): exponentNegative = true
                case UInt8(ascii: "+"): break
                default: exponentValue = exponentValue * 10 + Int(byte - UInt8(ascii: "0"))
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "."):
                seenPoint = true
            case UInt8(ascii: "e"), UInt8(ascii: "E"):
                inExponent = true
            default:
                if digits.isEmpty && byte == UInt8(ascii: "0") {
                    // A leading zero only shifts the point: 0.001 has n = -2.
                    if seenPoint { decimalExponent -= 1 }
                    continue
                }
                digits.append(byte)
                if !seenPoint { decimalExponent += 1 }
            }
        }
        decimalExponent += exponentNegative ? -exponentValue : exponentValue
        while digits.count > 1 && digits.last == UInt8(ascii: "0") { digits.removeLast() }

        let k = digits.count
        let n = decimalExponent
        if k <= n && n <= 21 {
            output.append(contentsOf: digits)
            output.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: n - k))
        } else if 0 < n && n <= 21 {
            output.append(contentsOf: digits[0..<n])
            output.append(UInt8(ascii: "."))
            output.append(contentsOf: digits[n...])
        } else if -6 < n && n <= 0 {
            output.append(contentsOf: [UInt8(ascii: "0"), UInt8(ascii: ".")])
            output.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: -n))
            output.append(contentsOf: digits)
        } else {
            output.append(digits[0])
            if k > 1 {
                output.append(UInt8(ascii: "."))
                output.append(contentsOf: digits[1...])
            }
            output.append(UInt8(ascii: "e"))
            let exponent = n - 1
            output.append(exponent < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
            writeInteger(Int64(abs(exponent)), into: &output)
        }
    }

    private static func writeInteger(_ value: Int64, into output: inout [UInt8]) {
        if value < 0 { output.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var reversed:
            (
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8
            ) =
                (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &reversed) { scratch in
            repeat {
                scratch[count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            for position in stride(from: count - 1, through: 0, by: -1) {
                output.append(scratch[position])
            }
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
    private static let literalNull: [UInt8] = Array("null".utf8)
    private static let literalTrue: [UInt8] = Array("true".utf8)
    private static let literalFalse: [UInt8] = Array("false".utf8)
}
