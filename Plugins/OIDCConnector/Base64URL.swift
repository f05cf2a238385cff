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
        var out = [UInt8]()
        out.reserveCapacity(count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits: UInt32 = 0
        // One table lookup per byte through raw pointers: this runs three times per token.
        let valid = decodeTable.withUnsafeBufferPointer { table in
            text.withUnsafeBufferPointer { input in
                for byte in input {
                    let value = table[Int(byte)]
                    guard value >= 0 else { return false }
                    accumulator = accumulator << 6 | UInt32(value)
                    bits += 6
                    if bits >= 8 {
                        bits -= 8
                        out.append(UInt8(truncatingIfNeeded: accumulator >> bits))
                    }
                }
                return true
            }
        }
        guard valid, accumulator & ((1 << bits) - 1) == 0 else { return nil }
        return out
    }

    static func decode(_ text: String) -> [UInt8]? { decode(Array(text.utf8)[...]) }
}
