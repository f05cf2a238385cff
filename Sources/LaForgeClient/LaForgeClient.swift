import Foundation
import HTTPClient

/// A client of `laforge serve`'s API over its Unix socket, for the compiler and Swift services
/// (docs/API.md). Each call is one request on a kept-alive connection; a client is for one
/// thread at a time (make one per thread, they are cheap).
///
/// ```swift
/// let client = try LaForgeClient(socketPath: "/run/laforge/laforge.sock")
/// let receipts = try client.emit(["actor": ["user": "alice"], "action": "schema.change"])
/// let decision = try client.authorize(subject: "u-17", roles: ["auditors"], tenant: "acme",
///                                     action: "audit.read", resource: "tenant/acme/audit")
/// ```
public final class LaForgeClient {
    public let socketPath: String
    private let http: HTTPClient

    public init(socketPath: String, timeoutMilliseconds: Int = 30_000) throws(LaForgeClientError) {
        self.socketPath = socketPath
        var options = HTTPClientOptions(totalTimeoutMilliseconds: timeoutMilliseconds, userAgent: "laforge-client")
        options.unixSocketPath = socketPath
        do { http = try HTTPClient(options: options) } catch { throw LaForgeClientError(status: 0, reason: error.description) }
    }

    /// A durable entry: its place in the chain and its hash.
    public struct Receipt: Sendable, Equatable, Decodable {
        public var seq: UInt64
        public var hash: String
    }

    /// Records events as one group (all or none); returns once they are durable.
    public func emit(_ events: [[String: Any]]) throws(LaForgeClientError) -> [Receipt] {
        let lines = try events.map { event throws(LaForgeClientError) in try Self.encode(event) }
        var body: [UInt8] = []
        for line in lines { body += line + [UInt8(ascii: "\n")] }
        let answer = try send("POST", "/v1/audit/events", body: body, contentType: "application/x-ndjson")
        return try Self.decode(EmitAnswer.self, answer).entries
    }

    /// Records one event; returns once it is durable.
    public func emit(_ event: [String: Any]) throws(LaForgeClientError) -> Receipt {
        guard let receipt = try emit([event]).first else { throw LaForgeClientError(status: 0, reason: "the server returned no receipt") }
        return receipt
    }

    public struct Decision: Sendable, Equatable, Decodable {
        public var allowed: Bool
        public var reason: String
    }

    /// The decision for a principal the caller vouches for (denials are audited by the server).
    public func authorize(
        subject: String, roles: [String], tenant: String? = nil, action: String, resource: String
    ) throws(LaForgeClientError) -> Decision {
        var principal: [String: Any] = ["subject": subject, "roles": roles]
        if let tenant { principal["tenant"] = tenant }
        let body = try Self.encode(["principal": principal, "action": action, "resource": resource])
        return try Self.decode(Decision.self, try send("POST", "/v1/authorize", body: body, contentType: "application/json"))
    }

    /// The decision for a bearer token, validated by the server's IdP connector.
    public func authorize(token: String, action: String, resource: String) throws(LaForgeClientError) -> Decision {
        let body = try Self.encode(["token": token, "action": action, "resource": resource])
        return try Self.decode(Decision.self, try send("POST", "/v1/authorize", body: body, contentType: "application/json"))
    }

    /// `GET /readyz`: the server's readiness and per-sink delivery, as JSON.
    public func readiness() throws(LaForgeClientError) -> [String: Any] {
        let answer = try send("GET", "/readyz", body: nil, contentType: nil)
        guard let object = (try? JSONSerialization.jsonObject(with: Data(answer))) as? [String: Any] else {
            throw LaForgeClientError(status: 200, reason: "the readiness answer is not a JSON object")
        }
        return object
    }

    /// Any route: the body of a 2xx answer, else the server's error as `LaForgeClientError`.
    public func send(_ method: String, _ path: String, body: [UInt8]?, contentType: String?) throws(LaForgeClientError) -> [UInt8] {
        var headers: [HTTPHeader] = []
        if let contentType { headers.append(HTTPHeader("Content-Type", contentType)) }
        let response: HTTPResponse
        do { response = try http.send(HTTPRequest(method: method, url: "http://localhost" + path, headers: headers, body: body ?? [])) } catch {
            throw LaForgeClientError(status: 0, reason: "cannot reach laforge serve on \(socketPath): \(error)")
        }
        guard (200..<300).contains(response.status) else {
            let problem = try? JSONDecoder().decode(ErrorAnswer.self, from: Data(response.body))
            throw LaForgeClientError(
                status: response.status, reason: problem?.error.reason ?? response.bodyPrefix(), field: problem?.error.field,
                line: problem?.error.line, retryAfter: response.header("Retry-After").flatMap(Int.init))
        }
        return response.body
    }

    private struct EmitAnswer: Decodable { var entries: [Receipt] }
    private struct ErrorAnswer: Decodable {
        struct Detail: Decodable {
            var reason: String
            var field: String?
            var line: Int?
        }
        var error: Detail
    }

    private static func encode(_ object: [String: Any]) throws(LaForgeClientError) -> [UInt8] {
        guard JSONSerialization.isValidJSONObject(object), let data = try? JSONSerialization.data(withJSONObject: object) else {
            throw LaForgeClientError(status: 0, reason: "not a JSON object: \(object.keys.sorted())")
        }
        return Array(data)
    }

    private static func decode<Value: Decodable>(_: Value.Type, _ body: [UInt8]) throws(LaForgeClientError) -> Value {
        do { return try JSONDecoder().decode(Value.self, from: Data(body)) } catch {
            throw LaForgeClientError(status: 200, reason: "unexpected answer from laforge serve: \(error)")
        }
    }
}

/// A refused or failed call: the HTTP status (0 when the server could not be reached), the
/// server's reason and, for bad input, the field and line; `retryAfter` on 503s.
public struct LaForgeClientError: Error, Sendable, CustomStringConvertible {
    public var status: Int
    public var reason: String
    public var field: String?
    public var line: Int?
    public var retryAfter: Int?

    public init(status: Int, reason: String, field: String? = nil, line: Int? = nil, retryAfter: Int? = nil) {
        self.status = status
        self.reason = reason
        self.field = field
        self.line = line
        self.retryAfter = retryAfter
    }

    public var description: String { status == 0 ? reason : "\(status): \(reason)" }
}
