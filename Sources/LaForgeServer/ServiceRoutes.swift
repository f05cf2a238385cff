import Foundation
import Hummingbird
import LaForgeHost

/// `POST /v1/authorize` and the probes: `/healthz`, `/readyz`, `/metrics`.
extension ServeAPI {
    func addServiceRoutes(to router: Router<ServeRequestContext>) {
        router.post("/v1/authorize") { request, context in try await self.authorize(request, context) }
        router.get("/healthz") { _, _ in jsonResponse(.object(["status": .string("ok")])) }
        router.get("/readyz") { _, _ in try await self.readiness() }
        router.get("/metrics") { _, _ in try await self.metrics() }
    }

    /// `{"token": …}` or `{"principal": {"subject", "roles", "tenant"}}` with `action` and
    /// `resource`: the decision and its reason. Denials are `auth.deny` audit events, as with
    /// `laforge auth check`. The token is never echoed or logged.
    func authorize(_ request: Request, _ context: ServeRequestContext) async throws -> Response {
        try await require(.authorize, context, route: "POST /v1/authorize")
        let body = try await Self.collect(request, context)
        let value: JSONValue
        do { value = try JSONParser.parse(body) } catch { throw APIError(.badRequest, "not valid JSON: \(error.message)") }
        guard case .object(let object) = value else { throw APIError(.badRequest, "the body must be a JSON object") }
        guard let action = object["action"]?.stringValue, !action.isEmpty else {
            throw APIError(.badRequest, "action is required (a string)", field: "action")
        }
        guard let resource = object["resource"]?.stringValue, !resource.isEmpty else {
            throw APIError(.badRequest, "resource is required (a string)", field: "resource")
        }
        let connector = object["connector"]?.stringValue
        let runtime = host.runtime
        let decision: AuthorizationDecision
        var principal: Principal?
        if let token = object["token"] {
            guard let token = token.stringValue, !token.isEmpty else { throw APIError(.badRequest, "token must be a non-empty string", field: "token") }
            try Self.checkRecordable(actor: AuditActor(user: "unauthenticated"), tenant: nil, action: action, resource: resource)
            do {
                let check = try await work.run { try runtime.authorize(token: token, action: action, resource: resource, connector: connector) }
                decision = check.decision
                principal = check.principal
            } catch let error as LaForgeRuntimeError {
                throw Self.authorizationFailure(error)
            }
        } else if let given = object["principal"] {
            guard let subject = given["subject"]?.stringValue, !subject.isEmpty else {
                throw APIError(.badRequest, "principal.subject is required (a string)", field: "principal.subject")
            }
            let roles = given["roles"]?.arrayValue?.compactMap(\.stringValue) ?? []
            let asserted = Principal(subject: subject, roles: roles, tenant: given["tenant"]?.stringValue, claims: given["claims"] ?? .object([:]))
            try Self.checkRecordable(actor: LoggedInIdentity.auditActor(asserted), tenant: asserted.tenant, action: action, resource: resource)
            do {
                decision = try await work.run { try runtime.authorize(asserted, action: action, resource: resource) }
                principal = asserted
            } catch let error as LaForgeRuntimeError {
                throw Self.authorizationFailure(error)
            }
        } else {
            throw APIError(.badRequest, "give token or principal", field: "token")
        }
        var answer = decision.jsonValue().objectValue ?? [:]
        answer["allowed"] = .bool(decision.allowed)
        answer["action"] = .string(action)
        answer["resource"] = .string(resource)
        if let principal { answer["principal"] = principal.jsonValue(includeClaims: false) }
        return jsonResponse(.object(answer))
    }

    /// A connector that is not configured is the caller's mistake (400); one that is down, or a
    /// denial that could not be recorded, is ours (503, retry).
    static func authorizationFailure(_ error: LaForgeRuntimeError) -> APIError {
        if case .identity(let identity) = error, identity.kind == .notConfigured {
            return APIError(.badRequest, identity.description, field: "connector")
        }
        return APIError(.serviceUnavailable, error.description, retryAfter: 1)
    }

