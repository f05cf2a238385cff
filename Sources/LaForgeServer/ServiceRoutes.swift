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
        let identity = host.identity
        let decision: AuthorizationDecision
        var principal: Principal?
        if let token = object["token"] {
            guard let token = token.stringValue, !token.isEmpty else { throw APIError(.badRequest, "token must be a non-empty string", field: "token") }
            try Self.checkRecordable(actor: AuditActor(user: "unauthenticated"), tenant: nil, action: action, resource: resource)
            do {
                let check = try await work.run { try identity.check(token: token, action: action, resource: resource, connector: connector) }
                decision = check.decision
                principal = check.principal
            } catch let error as IdentityError {
                throw APIError(error.kind == .io ? .serviceUnavailable : .badRequest, error.description, retryAfter: error.kind == .io ? 1 : nil)
            }
        } else if let given = object["principal"] {
            guard let subject = given["subject"]?.stringValue, !subject.isEmpty else {
                throw APIError(.badRequest, "principal.subject is required (a string)", field: "principal.subject")
            }
            let roles = given["roles"]?.arrayValue?.compactMap(\.stringValue) ?? []
            let asserted = Principal(subject: subject, roles: roles, tenant: given["tenant"]?.stringValue, claims: given["claims"] ?? .object([:]))
            try Self.checkRecordable(actor: LoggedInIdentity.auditActor(asserted), tenant: asserted.tenant, action: action, resource: resource)
            do {
                decision = try await work.run { try identity.authorize(asserted, action: action, resource: resource) }
                principal = asserted
            } catch let error as IdentityError {
                throw APIError(.serviceUnavailable, error.description, retryAfter: 1)
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

    /// Ready when the journal is writable and the checkpoint key loaded (both hold once the
    /// server is up: opening checks them) and every plugin started; the body shows each
    /// sink's delivery.
    func readiness() async throws -> Response {
        let host = self.host
        let (sinks, size, checkpoint) = try await work.run { () throws -> ([SinkStatus], UInt64, StoredCheckpoint?) in
            (host.sinkStatuses(), try host.log.journal.currentSize(), try host.log.journal.checkpoints().last)
        }
        let body: JSONValue = .object([
            "status": .string("ready"), "journal_entries": .number(Double(size)),
            "checkpoint_size": .number(Double(checkpoint?.size ?? 0)),
            "newest_covered": .bool((checkpoint?.size ?? 0) == size),
            "plugins_started": .number(Double(host.config.pluginInstances.count)),
            "sinks": .array(sinks.map { $0.jsonValue() }),
        ])
        return jsonResponse(body)
    }

    func metrics() async throws -> Response {
        let host = self.host
        let inFlight = work.current
        var text = PrometheusText()
        requestMetrics.render(into: &text)
        let (sinks, checkpointAge, size) = try await work.run { () throws -> ([SinkStatus], Double?, UInt64) in
            var age: Double?
            if let stored = try host.log.journal.checkpoints().last, let payload = try? JSONParser.parse(stored.payload),
                let signed = payload["signed_at_us"]?.numberValue
            {
                age = max(0, Date().timeIntervalSince1970 - signed / 1e6)
            }
            return (host.sinkStatuses(), age, try host.log.journal.currentSize())
        }
        text.family("laforge_serve_in_flight_requests", .gauge, "Requests being worked on.")
        text.sample("laforge_serve_in_flight_requests", [:], Double(inFlight))
        text.family("laforge_journal_entries", .gauge, "Entries in the journal.")
        text.sample("laforge_journal_entries", [:], Double(size))
        text.family("laforge_checkpoint_age_seconds", .gauge, "Seconds since the newest checkpoint was signed.")
        if let checkpointAge { text.sample("laforge_checkpoint_age_seconds", [:], checkpointAge) }
        text.family("laforge_sink_lag_entries", .gauge, "Journal entries a sink has not acknowledged.")
        for sink in sinks { text.sample("laforge_sink_lag_entries", ["sink": sink.name], Double(sink.lagEntries)) }
        text.family("laforge_sink_lag_seconds", .gauge, "Age of the oldest entry a sink has not acknowledged.")
        for sink in sinks { text.sample("laforge_sink_lag_seconds", ["sink": sink.name], sink.lagSeconds) }
        text.family("laforge_sink_dead_letters", .gauge, "Records in a sink's dead-letter file.")
        for sink in sinks { text.sample("laforge_sink_dead_letters", ["sink": sink.name], Double(sink.deadLetters)) }
        // The host registry's own series, minus those the gauges above already give.
        text.append(host.metrics.allSamples().filter { $0.name != "laforge_delivery_lag_entries" })
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text.output)))
    }
}
