import ArgumentParser
import LaForgeHost

/// Who acts: `--actor` (and `--role`), else the logged-in identity (`laforge login`), else
/// `approvals.actor` in the configuration.
struct ActorOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The acting user (default: the logged-in identity, else approvals.actor.user from the configuration).", valueName: "user"))
    var actor: String?
    @Option(name: .customLong("role"), help: ArgumentHelp("A role the actor acts with (repeatable).", valueName: "role"))
    var roles: [String] = []

    /// The actor, or nil when neither the flags, a login nor the configuration name one.
    func resolve(_ config: LaForgeConfig) throws(ExitCode) -> AuditActor? {
        if let actor { return AuditActor(user: actor, roles: roles) }
        let principal: Principal?
        do { principal = try LoggedInIdentity.current(stateDir: config.stateDir, identity: config.identity) } catch {
            throw fail("the logged-in identity: \(error.message)", LaForgeExit.configError)
        }
        if let principal {
            var loggedIn = LoggedInIdentity.auditActor(principal)
            if !roles.isEmpty { loggedIn.roles = roles }
            return loggedIn
        }
        guard var configured = config.approvals.actor else { return nil }
        if !roles.isEmpty { configured.roles = roles }
        return configured
    }

    func require(_ config: LaForgeConfig) throws(ExitCode) -> AuditActor {
        guard let actor = try resolve(config) else {
            throw fail("who acts? pass --actor USER [--role ROLE]…, log in (laforge login), or set approvals.actor in the configuration", ExitCode.validationFailure)
        }
        return actor
    }
}

extension SnapshotError {
    var exitCode: ExitCode {
        switch kind {
        case .invalidInput: return ExitCode.validationFailure
        case .configuration: return LaForgeExit.configError
        case .storage: return LaForgeExit.runtimeError
        case .corrupt: return LaForgeExit.verificationFailed
        }
    }
}

/// Reads `--key PATH.pub` verifier key files.
func readVerifierKeys(_ paths: [String]) throws(ExitCode) -> [Ed25519VerifierKey] {
    try readVerifierKeyFiles(paths).map(\.key)
}

/// The verifier keys given with `--key PATH.pub` (verify chain, audit query --sink).
func readVerifierKeyFiles(_ paths: [String]) throws(ExitCode) -> [(path: String, key: Ed25519VerifierKey)] {
    var keys: [(path: String, key: Ed25519VerifierKey)] = []
    for path in paths {
        do { keys.append((path, try Ed25519VerifierKey(parsing: String(contentsOfFile: path, encoding: .utf8)))) } catch {
            throw fail("\(path): \(error)", LaForgeExit.configError)
        }
    }
    return keys
}
