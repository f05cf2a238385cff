import Hummingbird
import LaForgeHost
import NIOCore

/// An error answer of the API: a status, a reason a caller can act on and, for bad input, the
/// line and field it is about. Rendered as `{"error": {...}}` JSON (docs/api/openapi.yaml's
/// `Error`), with `Retry-After` on 503s. Reasons never carry a secret's value.
public struct APIError: Error, HTTPResponseError, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var reason: String
    public var line: Int?
    public var field: String?
    /// Seconds, for 503 answers.
    public var retryAfter: Int?

    public init(_ status: HTTPResponse.Status, _ reason: String, line: Int? = nil, field: String? = nil, retryAfter: Int? = nil) {
        self.status = status
        self.reason = reason
        self.line = line
        self.field = field
        self.retryAfter = retryAfter
    }

    public var description: String { "\(status.code) \(reason)" }

    public func jsonValue() -> JSONValue {
        var object: [String: JSONValue] = ["status": .number(Double(status.code)), "reason": .string(reason)]
        if let line { object["line"] = .number(Double(line)) }
        if let field { object["field"] = .string(field) }
        return .object(["error": .object(object)])
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = jsonResponse(jsonValue(), status: status)
        if let retryAfter { response.headers[.retryAfter] = String(retryAfter) }
        return response
    }
}

/// A JSON body (serialized canonically: RFC 8785 output is plain JSON too).
func jsonResponse(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
    jsonResponse(bytes: Array(JSONCanonicalizer.canonicalString(value).utf8), status: status)
}

func jsonResponse(bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
    Response(
        status: status, headers: [.contentType: "application/json"],
        body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
}
