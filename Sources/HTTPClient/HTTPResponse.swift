/// What the server answered: any status counts as a response (the caller decides what a 4xx
/// or 5xx means); transport failures are `HTTPClientError`s instead.
public struct HTTPResponse: Sendable {
    public var status: Int
    /// The final response's headers, in order, names as the server sent them.
    public var headers: [HTTPHeader]
    public var body: [UInt8]

    public init(status: Int, headers: [HTTPHeader], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first value of header `name` (case-insensitive), trimmed.
    public func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.name.lowercased() == lowered }?.value
    }

    /// The first `limit` bytes of the body as text, for error messages (invalid UTF-8 repaired).
    public func bodyPrefix(_ limit: Int = 256) -> String {
        var text = String(decoding: body.prefix(limit), as: UTF8.self)
        text = String(text.map { $0.isNewline ? " " : $0 })
        return body.count > limit ? text + "…" : text
    }
}
