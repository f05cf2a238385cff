import ArgumentParser
import Foundation
import LaForgeHost

struct SnapshotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot", abstract: "Sign, list and show snapshots of artifacts (schemas, migrations, policy bundles).",
        subcommands: [Sign.self, List.self, Show.self])

    struct Sign: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record the SHA-256 of each artifact in a new signed snapshot, linked to the previous one.",
            discussion: "A directory stands for every file below it. Records a snapshot.sign audit event.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var actorOptions: ActorOptions
        @Argument(help: "Artifact files or directories.") var paths: [String]
        @Option(help: "What the snapshot is (shown by list and in provenance).") var message: String?
        @Flag(help: "Print the snapshot record as JSON.") var json = false

        func run() throws {
            let config = try global.loadConfig()
            let actor = try actorOptions.require(config)
            do {
                let result = try SnapshotSigner(config: config, logger: global.logger).sign(paths: paths, message: message, actor: actor)
                for notice in result.notices { printError("laforge: \(notice)") }
                let snapshot = result.snapshot
                if json {
                    printJSON(snapshot.jsonValue())
                } else {
                    print(
                        "signed snapshot \(snapshot.shortID) (seq \(snapshot.seq)) over \(snapshot.artifacts.count) artifact"
                            + "\(snapshot.artifacts.count == 1 ? "" : "s") with \(snapshot.signature.keyDescription)"
                            + (result.auditSeq.map { "; audit seq \($0)" } ?? ""))
                    print("hash \(snapshot.hash.hexString)")
                }
            } catch {
                throw fail(error.description, error.exitCode)
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One line per snapshot, oldest first.")

        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print a JSON array of the records.") var json = false

        func run() throws {
            let config = try global.loadConfig()
            do {
                let snapshots = try SnapshotChain(stateDirectory: config.stateDir).snapshots()
                if json {
                    printJSON(.array(snapshots.map { $0.jsonValue() }))
                    return
                }
                for snapshot in snapshots {
                    print([
                        "\(snapshot.seq)", snapshot.shortID, snapshot.createdAt.description, snapshot.signer.user,
                        "\(snapshot.artifacts.count) artifact\(snapshot.artifacts.count == 1 ? "" : "s")", snapshot.message ?? "",
                    ].joined(separator: "\t"))
                }
            } catch {
                throw fail(error.description, error.exitCode)
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A snapshot's record, artifacts, approvals and whether the approvals policy is met.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "`latest` or a unique prefix of the snapshot id.") var snapshot: String
        @Flag(help: "Print JSON: the record, its approvals and the tally.") var json = false

        func run() throws {
            let config = try global.loadConfig()
            do {
                let found = try SnapshotChain(stateDirectory: config.stateDir).resolve(snapshot)
                let approvals = try ApprovalLog(stateDirectory: config.stateDir).approvals(of: found)
                let tally = ApprovalTally(approvals: approvals, of: found, policy: config.approvals, mode: config.mode)
                if json {
                    printJSON(.object([
                        "snapshot": found.jsonValue(), "approvals": .array(approvals.map { $0.jsonValue() }),
                        "approved": .bool(tally.isApproved), "unmet": .array(tally.unmet.map(JSONValue.string)),
                    ]))
                    return
                }
                print("snapshot \(found.shortID) (seq \(found.seq))")
                print("hash       \(found.hash.hexString)")
                print("prev_hash  \(found.prevHash?.hexString ?? "none (first snapshot)")")
                print("created    \(found.createdAt) by \(found.signer.user)\(found.signer.roles.isEmpty ? "" : " (\(found.signer.roles.joined(separator: ", ")))")")
                if let message = found.message { print("message    \(message)") }
                print("signed by  \(found.signature.keyDescription)")
                print("artifacts:")
                for artifact in found.artifacts { print("  \(artifact.sha256.hexString)  \(artifact.size)\t\(artifact.path)") }
                print("approvals:")
                for approval in approvals {
                    print("  \(approval.createdAt)  \(approval.decision.rawValue)\t\(approval.actor.user)"
                        + "\(approval.signature.map { " signed \($0.keyDescription)" } ?? " unsigned")  \(approval.comment)")
                }
                print(tally.isApproved ? "approved under the policy" : "not approved: " + tally.unmet.joined(separator: "; "))
            } catch {
                throw fail(error.description, error.exitCode)
            }
        }
    }
}
