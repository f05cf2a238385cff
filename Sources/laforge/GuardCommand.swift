import ArgumentParser
import LaForgeHost

struct GuardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "guard", abstract: "Gate deployments on signed and approved snapshots.", subcommands: [Deploy.self])

    struct Deploy: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Exit 0 when the snapshot may be deployed; else print every unmet requirement and exit 1.",
            discussion: """
                Always checks that every artifact on disk matches the snapshot. --require-signed also \
                checks the chain up to it and its signature under a trusted key; --require-approved the \
                approvals policy. In production mode both are required. Records a deploy.guard audit event.
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var actorOptions: ActorOptions
        @Argument(help: "`latest` or a unique prefix of the snapshot id.") var snapshot: String
        @Flag(name: .customLong("require-signed"), help: "Require a valid signature by a trusted key and an intact chain.") var requireSigned = false
        @Flag(name: .customLong("require-approved"), help: "Require the approvals policy to be met.") var requireApproved = false
        @Option(name: .customLong("key"), help: ArgumentHelp("An extra trusted snapshot verifier key (PATH.pub); repeatable.", valueName: "path"))
        var keyFiles: [String] = []
        @Flag(help: "Print the verdict as JSON.") var json = false

        func run() throws {
            let config = try global.loadConfig()
            let actor = try actorOptions.resolve(config) ?? AuditActor(user: "laforge")
            let deploymentGuard = DeploymentGuard(config: config, extraKeys: try readVerifierKeys(keyFiles), logger: global.logger)
            let verdict: DeploymentVerdict
            do {
                let (checked, notices) = try deploymentGuard.check(
                    snapshot: snapshot, requireSigned: requireSigned, requireApproved: requireApproved, actor: actor)
                for notice in notices { printError("laforge: \(notice)") }
                verdict = checked
            } catch {
                throw fail(error.description, error.exitCode)
            }
            if json {
                printJSON(verdict.jsonValue())
            } else if verdict.isAllowed {
                print("snapshot \(verdict.snapshot.shortID) may be deployed"
                    + (verdict.requiredSigned ? "; signed" : "") + (verdict.requiredApproved ? "; approved by \(verdict.approvals.counted.map(\.approval.actor.user).joined(separator: ", "))" : ""))
            } else {
                printError("laforge: guard deploy: snapshot \(verdict.snapshot.shortID) may NOT be deployed:")
                for requirement in verdict.unmet { printError("  - \(requirement)") }
            }
            if !verdict.isAllowed { throw LaForgeExit.verificationFailed }
        }
    }
}
