import ArgumentParser
import Foundation
import LaForgeHost

struct DeadLetterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deadletter",
        abstract: "List, show, replay and purge the records a sink refused permanently.",
        discussion: """
            A dead letter is a record a sink refused for good (PERMANENT_ERROR, or max_attempts \
            exhausted); it stays in the journal and in <state_dir>/deadletter/<sink>.ndjson. Once \
            the cause is fixed, `replay` sends it to the sink again; `purge` records the decision to \
            give up on it (an audit.dead_letter_purged event with the actor and the reason). A record \
            is named entry:SEQ (or just SEQ) or checkpoint:SIZE.
            """,
        subcommands: [List.self, Show.self, Replay.self, Purge.self])
}

extension DeadLetterError {
    var exitCode: ExitCode {
        switch kind {
        case .configuration: return LaForgeExit.configError
        case .corrupt: return LaForgeExit.verificationFailed
        case .notFound, .storage, .delivery: return LaForgeExit.runtimeError
        }
    }
}

/// `entry:7`, `7`, `checkpoint:8` as typed on the command line.
func parseDeadLetterIDs(_ texts: [String]) throws(ExitCode) -> [DeadLetter.RecordID] {
    var ids: [DeadLetter.RecordID] = []
    for text in texts {
        guard let id = DeadLetter.RecordID(parsing: text) else {
            throw fail("\(text.debugDescription) names no record: use entry:SEQ (or SEQ) or checkpoint:SIZE", ExitCode.validationFailure)
        }
        ids.append(id)
    }
    return ids
}

/// The one configured sink `name`, started alone (with the secret backends it may need).
func startSinkAlone(_ name: String, config: LaForgeConfig, global: GlobalOptions) throws(ExitCode) -> PluginRuntime {
    guard let instance = config.sinks.first(where: { $0.name == name }) else {
        let configured = config.sinks.map(\.name)
        throw fail(
            "no sink named \(name) in \(global.configLocation) (configured: \(configured.isEmpty ? "none" : configured.joined(separator: ", ")))",
            LaForgeExit.configError)
    }
    var alone = config
    alone.sinks = [instance]
    do { return try PluginRuntime.start(config: alone, options: global.runtimeOptions()) } catch {
        throw fail(error.description, error.exitCode)
    }
}

extension DeadLetterCommand {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The open dead letters of every sink (or one), oldest first.")

        @OptionGroup var global: GlobalOptions
        @Option(help: ArgumentHelp("Only this sink.", valueName: "name")) var sink: String?
        @Flag(help: "Include the ones already replayed or purged.") var all = false
        @Flag(help: "Print a JSON array.") var json = false

        func run() throws {
            let config = try global.loadConfig()
            let sinks = sink.map { [$0] } ?? DeadLetterQueue.sinks(stateDirectory: config.stateDir, configured: config.sinks.map(\.name))
            var rows: [(DeadLetter, DeadLetterState)] = []
            for name in sinks {
                let queue = DeadLetterQueue(stateDirectory: config.stateDir, sink: name)
                do { rows += try (all ? queue.letters() : queue.open()).map { ($0.letter, $0.state) } } catch {
                    throw fail(error.description, error.exitCode)
                }
            }
            if json {
                printJSON(.array(rows.map { $0.0.jsonValue(state: $0.1, withRecord: false) }))
                return
            }
            if rows.isEmpty {
                print(all ? "no dead letters" : "no open dead letters")
                return
            }
            for (letter, state) in rows {
                print("\(letter.sink) \(letter.id) \(state.rawValue) \(letter.time) \(letter.error)")
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One dead letter: the refusal, its state and the record as refused.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: ArgumentHelp("The sink.", valueName: "sink")) var sink: String
        @Argument(help: ArgumentHelp("entry:SEQ (or SEQ) or checkpoint:SIZE.", valueName: "record")) var record: String
        @Flag(help: "Print a JSON array (one element per time the record was refused).") var json = false

        func run() throws {
            let config = try global.loadConfig()
            let id = try parseDeadLetterIDs([record])[0]
            let queue = DeadLetterQueue(stateDirectory: config.stateDir, sink: sink)
            let rows: [(letter: DeadLetter, state: DeadLetterState)]
            do { rows = try queue.select([id], openOnly: false) } catch { throw fail(error.description, error.exitCode) }
            if json {
                printJSON(.array(rows.map { $0.letter.jsonValue(state: $0.state, withRecord: true) }))
                return
            }
            for (letter, state) in rows {
                print("sink: \(letter.sink)\nrecord: \(letter.id)\nstate: \(state.rawValue)\nrefused at: \(letter.time)")
                print("error: \(letter.error)\nhash: \(letter.hash)\nfile: \(queue.file.path):\(letter.line)\n\(letter.record)")
            }
        }
    }