    /// A denial is an `auth.deny` audit event: input that event could not hold (control
    /// characters, empty roles) is the caller's error, refused with 400 before deciding, rather
    /// than a decision whose denial could not be recorded.
    static func checkRecordable(actor: AuditActor, tenant: String?, action: String, resource: String) throws {
        let probe = AuditEvent(
            actor: actor, action: "auth.deny", outcome: .denied, tenant: tenant, target: resource,
            data: ["requested_action": .string(action)])
        do { try probe.validate() } catch {
            let field = [
                "target": "resource", "tenant": "principal.tenant", "data.requested_action": "action", "actor.user": "principal.subject",
            ][error.field] ?? (error.field.hasPrefix("actor.roles") ? "principal.roles" : error.field.hasPrefix("actor.claims") ? "principal.claims" : error.field)
            throw APIError(.badRequest, "\(field): \(error.message)", field: field)
        }
    }

    /// Ready once the server answers: opening checked that the journal is writable and the
    /// checkpoint key loaded, and started every plugin (a sink whose plugin could not start is
    /// retried by its delivery worker and shows as failing). The body shows each sink's
    /// delivery; `status` is `degraded` while one is failing.
    func readiness() async throws -> Response {
        let host = self.host
        let (sinks, size, checkpoint) = try await work.run { () throws -> ([SinkDeliveryStatus], UInt64, StoredCheckpoint?) in
            (host.runtime.deliveryStatus(), try host.log.journal.currentSize(), try host.log.journal.checkpoints().last)
        }
        let body = ServeStatus.body(source: "server", sinks: sinks, journalEntries: size, checkpoint: checkpoint, plugins: host.config.pluginInstances.count)
        return jsonResponse(body)
    }

    func metrics() async throws -> Response {
        let host = self.host
        let inFlight = work.current
        var text = PrometheusText()
        requestMetrics.render(into: &text)
        let (sinks, checkpointAge, size) = try await work.run { () throws -> ([SinkDeliveryStatus], Double?, UInt64) in
            var age: Double?
            if let stored = try host.log.journal.checkpoints().last, let payload = try? JSONParser.parse(stored.payload),
                let signed = payload["signed_at_us"]?.numberValue
            {
                age = max(0, Date().timeIntervalSince1970 - signed / 1e6)
            }
            return (host.runtime.deliveryStatus(), age, try host.log.journal.currentSize())
        }
        text.family("laforge_serve_in_flight_requests", .gauge, "Requests being worked on.")
        text.sample("laforge_serve_in_flight_requests", [:], Double(inFlight))
        text.family("laforge_journal_entries", .gauge, "Entries in the journal.")
        text.sample("laforge_journal_entries", [:], Double(size))
        text.family("laforge_checkpoint_age_seconds", .gauge, "Seconds since the newest checkpoint was signed.")
        if let checkpointAge { text.sample("laforge_checkpoint_age_seconds", [:], checkpointAge) }
        text.family("laforge_sink_lag_entries", .gauge, "Journal entries a sink has not acknowledged.")
        for sink in sinks { text.sample("laforge_sink_lag_entries", ["sink": sink.sink], Double(sink.lagEntries)) }
        text.family("laforge_sink_lag_seconds", .gauge, "How long a sink has been behind.")
        for sink in sinks { text.sample("laforge_sink_lag_seconds", ["sink": sink.sink], sink.lagSeconds) }
        text.family("laforge_sink_failing", .gauge, "1 while the last write to a sink failed.")
        for sink in sinks { text.sample("laforge_sink_failing", ["sink": sink.sink], sink.failing ? 1 : 0) }
        // The host registry's own series (delivery records, retries, refusals, dead letters,
        // events recorded and dropped), minus the one the gauges above already give.
        text.append(host.metrics.allSamples().filter { $0.name != "laforge_delivery_lag_entries" })
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text.output)))
    }
}
