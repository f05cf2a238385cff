/// One step from a JSON value to one of its children: an object member or an array element.
///
/// Violations and secret locations are reported as paths of these rather than strings so that
/// the configuration loader can map them back to a line in the user's YAML file, and so that
/// a key containing a dot is not confused with two nested keys.
public enum JSONPathComponent: Sendable, Hashable {
    case key(String)
    case index(Int)

    /// Renders a path the way a user writes it in a configuration file: `a.b[2].c`.
    ///
    /// Keys that are not plain identifiers (`[A-Za-z0-9_-]+`) are written as `["a.b"]` so the
    /// rendering stays unambiguous. The empty path renders as the empty string, leaving the
    /// caller to prefix it (for example with the plugin's name) or to say "(root)".
    public static func render(_ path: [JSONPathComponent]) -> String {
        var result = ""
        for component in path {
            switch component {
            case .index(let index):
                result += "[\(index)]"
            case .key(let key):
                if isPlainIdentifier(key) {
                    if !result.isEmpty { result += "." }
                    result += key
                } else {
                    result += "[" + JSONCanonicalizer.canonicalString(.string(key)) + "]"
                }
            }
        }
        return result
    }

    private static func isPlainIdentifier(_ key: String) -> Bool {
        !key.isEmpty
            && key.utf8.allSatisfy { byte in
                (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                    || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                    || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                    || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
            }
    }
}
