import ArgumentParser
import Foundation
import LaForgeHost

@main
struct LaForgeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "laforge",
        abstract: "LaForge enterprise runtime: plugins, configuration, audit trail.",
        discussion: """
            Exit codes: 0 success, 1 verification failed (signature, conformance), 2 runtime \
            error, 3 configuration error, 4 plugin load error, 5 invalid event input, 6 not found, 64 usage \
            error (docs/CLI.md).
            """,
        version: ABIVersion.hostVersion,
        subcommands: [
            ConfigCommand.self, PluginsCommand.self, KeysCommand.self, AuditCommand.self, VerifyCommand.self,
            SnapshotCommand.self, ApproveCommand.self, RejectCommand.self, AnnotateCommand.self, GuardCommand.self,
            ProvenanceCommand.self, SecretsCommand.self, LoginCommand.self, WhoamiCommand.self, AuthCommand.self,
            ServeCommand.self, StatusCommand.self, DeadLetterCommand.self, BackupCommand.self,
        ])

    /// Global options may come before the subcommand (GlobalOptionPlacement says why they move).
    static func main() {
        // A parent may have left SIGTERM ignored (ignored signals survive exec): then
        // `audit tail --follow` and every other command without its own stop could not be ended
        // by a service manager. Commands that stop cleanly install their handler (SignalStop).
        signal(SIGTERM, SIG_DFL)
        main(GlobalOptionPlacement.reorder(Array(CommandLine.arguments.dropFirst()), root: Self.self))
    }
}
