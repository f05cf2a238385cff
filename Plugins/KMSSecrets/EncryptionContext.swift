/// An encryption context as the ABI passes it: an RFC 8785 canonical JSON object of string values
/// (possibly empty bytes, meaning no context). AWS receives it as `EncryptionContext`; GCP uses the
/// canonical bytes as additional authenticated data; Azure binds their SHA-256 into the wrapped value.
struct EncryptionContext {
    /// The canonical bytes exactly as given (empty for no context).
    let canonical: [UInt8]
    /// Members in the given (canonical, so sorted) order.
    let pairs: [(key: String, value: String)]

    init(_ bytes: [UInt8]) throws(KMSError) {
        canonical = bytes
        guard !bytes.isEmpty else {
            pairs = []
            return
        }
        let value: JSONValue
        do {
            value = try JSONReader.parse(bytes)
        } catch {
            throw KMSError(.invalidArgument, "the context is not JSON (\(error.description))")
        }
        guard case .object(let members) = value else { throw KMSError(.invalidArgument, "the context is not a JSON object") }
        var pairs: [(key: String, value: String)] = []
        for member in members {
            guard let text = member.value.stringValue else {
                throw KMSError(.invalidArgument, "context member \"\(member.key)\" is not a string")
            }
            pairs.append((member.key, text))
        }
        self.pairs = pairs
    }

    private init(canonical: [UInt8], pairs: [(key: String, value: String)]) {
        self.canonical = canonical
        self.pairs = pairs
    }

    var isEmpty: Bool { pairs.isEmpty }

    /// This context plus one more pair (for AWS request bodies only; `canonical` is unchanged).
    func adding(_ key: String, _ value: String) -> EncryptionContext {
        EncryptionContext(canonical: canonical, pairs: pairs + [(key, value)])
    }

    /// `{"k":"v",...}` for AWS request bodies.
    var jsonObject: String {
        "{" + pairs.map { JSONText.string($0.key) + ":" + JSONText.string($0.value) }.joined(separator: ",") + "}"
    }
}
