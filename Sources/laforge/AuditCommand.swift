import ArgumentParser
import Foundation
import LaForgeHost

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Record, deliver, read and prove audit events.",
        subcommands: [Emit.self, Deliver.self, Status.self, Tail.self, Query.self, Prove.self, HashValue.self])
}

/// Opens the audit log of the configuration, printing notices (a generated key, a recovered
/// journal tail) to standard error.
func openAuditLog(_ global: GlobalOptions) throws(ExitCode) -> AuditLog {
    let config = try global.loadConfig()
    do {
        let log = try AuditLog.open(config: config, logger: global.logger)
        for notice in log.notices { printError("laforge: \(notice)") }
        return log
    } catch {
        throw fail(error.description, error.exitCode)
    }
}

func openAuditReader(_ global: GlobalOptions, extraKeys: [Ed25519VerifierKey] = []) throws(ExitCode) -> AuditReader {
    let config = try global.loadConfig()
    do { return try AuditReader.open(config: config, extraKeys: extraKeys) } catch {
        throw fail(error.description, error.exitCode)
    }
}

extension AuditLogError {
    var exitCode: ExitCode {
        switch kind {
        case .invalidEvent: return LaForgeExit.invalidInput
        case .notFound: return LaForgeExit.notFound
        case .configuration: return LaForgeExit.configError
        case .notDurable, .storage, .corrupt, .keyUnavailable: return LaForgeExit.runtimeError
        }
    }
}

/// Runs delivery of what is in the journal to every configured sink, within the timeout. A sink
/// whose plugin does not start is retried meanwhile; if it never started, the others still got
/// everything and the command exits 4 naming it.
func deliver(_ log: AuditLog, global: GlobalOptions, timeoutMilliseconds: Int?) throws(ExitCode) {
    guard !log.config.sinks.isEmpty else { return }
    let runtime = try global.startRuntime(sinkCreateFailure: .retryInDelivery)
    defer { runtime.close() }
    let engine = DeliveryEngine(log: log, runtime: runtime)
    let stop = SignalStop.install { engine.stop() }
    let hangup = SinkReopenOnHangup(runtime)
    defer { withExtendedLifetime((stop, hangup)) {} }
    engine.start(deadline: timeoutMilliseconds.map { ClockArithmetic.deadline(afterMilliseconds: $0, now: monotonicNanoseconds()) })
    let results = engine.wait()
    reportUndelivered(results, runtime: runtime)
    // The other sinks got what there is; a plugin that never started is the plugin's exit code.
    if let unstarted = runtime.unstartedSinks.first(where: { $0.instance == nil }) {
        throw fail("sink \(unstarted.name) did not start: \(unstarted.lastError.description)", LaForgeExit.pluginLoadError)
    }
}

/// Names each sink that has not caught up, and why when its plugin never started.
func reportUndelivered(_ results: [String: Bool], runtime: PluginRuntime) {
    let unstarted = Dictionary(uniqueKeysWithValues: runtime.unstartedSinks.map { ($0.name, $0) })
    for (sink, caughtUp) in results.sorted(by: { $0.key < $1.key }) where !caughtUp {
        if let pending = unstarted[sink], pending.instance == nil {
            printError("laforge: sink \(sink) is not started (\(pending.lastError.message)); what is recorded stays in the journal and reaches it from `laforge audit deliver` once it starts")
        } else {
            printError("laforge: sink \(sink) has not received everything yet; the rest stays in the journal (run `laforge audit deliver`)")
        }
    }
}

