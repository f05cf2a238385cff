import Foundation
import LaForgeAudit
import LaForgeCore
import LaForgePlugins

/// The host's identity decisions in one place: which connector vouches for a token, the
/// principal it maps to, the authorization decision, the audit event for every denial, and the
/// logged-in session (login, renewal, cache). The CLI and embedders call this; the connectors
/// only validate and talk to the provider.
public final class IdentityService: @unchecked Sendable {
    // @unchecked: immutable after init; the runtime and audit log are thread-safe.
    public let runtime: PluginRuntime
    public let auditLog: AuditLog?
    public let mapping: RoleMapping
    public let authorizer: Authorizer
    public let cache: TokenCache
    private let clock: @Sendable () -> Int64

    /// Sessions are renewed this long before they expire.
    public static let renewalMargin: Int64 = 60

    public init(runtime: PluginRuntime, auditLog: AuditLog?, clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }) {
        self.runtime = runtime
        self.auditLog = auditLog
        mapping = RoleMapping(rules: runtime.config.identity.claimsToRoles)
        authorizer = Authorizer(roles: runtime.config.identity.roles)
        cache = TokenCache(stateDir: runtime.config.stateDir)
        self.clock = clock
    }

    public func connector(_ name: String?) throws(IdentityError) -> IdPConnectorInstance {
        let identity = runtime.config.identity
        guard !runtime.idpConnectors.isEmpty else {
            throw IdentityError(.notConfigured, "no IdP connector is configured (add identity.connectors to \(runtime.config.sourcePath))")
        }
        guard let chosen = identity.connectorName(name) else {
            throw IdentityError(.notConfigured, "several IdP connectors are configured; name one with --connector")
        }
        guard let connector = runtime.idpConnectors.first(where: { $0.name == chosen }) else {
            throw IdentityError(
                .notConfigured,
                "no IdP connector named \(chosen) (configured: \(runtime.idpConnectors.map(\.name).joined(separator: ", ")))")
        }
        return connector
    }

    // MARK: - Tokens and decisions

    /// Validates a bearer token and maps it to a principal.
    public func principal(token: String, connector name: String? = nil) throws(IdentityError) -> Principal {
        let connector = try connector(name)
        let identity: JSONValue
        do { identity = try connector.validateToken(token) } catch { throw IdentityError(error) }
        return try mapping.principal(from: identity, connector: connector.name)
    }

    /// The decision for `principal`; a denial is recorded as an `auth.deny` audit event.
    public func authorize(_ principal: Principal, action: String, resource: String) throws(IdentityError) -> AuthorizationDecision {
        let decision = authorizer.authorize(principal, action: action, resource: resource)
        if !decision.allowed {
            try recordDenial(
                actor: LoggedInIdentity.auditActor(principal), tenant: principal.tenant, action: action, resource: resource,
                reason: decision.reason, stage: "policy")
        }
        return decision
    }

    public struct TokenCheck: Sendable {
        public var principal: Principal?
        public var decision: AuthorizationDecision
    }

    /// `auth check`: a token that does not validate is a denial too (and audited as one).
    public func check(token: String, action: String, resource: String, connector: String? = nil) throws(IdentityError) -> TokenCheck {
        let principal: Principal
        do throws(IdentityError) {
            principal = try self.principal(token: token, connector: connector)
        } catch {
            guard error.kind == .denied else { throw error }
            let reason = "token refused: \(error.message)"
            try recordDenial(
                actor: AuditActor(user: "unauthenticated"), tenant: nil, action: action, resource: resource, reason: reason,
                stage: "token")
            return TokenCheck(principal: nil, decision: AuthorizationDecision(allowed: false, reason: reason, role: nil))
        }
        return TokenCheck(principal: principal, decision: try authorize(principal, action: action, resource: resource))
    }

    private func recordDenial(
        actor: AuditActor, tenant: String?, action: String, resource: String, reason: String, stage: String
    ) throws(IdentityError) {
        guard let auditLog else { return }
        let event = AuditEvent(
            actor: actor, action: "auth.deny", outcome: .denied, tenant: tenant, target: resource,
            data: ["requested_action": .string(action), "reason": .string(reason), "stage": .string(stage)])
        do { _ = try auditLog.emit(event) } catch {
            // Fail closed: a denial that cannot be recorded is reported, not swallowed.
            throw IdentityError(.io, "cannot record the denial in the audit trail: \(error)")
        }
    }

    // MARK: - Logged-in session

    /// Interactive login with the authorization code flow and PKCE on a loopback redirect.
    /// `present` receives the URL the user must open.
    public func loginWithBrowser(
        connector name: String? = nil, port: Int = 0, timeoutSeconds: Double = 300, present: (String) -> Void
    ) throws(IdentityError) -> Principal {
        let connector = try connector(name)
        guard connector.supportsAuthorizationCode else {
            throw IdentityError(.notConfigured, "connector \(connector.name) offers no browser login; try --device")
        }
        let server = try LoopbackCallbackServer(port: port)
        let start: JSONValue
        do { start = try connector.loginStart(.object(["redirect_uri": .string(server.redirectURI)])) } catch { throw IdentityError(error) }
        guard let url = start["authorization_url"]?.stringValue, let flowData = start["flow_data"]?.stringValue,
            let state = start["state"]?.stringValue
        else { throw IdentityError(.connectorContract, "connector \(connector.name): login_start returned no authorization_url/state/flow_data") }
        present(url)
        let query = try server.waitForCallback(timeoutSeconds: timeoutSeconds)
        let session: JSONValue
        do {
            session = try connector.loginCallback(.object([
                "redirect_uri": .string(server.redirectURI), "state": .string(state), "flow_data": .string(flowData),
                "callback_query": .string(query),
            ]))
        } catch { throw IdentityError(error) }
        return try store(session, connector: connector)
    }

    /// Device authorization grant: `present` shows the code and URL; polls at the provider's pace.
    public func loginWithDevice(
        connector name: String? = nil, present: (_ userCode: String, _ verificationURI: String, _ complete: String?) -> Void
    ) throws(IdentityError) -> Principal {
        let connector = try connector(name)
        guard connector.supportsDeviceCode else {
            throw IdentityError(.notConfigured, "connector \(connector.name) offers no device login; use the browser login")
        }
        let start: JSONValue
        do { start = try connector.deviceStart(.object([:])) } catch { throw IdentityError(error) }
        guard let userCode = start["user_code"]?.stringValue, let uri = start["verification_uri"]?.stringValue,
            let flowData = start["flow_data"]?.stringValue
        else { throw IdentityError(.connectorContract, "connector \(connector.name): device_start returned no user_code/verification_uri/flow_data") }
        present(userCode, uri, start["verification_uri_complete"]?.stringValue)
        var interval = max(1, start["interval"]?.intValue ?? 5)
        let expiresAt = Int64(start["expires_at"]?.intValue ?? Int(clock() + 600))
        while clock() < expiresAt {
            Thread.sleep(forTimeInterval: Double(interval))
            let session: JSONValue
            do throws(PluginCallError) {
                session = try connector.devicePoll(.object(["flow_data": .string(flowData)]))
            } catch {
                guard error.status == .retry else { throw IdentityError(error) }
                if error.message.contains("slow_down") { interval += 5 }  // RFC 8628 §3.5
                continue
            }
            return try store(session, connector: connector)
        }
        throw IdentityError(.denied, "the device code expired before the login was approved; run `laforge login --device` again")
    }

    /// The logged-in principal, renewing the session through the connector's refresh when it
    /// expires within `renewalMargin` (the new tokens replace the cached ones).
    public func currentPrincipal() throws(IdentityError) -> Principal {
        guard var entry = try cache.load() else {
            throw IdentityError(.notLoggedIn, "nobody is logged in; run `laforge login`")
        }
        let connector = try connector(entry.connector)
        if let expiresAt = entry.expiresAt, expiresAt - Self.renewalMargin <= clock() {
            guard let data = entry.connectorData, connector.supportsRefresh else {
                throw IdentityError(.notLoggedIn, "the session expired at \(expiresAt) and cannot be renewed; run `laforge login`")
            }
            let session: JSONValue
            do { session = try connector.refresh(connectorData: data) } catch {
                let failure = IdentityError(error)
                if failure.kind == .denied {
                    throw IdentityError(.notLoggedIn, "the provider refused to renew the session (\(failure.message)); run `laforge login`")
                }
                throw failure
            }
            _ = try store(session, connector: connector)
            entry = try cache.load() ?? entry
        }
        guard let identity = entry.identity else { throw IdentityError(.io, "\(cache.path) has no identity; log in again") }
        return try mapping.principal(from: identity, connector: connector.name)
    }

    /// Renews the session now, whatever its expiry (`laforge login --refresh`).
    public func refreshSession() throws(IdentityError) -> Principal {
        guard let entry = try cache.load() else { throw IdentityError(.notLoggedIn, "nobody is logged in; run `laforge login`") }
        let connector = try connector(entry.connector)
        guard let data = entry.connectorData else {
            throw IdentityError(.notLoggedIn, "the session carries no refresh token; run `laforge login`")
        }
        let session: JSONValue
        do { session = try connector.refresh(connectorData: data) } catch { throw IdentityError(error) }
        return try store(session, connector: connector)
    }

    private func store(_ session: JSONValue, connector: IdPConnectorInstance) throws(IdentityError) -> Principal {
        guard let identity = session["identity"] else {
            throw IdentityError(.connectorContract, "connector \(connector.name) returned a session without an identity")
        }
        let principal = try mapping.principal(from: identity, connector: connector.name)
        try cache.save(TokenCache.Entry(connector: connector.name, session: session, savedAt: clock()))
        return principal
    }
}
