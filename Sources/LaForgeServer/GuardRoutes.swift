import Foundation
import Hummingbird
import LaForgeHost

/// `POST /v1/guard/deploy`: whether a snapshot may be deployed (operation snapshots), decided and
/// recorded as a `deploy.guard` event exactly as `laforge guard deploy` does, with the calling
/// client as the actor. Artifacts are checked under the server's working directory.
extension ServeAPI {
    func addGuardRoutes(to router: Router<ServeRequestContext>) {
        router.post("/v1/guard/deploy") { request, context in try await self.guardDeploy(request, context) }
    }

    func guardDeploy(_ request: Request, _ context: ServeRequestContext) async throws -> Response {
        try await require(.snapshots, context, route: "POST /v1/guard/deploy")
        let body = try await Self.collect(request, context)
        let value: JSONValue
        do { value = try JSONParser.parse(body) } catch { throw APIError(.badRequest, "not valid JSON: \(error.message)") }
        guard case .object(let object) = value else { throw APIError(.badRequest, "the body must be a JSON object") }
        let snapshot = object["snapshot"]?.stringValue ?? "latest"
        guard !snapshot.isEmpty, !snapshot.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw APIError(.badRequest, "snapshot must be latest or an id prefix", field: "snapshot")
        }
        var flags: [String: Bool] = [:]
        for name in ["require_signed", "require_approved"] {
            guard let given = object[name] else { continue }
            guard let flag = given.boolValue else { throw APIError(.badRequest, "\(name) must be true or false", field: name) }
            flags[name] = flag
        }
        let actor = AuditActor(user: context.client?.name ?? "unknown", claims: context.peer.map { ["uid": .number(Double($0.uid))] } ?? [:])
        let runtime = host.runtime
        let (requireSigned, requireApproved) = (flags["require_signed"] ?? false, flags["require_approved"] ?? false)
        let verdict: DeploymentVerdict
        do {
            verdict = try await work.run {
                try runtime.guardDeploy(snapshot: snapshot, requireSigned: requireSigned, requireApproved: requireApproved, actor: actor)
            }
        } catch let error as LaForgeRuntimeError {
            if case .snapshot(let snapshotError) = error, snapshotError.kind == .invalidInput {
                throw APIError(.notFound, snapshotError.description, field: "snapshot")
            }
            throw APIError(.serviceUnavailable, error.description, retryAfter: 1)
        }
        return jsonResponse(verdict.jsonValue())
    }
}