extension AuditCommand {
    struct Emit: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record audit events durably, then deliver them to the sinks.",
            discussion: """
                One event from flags, one from --json, or NDJSON from --stdin (one event per line, \
                grouped: the fast path for scripts). Prints each entry's seq and hash. Events are in \
                the journal (durable) before this returns; sinks get them within --flush-timeout, \
                or later from `laforge audit deliver`.
                """)

        @OptionGroup var global: GlobalOptions
        @Option(help: "The acting user (default: the logged-in identity, see `laforge login`).") var actor: String?
        /// The spelling before 0.x (one name per concept across commands: `--actor`, as in
        /// `snapshot sign` and `audit query`); accepted with a deprecation note for one release.
        @Option(name: .customLong("user"), help: .hidden) var deprecatedUser: String?
        var user: String? { actor ?? deprecatedUser }
        @Option(name: .customLong("role"), help: "A role the user acted with (repeatable).") var roles: [String] = []
        @Option(name: .customLong("claim"), help: ArgumentHelp("An identity claim NAME=VALUE (repeatable; VALUE may be JSON).", valueName: "name=value"))
        var claims: [String] = []
        @Option(help: "The action, e.g. schema.change.") var action: String?
        @Option(help: "success, failure or denied.") var outcome: String?
        @Option(help: "What was acted on.") var target: String?
        @Option(help: "The tenant.") var tenant: String?
        @Option(name: .customLong("request-id"), help: "The request id.") var requestID: String?
        @Option(name: .customLong("artifact-hash"), help: "sha256:<hex> of the artifact.") var artifactHash: String?
        @Option(help: ArgumentHelp("A file whose SHA-256 becomes the artifact hash.", valueName: "path")) var artifact: String?
        @Option(help: ArgumentHelp("A JSON object of details.", valueName: "json")) var data: String?
        @Option(help: "RFC 3339 time (default: now).") var timestamp: String?
        @Option(help: ArgumentHelp("The whole event as a JSON object.", valueName: "event")) var json: String?
        @Flag(help: "Read NDJSON events from standard input.") var stdin = false
        @Option(name: .customLong("flush-timeout"), help: ArgumentHelp("Seconds to spend delivering to sinks before exiting (default: audit.delivery.flush_timeout_ms).", valueName: "seconds"))
        var flushTimeout: Double?
        @Flag(name: .customLong("json-output"), help: "Print receipts as JSON.") var jsonOutput = false

        func validate() throws {
            if deprecatedUser != nil {
                guard actor == nil else { throw ValidationError("--user is the old spelling of --actor: give one of them") }
                warnDeprecated("--user", use: "--actor")
            }
            let sources = [json != nil, stdin, user != nil || action != nil].filter { $0 }.count
            guard sources == 1 else { throw ValidationError("give the event with flags (--actor, --action, …), --json, or --stdin: exactly one of them") }
            if user != nil || action != nil {
                guard action != nil else { throw ValidationError("--action is required (and --actor unless you are logged in)") }
            }
        }

        func run() throws {
            let log = try openAuditLog(global)
            // Sinks follow the journal while events are recorded; a sink whose plugin cannot
            // start is retried by its own worker while the others deliver, and a configuration
            // that cannot start at all does not stop recording: the journal is the source of truth.
            var runtime: PluginRuntime?
            var startError: RuntimeStartError?
            if !log.config.sinks.isEmpty {
                do { runtime = try PluginRuntime.start(config: log.config, options: global.runtimeOptions(sinkCreateFailure: .retryInDelivery)) } catch {
                    startError = error
                }
            }
            defer { runtime?.close() }
            let output = ReceiptPrinter(json: jsonOutput)
            var failure: (message: String, code: ExitCode)?
            let record = {
                do {
                    if stdin {
                        let summary = try NDJSONIngest.run(log: log, onRecorded: output.print)
                        output.finish(summary)
                    } else {
                        let event = try json.map(parseJSONEvent) ?? eventFromFlags(config: log.config)
                        if let receipt = try log.emit(event) { output.print([receipt]) }
                        output.finish(nil)
                    }
                } catch let error as NDJSONIngest.Failure {
                    output.finish(error.recorded)
                    if error.recorded.count > 0, let first = error.recorded.first, let last = error.recorded.last {
                        printError("laforge: \(error.recorded.count) event(s) before the failure were recorded (seq \(first.seq)…\(last.seq)); nothing after")
                    }
                    failure = Self.describe(error.underlying)
                } catch {
                    output.finish(nil)
                    failure = Self.describe(error)
                }
                do { try log.signCheckpoint() } catch { printError("laforge: warning: \(error)") }
            }
            let timeout = flushTimeout.map { Int($0 * 1000) } ?? log.config.audit.delivery.flushTimeoutMilliseconds
            if let runtime {
                let hangup = SinkReopenOnHangup(runtime)
                defer { withExtendedLifetime(hangup) {} }
                let results = DeliveryEngine.deliver(log: log, runtime: runtime, timeoutMilliseconds: timeout, during: record)
                reportUndelivered(results, runtime: runtime)
            } else {
                record()
            }
            do { try log.close() } catch { throw fail(error.description, error.exitCode) }
            if let failure { throw fail(failure.message, failure.code) }
            if let startError {
                throw fail("the events are recorded, but the sinks could not start: \(startError)", startError.exitCode)
            }
        }

        private static func describe(_ error: any Error) -> (message: String, code: ExitCode) {
            switch error {
            case let error as AuditLogError: return (error.description, error.exitCode)
            case let error as AuditEventError: return (error.description, LaForgeExit.invalidInput)
            default: return ("cannot read standard input: \(error)", LaForgeExit.runtimeError)
            }
        }

        private func parseJSONEvent(_ text: String) throws -> AuditEvent {
            let value: JSONValue
            do { value = try JSONParser.parse(Array(text.utf8)[...], exactNumbers: true) } catch {
                if let field = error.field { throw AuditEventError(field: field, "--json: \(error.message)") }
                throw AuditEventError(field: "", "--json is not valid JSON: \(error)")
            }
            return try AuditEvent(json: value)
        }

        private func eventFromFlags(config: LaForgeConfig) throws -> AuditEvent {
            var claimValues: [String: JSONValue] = [:]
            for claim in claims {
                guard let equals = claim.firstIndex(of: "=") else {
                    throw AuditEventError(field: "actor.claims", "--claim \(claim): expected NAME=VALUE")
                }
                let raw = String(claim[claim.index(after: equals)...])
                // A value that is JSON is stored as such, unless a number in it would change:
                // then it is refused, never rounded.
                do { claimValues[String(claim[..<equals])] = try JSONParser.parse(Array(raw.utf8)[...], exactNumbers: true) } catch {
                    if error.field != nil { throw AuditEventError(field: "actor.claims.\(claim[..<equals])", error.message) }
                    claimValues[String(claim[..<equals])] = .string(raw)
                }
            }
            var dataObject: [String: JSONValue] = [:]
            if let data {
                let parsed: JSONValue
                do { parsed = try JSONParser.parse(Array(data.utf8)[...], exactNumbers: true) } catch {
                    throw AuditEventError(field: error.field.map { $0.isEmpty ? "data" : "data.\($0)" } ?? "data", "--data: \(error.message)")
                }
                guard case .object(let members) = parsed else {
                    throw AuditEventError(field: "data", "--data must be a JSON object")
                }
                dataObject = members
            }
            var hash = artifactHash
            if let artifact {
                do { hash = "sha256:" + (try SHA256.hash(fileAt: artifact)).hexString } catch {
                    throw AuditEventError(field: "artifact_hash", "cannot read --artifact \(artifact)")
                }
            }
            // Without --actor the actor is the logged-in identity (flags stay for automation).
            var actorUser = user
            var actorRoles = roles
            if user == nil {
                let principal: Principal?
                do { principal = try LoggedInIdentity.current(stateDir: config.stateDir, identity: config.identity) } catch {
                    throw AuditEventError(field: "actor", error.message)
                }
                guard let principal else {
                    throw AuditEventError(field: "actor.user", "--actor is required when nobody is logged in (laforge login)")
                }
                let actor = LoggedInIdentity.auditActor(principal)
                actorUser = actor.user
                if actorRoles.isEmpty { actorRoles = actor.roles }
                claimValues.merge(actor.claims) { given, _ in given }
            }
            var object: [String: JSONValue] = [
                "actor": .object(["user": .string(actorUser!), "roles": .array(actorRoles.map(JSONValue.string)), "claims": .object(claimValues)]),
                "action": .string(action!), "data": .object(dataObject),
            ]
            if let outcome { object["outcome"] = .string(outcome) }
            if let target { object["target"] = .string(target) }
            if let tenant { object["tenant"] = .string(tenant) }
            if let requestID { object["request_id"] = .string(requestID) }
            if let hash { object["artifact_hash"] = .string(hash) }
            if let timestamp { object["timestamp"] = .string(timestamp) }
            return try AuditEvent(json: .object(object))
        }
    }

    struct Deliver: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Deliver what the journal holds to every sink, then exit (or keep following).")

        @OptionGroup var global: GlobalOptions
        @Flag(help: "Keep delivering new entries until interrupted.") var follow = false
        @Option(help: ArgumentHelp("Give up after this many seconds (default: no limit).", valueName: "seconds")) var timeout: Double?

        func run() throws {
            if follow, !(try global.loadConfig().sinks.isEmpty) { return try followJournal() }
            let log = try openAuditLog(global)
            defer { try? log.close() }
            try deliver(log, global: global, timeoutMilliseconds: timeout.map { Int($0 * 1000) })
        }

        /// Runs the host as a long-running process does (`LaForgeRuntime`): delivery workers
        /// following the journal and periodic checkpoints, so entries other processes record get
        /// delivered and signed on time, until interrupted or --timeout.
        private func followJournal() throws(ExitCode) {
            // Stopping is immediate, as it always was: the workers finish their call and save
            // their cursors; the final checkpoint goes out with the next delivery.
            let runtime = try global.openRuntime(shutdownTimeoutMilliseconds: 0)
            let interrupted = DispatchSemaphore(value: 0)
            let stop = SignalStop.install { interrupted.signal() }
            // logrotate's postrotate signals the host; every sink that can reopens its files.
            let hangup = SinkReopenOnHangup(runtime.plugins)
            defer { withExtendedLifetime((stop, hangup)) {} }
            do { try runtime.start() } catch { throw fail(error.description, error.exitCode) }
            if let timeout {
                _ = interrupted.wait(timeout: .now() + timeout)
            } else {
                interrupted.wait()
            }
            runtime.shutdown()
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the journal's size, the entries no checkpoint covers yet, and where each sink stands.",
            discussion: """
                Reads the files only (the journal read-only, the cursors): it answers while other \
                processes record and deliver, and names a sink whose plugin has not started and why.
                """)

        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print the status as JSON.") var json = false

        func run() throws {
            let config = try global.loadConfig()
            let status: AuditStatus
            do { status = try AuditStatus.read(config: config) } catch { throw fail(error.description, error.exitCode) }
            if json {
                printJSON(status.jsonValue())
            } else {
                for line in status.lines { print(line) }
            }
        }
    }

    struct Tail: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the newest entries.")

        @OptionGroup var global: GlobalOptions
        @Option(name: .short, help: "How many entries.") var n = 10
        @Flag(help: "Keep printing new entries.") var follow = false
        @Flag(help: "Print each entry's canonical JSON.") var json = false

        func run() throws {
            let reader = try openAuditReader(global)
            do {
                var entries = try reader.tail(n)
                var next = try entries.last.map { $0.seq + 1 } ?? reader.size()
                while true {
                    for entry in entries {
                        printEntry(entry, json: json)
                        // stdout into a pipe is block-buffered: a follower (`| grep`, a log
                        // shipper) would see nothing until 4 KiB had gathered. Each line at once.
                        // (fflush(nil): every stream, so no reference to C's global `stdout`.)
                        if follow { fflush(nil) }
                    }
                    guard follow else { return }
                    usleep(200_000)
                    entries = try reader.scan(from: next)
                    if let last = entries.last { next = last.seq + 1 }
                }
            } catch let error as AuditLogError {
                throw fail(error.description, error.exitCode)
            } catch {
                throw fail("cannot read the journal: \(error)", LaForgeExit.runtimeError)
            }
        }
    }

    struct Query: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Find entries by time, actor, tenant and action.")

        @OptionGroup var global: GlobalOptions
        @Option(help: "RFC 3339 start time (inclusive).") var since: String?
        @Option(help: "RFC 3339 end time (exclusive).") var until: String?
        @Option(help: "The acting user.") var actor: String?
        @Option(help: "The tenant.") var tenant: String?
        @Option(help: "An action, or a prefix like rbac.*.") var action: String?
        @Option(help: "At most this many entries.") var limit = 1000
        @Flag(help: "Print each entry's canonical JSON.") var json = false
        @Option(help: ArgumentHelp("Search what this sink stored (read back through its plugin) instead of the journal.", valueName: "name"))
        var sink: String?
        @Flag(name: .customLong("no-verify"), help: "With --sink: print what the sink returns without verifying it first (says so on standard error).")
        var noVerify = false
        @Option(name: .customLong("key"), help: ArgumentHelp("With --sink: a checkpoint verifier key file (PATH.pub) to verify with; repeatable.", valueName: "path"))
        var keyFiles: [String] = []

        func run() throws {
            var query = AuditQuery(actor: actor, tenant: tenant, action: action)
            for (flag, text, set) in [("--since", since, { (t: AuditTimestamp) in query.since = t }), ("--until", until, { query.until = $0 })] {
                guard let text else { continue }
                guard let time = AuditTimestamp(rfc3339: text) else { throw ValidationError("\(flag) must be RFC 3339, e.g. 2026-11-27T00:00:00Z") }
                set(time)
            }
            if let sink { return try querySink(sink, query) }
            let reader = try openAuditReader(global)
            do {
                for entry in try reader.scan(matching: query, limit: limit) { printEntry(entry, json: json) }
            } catch {
                throw fail(error.description, error.exitCode)
            }
        }

        /// What a sink stored, verified first (every hash, link, root and signature of the
        /// whole read-back, its end against the journal's): tampered rows are never printed as
        /// found. `--no-verify` prints them unverified and says so.
        private func querySink(_ sink: String, _ query: AuditQuery) throws {
            let readBack = try openSinkReadBack(global, sink: sink)
            defer { readBack.close() }
            if noVerify {
                printError("laforge: warning: --no-verify: the entries below were read from sink \(sink) and NOT verified (run `laforge verify chain --sink \(sink)`)")
                do { try readBack.forEachEntry(matching: query, limit: limit) { printEntry($0, json: json) } } catch {
                    throw failReadBack(error)
                }
                return
            }
            let config = try global.loadConfig()
            let extraKeys = try readVerifierKeyFiles(keyFiles)
            let keys: [TrustedVerifierKey]
            do { keys = try AuditReader.trustedVerifierKeys(config: config, commandLineKeys: extraKeys) } catch {
                throw fail("\(error.description); or pass --no-verify to read the sink unverified", error.exitCode)
            }
            let verifier = ChainVerifier(
                verifierKeys: keys.map(\.key),
                origin: config.audit.checkpoints.origin ?? AuditLog.defaultOrigin(chainID: config.audit.chainID), chainID: config.audit.chainID)
            do { try ChainSource.compareEnd(verifier, sink: sink, config: config) } catch { throw fail("\(error)", LaForgeExit.runtimeError) }
            let result: (entries: [JournalEntry], report: VerificationReport)
            do { result = try readBack.verifiedEntries(matching: query, limit: limit, verifier: verifier) } catch { throw failReadBack(error) }
            if let failure = result.report.failure {
                throw fail(
                    "sink \(sink) fails verification, so nothing is printed: \(failure) (`laforge verify chain --sink \(sink)` for the report; "
                        + "--no-verify reads it anyway, unverified)", LaForgeExit.verificationFailed)
            }
            for entry in result.entries { printEntry(entry, json: json) }
            let covered = result.report.lastCheckpointSize ?? 0
            let unsigned = result.entries.filter { $0.seq >= covered }.count
            printError(
                "laforge: verified sink \(sink): \(result.report.entries) entries, \(result.report.checkpoints) checkpoints, "
                    + "\(result.report.signaturesChecked) signatures"
                    + (unsigned > 0 ? "; \(unsigned) of the entries printed come after the last checkpoint (linked, not yet signed)" : ""))
            for warning in result.report.warnings { printError("laforge: note: \(warning)") }
        }
    }

    struct Prove: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print an RFC 6962 inclusion proof of an entry against the newest checkpoint (JSON).")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The entry's seq.") var seq: UInt64
        /// Every reading command takes --json; this one prints JSON with or without it.
        @Flag(help: "Print JSON (the output is JSON either way).") var json = false

        func run() throws {
            let reader = try openAuditReader(global)
            do { printJSON(try reader.prove(seq: seq).jsonValue()) } catch {
                throw fail(error.description, error.exitCode)
            }
        }
    }

    struct HashValue: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "hash-value",
            abstract: "Print the keyed HMAC a PII-hashed field holds for a known value, to search for it.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The value (e.g. an e-mail address).") var value: String

        func run() throws {
            let log = try openAuditLog(global)
            defer { log.journal.close() }
            do { print(try log.piiHash(of: value)) } catch { throw fail(error.description, error.exitCode) }
        }
    }
}