    struct Replay: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send a sink's open dead letters (or the ones named) to it again, once the cause is fixed.",
            discussion: """
                Reads each record from the journal, checks it against the dead letter's hash and sends \
                it alone; progress is durable, so a replay interrupted at any point can be run again \
                (nothing replayed is sent twice; the one record in doubt is re-sent, which sinks take as \
                one). Refused while another process delivers to the sink (laforge serve, audit deliver \
                --follow): stop it first.
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var actor: ActorOptions
        @Argument(help: ArgumentHelp("The sink.", valueName: "sink")) var sink: String
        @Argument(help: ArgumentHelp("Records to replay (default: every open one).", valueName: "record")) var records: [String] = []

        func run() throws {
            let config = try global.loadConfig()
            let ids = try parseDeadLetterIDs(records)
            let who = try actor.resolve(config) ?? AuditActor(user: ProcessInfo.processInfo.userName)
            let runtime = try startSinkAlone(sink, config: config, global: global)
            defer { runtime.close() }
            let log = try openAuditLog(global)
            defer { try? log.close() }
            let report: DeadLetterReplay.Report
            do { report = try DeadLetterReplay(log: log, sink: runtime.sinks[0]).run(ids.isEmpty ? nil : ids, actor: who) } catch {
                throw fail(error.description, error.exitCode)
            }
            if report.replayed.isEmpty {
                print("sink \(sink): no open dead letters to replay")
                return
            }
            let resent = report.resentInDoubt.isEmpty ? "" : " (\(report.resentInDoubt.count) left in doubt by an interrupted replay, sent again)"
            print("sink \(sink): replayed \(report.replayed.count) record(s)\(resent): \(report.replayed.map(\.description).joined(separator: " "))")
        }
    }

    struct Purge: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give up on dead letters, as a recorded decision: an audit event with the actor and the reason.",
            discussion: "The records stay in the journal and the dead-letter file; they are only no longer open.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var actor: ActorOptions
        @Argument(help: ArgumentHelp("The sink.", valueName: "sink")) var sink: String
        @Argument(help: ArgumentHelp("Records to purge.", valueName: "record")) var records: [String] = []
        @Flag(help: "Purge every open dead letter of the sink.") var all = false
        @Option(help: ArgumentHelp("Why (required; recorded in the audit chain).", valueName: "text")) var reason: String?

        func validate() throws {
            guard let reason, !reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw ValidationError("a purge is an audited decision: --reason TEXT is required (it is recorded in the audit chain with the actor)")
            }
            guard all != !records.isEmpty else {
                throw ValidationError(all ? "pass either --all or records, not both" : "name the records to purge, or pass --all")
            }
        }

        func run() throws {
            let config = try global.loadConfig()
            let ids = try parseDeadLetterIDs(records)
            let who = try actor.require(config)
            let log = try openAuditLog(global)
            defer { try? log.close() }
            let purged: [DeadLetter]
            do {
                purged = try DeadLetterQueue(stateDirectory: config.stateDir, sink: sink).purge(all ? nil : ids, log: log, actor: who, reason: reason ?? "")
            } catch { throw fail(error.description, error.exitCode) }
            if purged.isEmpty {
                print("sink \(sink): no open dead letters to purge")
            } else {
                print("sink \(sink): purged \(purged.count) dead letter(s) as \(who.user): \(purged.map(\.id.description).joined(separator: " "))")
            }
        }
    }
}
