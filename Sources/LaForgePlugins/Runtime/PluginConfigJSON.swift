import LaForgeCore

/// The canonical JSON a plugin's `create` receives, NUL-terminated, in a `SecretValue` (locked,
/// zeroed when the last holder lets go): it may hold resolved `${secret:…}` values, which are
/// written into it from their own `SecretValue`s and exist nowhere else in the host.
public struct PluginConfigJSON: Sendable {
    private let bytes: SecretValue

    /// The JSON text's length in bytes, without the terminating NUL.
    public var count: Int { bytes.count - 1 }

    /// A configuration without secrets (the conformance kit's probes, tests).
    public init(text: String) {
        let utf8 = text.utf8
        bytes = SecretValue(count: utf8.count + 1) { buffer in
            buffer.copyBytes(from: utf8)
            buffer[utf8.count] = 0
        }
    }

    /// `canonical` (RFC 8785 text without secrets) with each `"marker"` string in it replaced by its
    /// secret's text, escaped as RFC 8785 writes a string. Markers are random and only ever values.
    init(canonical: String, secrets: [String: ResolvedSecretText]) {
        var canonical = canonical
        bytes = canonical.withUTF8 { text in
            // Where each quoted marker starts in `text`, in order.
            var spans: [(range: Range<Int>, secret: ResolvedSecretText)] = []
            for (marker, secret) in secrets {
                let quoted = Array("\"\(marker)\"".utf8)
                var start = 0
                while let found = Self.find(quoted, in: text, from: start) {
                    spans.append((found..<found + quoted.count, secret))
                    start = found + quoted.count
                }
            }
            spans.sort { $0.range.lowerBound < $1.range.lowerBound }
            let length = text.count + spans.reduce(0) { $0 - $1.range.count + $1.secret.canonicalJSONLength }
            return SecretValue(count: length + 1) { output in
                var written = 0
                var copied = 0
                func copy(upTo end: Int) {
                    let piece = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(text)[copied..<end])
                    UnsafeMutableRawBufferPointer(rebasing: output[written..<written + piece.count]).copyMemory(from: piece)
                    written += piece.count
                    copied = end
                }
                for span in spans {
                    copy(upTo: span.range.lowerBound)
                    written += span.secret.writeCanonicalJSON(to: UnsafeMutableRawBufferPointer(rebasing: output[written...]))
                    copied = span.range.upperBound
                }
                copy(upTo: text.count)
                output[written] = 0
            }
        }
    }

    /// Calls `body` with the NUL-terminated text and its length (without the NUL); the pointer is
    /// valid only inside `body`.
    func withCString<R>(_ body: (UnsafePointer<CChar>, Int) throws -> R) rethrows -> R {
        try bytes.withUnsafeBytes { raw in
            try body(raw.baseAddress!.assumingMemoryBound(to: CChar.self), raw.count - 1)
        }
    }

    private static func find(_ needle: [UInt8], in haystack: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        var position = start
        while position + needle.count <= haystack.count {
            if haystack[position] == needle[0],
                needle.indices.allSatisfy({ haystack[position + $0] == needle[$0] })
            {
                return position
            }
            position += 1
        }
        return nil
    }
}
