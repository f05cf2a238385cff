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
}
