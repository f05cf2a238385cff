import ArgumentParser
import Foundation
import LaForgeHost

struct LoginCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Log in through the configured IdP connector and cache the tokens (mode 0600).",
        discussion: "By default: authorization code with PKCE, the provider redirecting to a loopback port on "
            + "127.0.0.1; the URL is printed and opened with $BROWSER when set. --device uses the device code flow "
            + "for machines without a browser. The session is kept in <state_dir>/identity/session.json and renewed "
            + "with the refresh token when it expires.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "The IdP connector instance (default: identity.default_connector, or the only one).") var connector: String?
    @Flag(help: "Use the device code flow (RFC 8628) instead of a browser redirect.") var device = false
    @Option(help: "The loopback port for the redirect (default: any free port).") var port: Int = 0
    @Option(help: ArgumentHelp("Give up after this many seconds.", valueName: "seconds")) var timeout: Double = 300
    @Flag(help: "Renew the cached session with its refresh token instead of logging in again.") var refresh = false
    @Flag(help: "Forget the cached session.") var logout = false
    @Flag(help: "Print the principal as JSON.") var json = false

    func run() throws {
        if logout {
            let config = try global.loadConfig()
            do { try TokenCache(stateDir: config.stateDir).remove() } catch { throw fail(error.description, error.exitCode) }
            printError("laforge: logged out")
            return
        }
        let (identity, runtime, _) = try openIdentity(global, audit: false)
        defer { runtime.close() }
        let principal: Principal
        do {
            if refresh {
                principal = try identity.refreshSession()
            } else if device {
                principal = try identity.loginWithDevice(connector: connector) { code, uri, complete in
                    printError("To log in, open \(complete ?? uri) and enter the code \(code)")
                }
            } else {
                principal = try identity.loginWithBrowser(connector: connector, port: port, timeoutSeconds: timeout) { url in
                    printError("Open this URL in your browser to log in:\n\(url)")
                    Self.openBrowser(url)
                }
            }
        } catch {
            throw fail(error.description, error.exitCode)
        }
        printError("laforge: logged in as \(principal.actorName) (roles: \(principal.roles.isEmpty ? "none" : principal.roles.joined(separator: ", ")))")
        if json { printPrincipal(principal, json: true) }
    }

    /// Runs `$BROWSER URL` in the background when $BROWSER is set (the usual convention).
    static func openBrowser(_ url: String) {
        guard let browser = ProcessInfo.processInfo.environment["BROWSER"], !browser.isEmpty else { return }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "exec \(browser) \"$0\"", url]
        process.standardOutput = FileHandle.standardError
        do { try process.run() } catch { printError("laforge: cannot run $BROWSER: \(error)") }
    }
}
