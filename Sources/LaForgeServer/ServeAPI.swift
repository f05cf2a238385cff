import Foundation
import Hummingbird
import LaForgeHost

/// The API's shared state and the checks every route makes: who may call what (a refusal is a
/// 403 and an audit event), and the blocking work the routes hand off the event loops.
public final class ServeAPI: Sendable {
    let host: ServedHost
    let work: BlockingWork
    let requestMetrics = RequestMetrics()
    /// What SIGHUP may change: `serve.clients` and the limits.
    let settings: LockedValue<ServeConfig>
    let startedAt = Date()

    init(host: ServedHost) {
        self.host = host
        let serve = host.config.serve
        work = BlockingWork(threads: serve.emitThreads, maxInFlight: serve.maxInFlight)
        settings = LockedValue(serve)
    }

    /// Throws 403 unless the caller is a configured client allowed `operation`; the refusal is
    /// recorded in the audit trail first (as `serve.refuse`, with the peer's uid, gid and pid).
    func require(_ operation: ServeConfig.Operation, _ context: ServeRequestContext, route: String) async throws {
        guard let client = context.client else {
            try await refuse(context, route: route, reason: "caller \(context.peer?.description ?? "unknown") is not in serve.clients", kind: "unknown_caller")
        }
        guard client.operations.contains(operation) else {
            try await refuse(context, route: route, reason: "client \(client.name) is not allowed \(operation.rawValue) (serve.clients allow)", kind: "operation")
        }
    }

    /// 403 for a secret the client's `secrets` patterns do not cover.
    func requireSecret(_ name: String, _ context: ServeRequestContext, route: String) async throws {
        guard let client = context.client else {
            try await refuse(context, route: route, reason: "caller \(context.peer?.description ?? "unknown") is not in serve.clients", kind: "unknown_caller")
        }
        guard client.maySee(secret: name) else {
            try await refuse(context, route: route, reason: "client \(client.name) may not read secret \(name) (serve.clients secrets)", kind: "secret")
        }
    }

    private func refuse(_ context: ServeRequestContext, route: String, reason: String, kind: String) async throws -> Never {
        requestMetrics.refused(reason: kind)
        let peer = context.peer
        var claims: [String: JSONValue] = [:]
        if let peer {
            claims = ["uid": .number(Double(peer.uid)), "gid": .number(Double(peer.gid)), "pid": .number(Double(peer.pid))]
        }
        let event = AuditEvent(
            actor: AuditActor(user: context.client?.name ?? "uid:\(peer.map { String($0.uid) } ?? "unknown")", claims: claims),
            action: "serve.refuse", outcome: .denied, target: route,
            data: ["reason": .string(reason)])
        let runtime = host.runtime
        do { _ = try await work.run { try runtime.emit(event) } } catch {
            // Fail closed: a refusal that cannot be recorded is still a refusal, and says so.
            throw APIError(.serviceUnavailable, "\(reason); the refusal could not be recorded in the audit trail: \(error)", retryAfter: 1)
        }
        throw APIError(.forbidden, reason)
    }
}
