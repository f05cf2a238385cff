import ArgumentParser
import LaForgeHost

struct AuthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "auth", abstract: "Authorization decisions.", subcommands: [Check.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a token and decide whether it may perform ACTION on RESOURCE.",
            discussion: "Prints allow or deny with the reason. Every denial (a refused token included) is recorded "
                + "in the audit trail as an auth.deny event. Exit 0 allow, 1 deny.")

        @OptionGroup var global: GlobalOptions
        @Option(help: "The bearer token (default: the logged-in session's access token).") var token: String?
        @Option(help: "The action, e.g. audit.read.") var action: String
        @Option(help: "The resource, e.g. tenant/acme/audit.") var resource: String
        @Option(help: "The IdP connector instance.") var connector: String?
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let (identity, runtime, log) = try openIdentity(global, audit: true)
            defer {
                try? log?.close()
                runtime.close()
            }
            let check: IdentityService.TokenCheck
            do throws(IdentityError) {
                var bearer = token
                if bearer == nil {
                    _ = try identity.currentPrincipal()  // renews an expiring session first
                    bearer = try identity.cache.load()?.accessToken
                }
                guard let bearer else { throw IdentityError(.notLoggedIn, "give --token, or log in with `laforge login`") }
                check = try identity.check(token: bearer, action: action, resource: resource, connector: connector)
            } catch {
                throw fail(error.description, error.exitCode)
            }
            if json {
                var object = check.decision.jsonValue().objectValue ?? [:]
                object["action"] = .string(action)
                object["resource"] = .string(resource)
                if let principal = check.principal { object["principal"] = principal.jsonValue(includeClaims: false) }
                printJSON(.object(object))
            } else {
                print("\(check.decision.allowed ? "allow" : "deny"): \(check.decision.reason)")
            }
            if !check.decision.allowed { throw LaForgeExit.verificationFailed }
        }
    }
}
