import Foundation
import Hummingbird
import LaForgeHost
import NIOCore

/// `GET /v1/secrets/{backend}/{name}`: a secret's value, for clients whose `serve.clients`
/// `secrets` patterns cover `BACKEND/NAME`. The value goes into the one answer to that caller
/// and nowhere else: not the log, not the metrics (the route label is the pattern, not the
/// name), not an error body.
extension ServeAPI {
    func addSecretRoutes(to router: Router<ServeRequestContext>) {
        router.get("/v1/secrets/:backend/:name") { _, context in try await self.secret(context) }
    }

    func secret(_ context: ServeRequestContext) async throws -> Response {
        guard let backend = context.parameters.get("backend"), let name = context.parameters.get("name") else {
            throw APIError(.badRequest, "give /v1/secrets/BACKEND/NAME")
        }
        let reference = "\(backend)/\(name)"
        try await requireSecret(reference, context, route: "GET /v1/secrets/{backend}/{name}")
        let runtime = host.runtime
        let value: SecretValue
        do { value = try await work.run { try runtime.secret(reference) } } catch let error as LaForgeRuntimeError {
            // Backends' messages name the secret, never its value.
            if case .secret(let secret) = error, secret.status == .notFound { throw APIError(.notFound, secret.description) }
            throw APIError(.serviceUnavailable, "secret \(reference) could not be read: the server log has the backend's error", retryAfter: 1)
        }
        // Built straight from the secret's bytes: the value is never a Swift String here.
        var buffer = ByteBuffer()
        buffer.writeString(#"{"name":"#)
        buffer.writeString(JSONCanonicalizer.canonicalString(.string(reference)))
        buffer.writeString(#","value":"#)
        value.withUnsafeBytes { bytes in
            buffer.writeString("\"")
            for byte in bytes {
                switch byte {
                case UInt8(ascii: "\""): buffer.writeString("\\\"")
                case UInt8(ascii: "\\"): buffer.writeString("\\\\")
                case 0..<0x20: buffer.writeString(String(format: "\\u%04x", byte))
                default: buffer.writeInteger(byte)
                }
            }
            buffer.writeString("\"")
        }
        buffer.writeString("}")
        return Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"], body: ResponseBody(byteBuffer: buffer))
    }
}
