import ArgumentParser
import LaForgeHost

/// `laforge approve|reject|annotate SNAPSHOT --comment …`: one shape, three decisions.
protocol ApprovalCommand: ParsableCommand {
    static var decision: ApprovalDecision { get }
    var global: GlobalOptions { get }
    var actorOptions: ActorOptions { get }
    var snapshot: String { get }
    var comment: String { get }
    var sign: Bool { get }
    var key: String? { get }
}

extension ApprovalCommand {
    func run() throws {
        let config = try global.loadConfig()
        let actor = try actorOptions.require(config)
        let recorder = ApprovalRecorder(config: config, logger: global.logger)
        do {
            let signingKey = sign || key != nil ? try recorder.signingKey(path: key) : nil
            let result = try recorder.record(Self.decision, snapshot: snapshot, actor: actor, comment: comment, key: signingKey)
            for notice in result.notices { printError("laforge: \(notice)") }
            let signature = result.approval.signature.map { " signed with \($0.keyDescription)" } ?? " (unsigned)"
            print("\(Self.decision.rawValue) \(result.approval.shortID) of snapshot \(result.snapshot.shortID) by \(actor.user)\(signature)")
        } catch {
            throw fail(error.description, error.exitCode)
        }
    }
}

struct ApproveCommand: ApprovalCommand {
    static let configuration = CommandConfiguration(commandName: "approve", abstract: "Approve a snapshot for deployment.")
    static let decision = ApprovalDecision.approve
    @OptionGroup var global: GlobalOptions
    @OptionGroup var actorOptions: ActorOptions
    @Argument(help: "`latest` or a unique prefix of the snapshot id.") var snapshot: String
    @Option(help: "Why.") var comment: String
    @Flag(help: "Sign the approval with the approver's Ed25519 key (--key, else approvals.key_file).") var sign = false
    @Option(help: ArgumentHelp("The approver's signing key file (implies --sign).", valueName: "path")) var key: String?
}

struct RejectCommand: ApprovalCommand {
    static let configuration = CommandConfiguration(commandName: "reject", abstract: "Reject a snapshot (blocks it when approvals.rejection_blocks).")
    static let decision = ApprovalDecision.reject
    @OptionGroup var global: GlobalOptions
    @OptionGroup var actorOptions: ActorOptions
    @Argument(help: "`latest` or a unique prefix of the snapshot id.") var snapshot: String
    @Option(help: "Why.") var comment: String
    @Flag(help: "Sign the rejection with the approver's Ed25519 key (--key, else approvals.key_file).") var sign = false
    @Option(help: ArgumentHelp("The approver's signing key file (implies --sign).", valueName: "path")) var key: String?
}

struct AnnotateCommand: ApprovalCommand {
    static let configuration = CommandConfiguration(commandName: "annotate", abstract: "Attach a comment to a snapshot (counts neither way).")
    static let decision = ApprovalDecision.annotate
    @OptionGroup var global: GlobalOptions
    @OptionGroup var actorOptions: ActorOptions
    @Argument(help: "`latest` or a unique prefix of the snapshot id.") var snapshot: String
    @Option(help: "The note.") var comment: String
    @Flag(help: "Sign the note with the author's Ed25519 key (--key, else approvals.key_file).") var sign = false
    @Option(help: ArgumentHelp("The author's signing key file (implies --sign).", valueName: "path")) var key: String?
}
