/// Builds rows in COPY's text format: columns separated by tabs, rows ended by newlines, and
/// inside a value a backslash, tab, newline or carriage return written as an escape, so the
/// server stores the bytes exactly as given.
struct CopyText {
    private(set) var bytes: [UInt8] = []
    private(set) var rows = 0

    init(capacity: Int) { bytes.reserveCapacity(capacity) }

    var isEmpty: Bool { rows == 0 }

    mutating func text(_ value: UnsafeBufferPointer<UInt8>) {
        for byte in value {
            switch byte {
            case UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "\\"))
            case UInt8(ascii: "\n"): bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "n"))
            case UInt8(ascii: "\r"): bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "r"))
            case UInt8(ascii: "\t"): bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "t"))
            default: bytes.append(byte)
            }
        }
    }

    mutating func text(_ value: String) {
        var copy = value
        copy.withUTF8 { text($0) }
    }

    /// A bytea in hex input form (`\x…`), its backslash escaped for COPY.
    mutating func bytea(_ value: UnsafePointer<UInt8>, count: Int) {
        bytes.append(UInt8(ascii: "\\"))
        bytes.append(UInt8(ascii: "\\"))
        bytes.append(UInt8(ascii: "x"))
        for index in 0..<count {
            bytes.append(Hex.digits[Int(value[index] >> 4)])
            bytes.append(Hex.digits[Int(value[index] & 0x0F)])
        }
    }

    mutating func separator() { bytes.append(UInt8(ascii: "\t")) }

    mutating func endRow() {
        bytes.append(UInt8(ascii: "\n"))
        rows += 1
    }
}

enum Hex {
    static let digits = Array("0123456789abcdef".utf8)

    static func string(_ pointer: UnsafePointer<UInt8>, count: Int) -> String {
        var text = [UInt8]()
        text.reserveCapacity(count * 2)
        for index in 0..<count {
            text.append(digits[Int(pointer[index] >> 4)])
            text.append(digits[Int(pointer[index] & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// Lower- or upper-case hex digits decoded; nil for an odd count or another character.
    static func bytes(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let high = value(digits[index]), let low = value(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    private static func value(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
