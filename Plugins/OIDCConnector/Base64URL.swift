/// base64url without padding (RFC 4648 §5), as JOSE uses it (RFC 7515 §2). Decoding is strict:
/// padding, whitespace, the standard alphabet's `+`/`/` and non-zero trailing bits are refused,
/// so one token has exactly one encoding.
enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    private static let decodeTable: [Int8] = {
        var table = [Int8](repeating: -1, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = Int8(index) }
        return table
    }()

    static func encode<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var iterator = bytes.makeIterator()
        while let first = iterator.next() {
            let second = iterator.next()
            let third = iterator.next()
            let value = UInt32(first) << 16 | UInt32(second ?? 0) << 8 | UInt32(third ?? 0)
            out.append(alphabet[Int(value >> 18 & 63)])
            out.append(alphabet[Int(value >> 12 & 63)])
            if second != nil { out.append(alphabet[Int(value >> 6 & 63)]) }
            if third != nil { out.append(alphabet[Int(value & 63)]) }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        let count = text.count
        guard count % 4 != 1 else { return nil }
        let decodedCount = count / 4 * 3 + max(count % 4 - 1, 0)
        var valid = true
        // Written straight into the result through raw pointers, four characters (three bytes)
        // at a time: this runs three times per token.
        let out = [UInt8](unsafeUninitializedCapacity: decodedCount) { out, initialized in
            decodeTable.withUnsafeBufferPointer { table in
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

    static func decode(_ text: String) -> [UInt8]? { decode(Array(text.utf8)[...]) }
}
