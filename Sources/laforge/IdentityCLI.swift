import ArgumentParser
import Foundation
import LaForgeHost

extension IdentityError {
    /// Denials and missing logins exit 1 (like a failed verification), provider and file
    /// trouble 2, a configuration without the connector 3.
    var exitCode: ExitCode {
        switch kind {
        case .denied, .notLoggedIn: return LaForgeExit.verificationFailed
        case .unavailable, .connectorContract, .io: return LaForgeExit.runtimeError
        case .notConfigured: return LaForgeExit.configError
        case .insecureInput: return ExitCode.validationFailure
        }
    }
}

/// Starts the runtime and the identity service (with the audit log, so denials are recorded).
func openIdentity(_ global: GlobalOptions, audit: Bool) throws(ExitCode) -> (IdentityService, PluginRuntime, AuditLog?) {
    let runtime = try global.startRuntime()
    var log: AuditLog?
    if audit {
        do { log = try AuditLog.open(config: runtime.config, logger: global.logger) } catch {
            runtime.close()
            throw fail(error.description, error.exitCode)
        }
    }
    return (IdentityService(runtime: runtime, auditLog: log), runtime, log)
}

func printPrincipal(_ principal: Principal, json: Bool) {
    if json {
        printJSON(principal.jsonValue())
        return
    }
    print("subject:   \(principal.subject)")
    if let username = principal.username { print("username:  \(username)") }
    if let email = principal.email { print("email:     \(email)") }
    print("issuer:    \(principal.issuer) (connector \(principal.connector))")
    if let tenant = principal.tenant { print("tenant:    \(tenant)") }
    if let org = principal.org { print("org:       \(org)") }
    print("groups:    \(principal.groups.isEmpty ? "(none)" : principal.groups.joined(separator: ", "))")
    print("roles:     \(principal.roles.isEmpty ? "(none)" : principal.roles.joined(separator: ", "))")
    if let expiresAt = principal.expiresAt {
        let date = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(expiresAt)))
        print("expires:   \(date)")
    }
}
