/// RFC 4648 base64, the one implementation the plugins share: the standard alphabet with padding
/// (AWS and GCP JSON blobs, Standard Webhooks secrets and signatures) and the URL-safe alphabet
/// without padding (RFC 7515 §2: JWT segments, PKCE, Azure Key Vault values).
///
/// Decoding takes the rules of the format being read (`Base64.Rules`) and is otherwise strict:
/// no whitespace, nothing after padding, and the bits below the last character must be zero, so
/// one byte string has exactly one accepted encoding per alphabet.
public enum Base64 {
    /// What a decoder accepts besides the core rules.
    public struct Rules: Sendable {
        fileprivate let table: [Int8]
        fileprivate let padding: Bool

        /// JOSE (RFC 7515 §2): URL-safe alphabet only, no padding.
        public static let jose = Rules(table: table(for: urlSafeAlphabet), padding: false)
        /// The standard alphabet, padded or not.
        public static let standard = Rules(table: table(for: standardAlphabet), padding: true)
        /// Either alphabet, padded or not (cloud APIs that document one and accept both).
        public static let either = Rules(
            table: table(for: standardAlphabet, also: [(UInt8(ascii: "-"), 62), (UInt8(ascii: "_"), 63)]), padding: true)

        private static func table(for alphabet: [UInt8], also extra: [(UInt8, Int8)] = []) -> [Int8] {
            var table = [Int8](repeating: -1, count: 256)
            for (index, byte) in alphabet.enumerated() { table[Int(byte)] = Int8(index) }
            for (byte, value) in extra { table[Int(byte)] = value }
            return table
        }
    }

    private static let standardAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let urlSafeAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// The standard alphabet with padding, or (`urlSafe`) the URL-safe one without.
    public static func encode<Bytes: Collection>(_ bytes: Bytes, urlSafe: Bool = false) -> String where Bytes.Element == UInt8 {
        let alphabet = urlSafe ? urlSafeAlphabet : standardAlphabet
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var iterator = bytes.makeIterator()
        while let first = iterator.next() {
            let second = iterator.next()
            let third = iterator.next()
            let value = UInt32(first) << 16 | UInt32(second ?? 0) << 8 | UInt32(third ?? 0)
            out.append(alphabet[Int(value >> 18 & 63)])
            out.append(alphabet[Int(value >> 12 & 63)])
            if second != nil {
                out.append(alphabet[Int(value >> 6 & 63)])
            } else if !urlSafe {
                out.append(UInt8(ascii: "="))
            }
            if third != nil {
                out.append(alphabet[Int(value & 63)])
            } else if !urlSafe {
                out.append(UInt8(ascii: "="))
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func decode(_ text: String, _ rules: Rules) -> [UInt8]? { decode(Array(text.utf8)[...], rules) }

    public static func decode(_ text: ArraySlice<UInt8>, _ rules: Rules) -> [UInt8]? {
        var count = text.count
        if rules.padding {
            var padding = 0
            while count > 0, text[text.startIndex + count - 1] == UInt8(ascii: "=") {
                count -= 1
                padding += 1
            }
            guard padding <= 2, padding == 0 || (count + padding) % 4 == 0 else { return nil }
        }
        guard count % 4 != 1 else { return nil }
        let decodedCount = count / 4 * 3 + max(count % 4 - 1, 0)
        var valid = true
        // Written straight into the result through raw pointers, four characters (three bytes)
        // at a time: a token validation decodes three segments.
        let out = [UInt8](unsafeUninitializedCapacity: decodedCount) { out, initialized in
            rules.table.withUnsafeBufferPointer { table in
                text.withUnsafeBufferPointer { input in
                    var inputIndex = 0
                    var outputIndex = 0
                    // OR of every table value: negative when any character is outside the alphabet.
                    var invalid: Int8 = 0
                    while inputIndex + 4 <= count {
                        let a = table[Int(input[inputIndex])], b = table[Int(input[inputIndex + 1])]
                        let c = table[Int(input[inputIndex + 2])], d = table[Int(input[inputIndex + 3])]
                        invalid |= a | b | c | d
                        let value = UInt32(UInt8(bitPattern: a)) << 18 | UInt32(UInt8(bitPattern: b)) << 12
                            | UInt32(UInt8(bitPattern: c)) << 6 | UInt32(UInt8(bitPattern: d))
                        out[outputIndex] = UInt8(truncatingIfNeeded: value >> 16)
                        out[outputIndex + 1] = UInt8(truncatingIfNeeded: value >> 8)
                        out[outputIndex + 2] = UInt8(truncatingIfNeeded: value)
                        inputIndex += 4
                        outputIndex += 3
                    }
                    // The last 2 or 3 characters: 1 or 2 bytes, and the bits left over must be zero.
                    let rest = count - inputIndex
                    if rest >= 2 {
                        let a = table[Int(input[inputIndex])], b = table[Int(input[inputIndex + 1])]
                        let c = rest == 3 ? table[Int(input[inputIndex + 2])] : 0
                        invalid |= a | b | c
                        let value = UInt32(UInt8(bitPattern: a)) << 18 | UInt32(UInt8(bitPattern: b)) << 12 | UInt32(UInt8(bitPattern: c)) << 6
                        out[outputIndex] = UInt8(truncatingIfNeeded: value >> 16)
                        outputIndex += 1
                        if rest == 3 {
                            out[outputIndex] = UInt8(truncatingIfNeeded: value >> 8)
                            outputIndex += 1
                        }
                        let leftover = rest == 2 ? value & 0xFFFF : value & 0xFF
                        if leftover != 0 { invalid = -1 }
                    }
                    valid = invalid >= 0
                    initialized = outputIndex
                }
            }
        }
        return valid ? out : nil
    }
}