/// One line per entry: `seq  timestamp  user  action  target  outcome`, or the canonical JSON.
func printEntry(_ entry: JournalEntry, json: Bool) {
    if json {
        print(String(decoding: entry.payload, as: UTF8.self))
        return
    }
    guard let parsed = try? AuditEntry.parse(entry.payload) else {
        print("\(entry.seq)\t<unreadable entry>")
        return
    }
    let event = parsed.event
    let fields = [
        event["timestamp"]?.stringValue ?? "", event["actor"]?["user"]?.stringValue ?? "",
        event["action"]?.stringValue ?? "", event["target"]?.stringValue ?? "-", event["outcome"]?.stringValue ?? "",
    ]
    print("\(entry.seq)\t" + fields.joined(separator: "\t"))
}

/// Prints receipts as they become durable: `recorded seq N HASH` lines (a summary line past 20
/// events), or with --json-output one JSON array streamed element by element, so memory stays
/// flat however many events are recorded.
final class ReceiptPrinter {
    private let json: Bool
    private var printed = 0
    private var opened = false

    init(json: Bool) { self.json = json }

    func print(_ receipts: [JournalEntryReceipt]) {
        for receipt in receipts {
            if json {
                Swift.print(opened ? "," : "[", terminator: "")
                opened = true
                Swift.print(#"{"hash":"\#(receipt.hash.hexString)","seq":\#(receipt.seq)}"#, terminator: "")
            } else if printed < 20 {
                Swift.print("recorded seq \(receipt.seq) \(receipt.hash.hexString)")
            }
            printed += 1
        }
    }

    func finish(_ summary: NDJSONIngest.Summary?) {
        if json {
            Swift.print(opened ? "]" : "[]")
        } else if printed > 20, let summary, let first = summary.first, let last = summary.last {
            Swift.print("… recorded \(summary.count) events in all, seq \(first.seq)…\(last.seq)")
        }
    }
}
