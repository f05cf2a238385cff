import ArgumentParser
import Foundation
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
        @Option(help: "The bearer token as an argument: visible to every local user, refused in production (use --token-file or LAFORGE_TOKEN).")
        var token: String?
        @Option(name: .customLong("token-file"), help: ArgumentHelp("Read the bearer token from PATH (- for standard input).", valueName: "path"))
        var tokenFile: String?
        @Option(help: "The action, e.g. audit.read.") var action: String
        @Option(help: "The resource, e.g. tenant/acme/audit.") var resource: String
        @Option(help: "The IdP connector instance.") var connector: String?
        @Flag(help: "Print JSON.") var json = false

        func validate() throws {
            if token != nil && tokenFile != nil { throw ValidationError("give --token or --token-file, not both") }
        }

        func run() throws {
            // Decided before any plugin starts: a refused argument fails fast, a file is read once.
            var given: SecretValue?
            let mode = try global.loadConfig().mode
            do throws(IdentityError) {
                if let token {
                    printError(try BearerTokenInput.checkArgument(mode: mode))
                    given = SecretValue(string: token)
                } else if let tokenFile {
                    given = try BearerTokenInput.read(file: tokenFile)
                } else if let value = ProcessInfo.processInfo.environment[BearerTokenInput.environmentVariable], !value.isEmpty {
                    given = SecretValue(string: value)
                }
            } catch {
                throw fail(error.description, error.exitCode)
            }
            let (identity, runtime, log) = try openIdentity(global, audit: true)
            defer {
                try? log?.close()
                runtime.close()
            }
            let check: IdentityService.TokenCheck
            do throws(IdentityError) {
                var bearer = given?.unsafeStringValue()
                if bearer == nil {
                    _ = try identity.currentPrincipal()  // renews an expiring session first
                    bearer = try identity.cache.load()?.accessToken
                }
                guard let bearer else { throw IdentityError(.notLoggedIn, "give --token-file PATH (- for standard input) or LAFORGE_TOKEN, or log in with `laforge login`") }
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
