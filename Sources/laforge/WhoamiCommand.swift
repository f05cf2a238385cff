import ArgumentParser
import LaForgeHost

struct WhoamiCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "whoami",
        abstract: "Show the logged-in principal (renewing the session when it is about to expire).",
        discussion: "Exit 1 when nobody is logged in or the session cannot be renewed.")

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let (identity, runtime, _) = try openIdentity(global, audit: false)
        defer { runtime.close() }
        do { printPrincipal(try identity.currentPrincipal(), json: json) } catch {
            throw fail(error.description, error.exitCode)
        }
    }
}
