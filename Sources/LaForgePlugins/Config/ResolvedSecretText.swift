import LaForgeCore

/// The text of a configuration scalar that held `${secret:…}` references, once they are resolved:
/// the literal pieces as written and each secret as the `SecretValue` its backend returned. The
/// secret bytes are never copied into a `String` or an array: they are written from here straight
/// into the plugin's configuration buffer (`PluginConfigJSON`), itself a `SecretValue`.
public final class ResolvedSecretText: Sendable, Hashable, CustomStringConvertible {
    public enum Part: Sendable {
        case text(String)
        case secret(SecretValue)
    }

    public let parts: [Part]

    /// Fails with a message (never the value) when a secret is not UTF-8 text: a configuration value
    /// is a JSON string, and replacing invalid bytes would hand the plugin a different credential.
    init(parts: [Part]) throws(NotText) {
        for part in parts {
            if case .secret(let value) = part, !value.withUnsafeBytes(Self.isUTF8) { throw NotText() }
        }
        self.parts = parts
    }

    struct NotText: Error {}

    /// The length of the text as the JSON string RFC 8785 writes (quotes and escapes included).
    var canonicalJSONLength: Int {
        var length = 2
        forEachByte { length += Self.escapedLength($0) }
        return length
    }

    /// Writes the text as an RFC 8785 JSON string at `output`, which holds `canonicalJSONLength`
    /// bytes; returns the number written.
    func writeCanonicalJSON(to output: UnsafeMutableRawBufferPointer) -> Int {
        var position = 0
        func put(_ byte: UInt8) {
            output[position] = byte
            position += 1
        }
        put(UInt8(ascii: "\""))
        forEachByte { byte in
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                put(UInt8(ascii: "\\"))
                put(byte)
            case 0x08: put(UInt8(ascii: "\\")); put(UInt8(ascii: "b"))
            case 0x09: put(UInt8(ascii: "\\")); put(UInt8(ascii: "t"))
            case 0x0A: put(UInt8(ascii: "\\")); put(UInt8(ascii: "n"))
            case 0x0C: put(UInt8(ascii: "\\")); put(UInt8(ascii: "f"))
            case 0x0D: put(UInt8(ascii: "\\")); put(UInt8(ascii: "r"))
            case 0..<0x20:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                for digit in [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                              hex[Int(byte >> 4)], hex[Int(byte & 0xF)]] {
                    put(digit)
                }
            default:
                put(byte)
            }
        }
        put(UInt8(ascii: "\""))
        return position
    }

    private func forEachByte(_ body: (UInt8) -> Void) {
        for part in parts {
            switch part {
            case .text(let text): text.utf8.forEach(body)
            case .secret(let value): value.withUnsafeBytes { $0.forEach(body) }
            }
        }
    }

    private static func escapedLength(_ byte: UInt8) -> Int {
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), 0x08, 0x09, 0x0A, 0x0C, 0x0D: 2
        case 0..<0x20: 6
        default: 1
        }
    }

    /// Validates in place (no decoded copy is made).
    private static func isUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }

    public static func == (lhs: ResolvedSecretText, rhs: ResolvedSecretText) -> Bool { lhs === rhs }
    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
    public var description: String { redactedPlaceholder }
}
