import ArgumentParser
import Foundation
import LaForgeHost

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify", abstract: "Verify the audit trail.", subcommands: [Chain.self])

    struct Chain: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute every hash, link, Merkle root and checkpoint signature of a chain.",
            discussion: """
                Verifies the journal (default), a FileSink file set (--file PATH: PATH.1, PATH.2, …, \
                PATH; a numbered file alone from the checkpoint it starts with), or a sink by name \
                (--sink: a FileSink's files, or what any other sink reads back from its storage, \
                e.g. PostgresAudit's table). Exit 0 when valid, 1 with the first bad seq and what is wrong.
                """)

        @OptionGroup var global: GlobalOptions
        @Option(help: ArgumentHelp("A FileSink file (and its rotated siblings).", valueName: "path")) var file: String?
        @Option(help: ArgumentHelp("A configured sink, read back.", valueName: "name")) var sink: String?
        @Option(name: .customLong("key"), help: ArgumentHelp("A checkpoint verifier key file (PATH.pub); repeatable.", valueName: "path"))
        var keyFiles: [String] = []
        @Flag(help: "Print the report as JSON.") var json = false
        @Flag(help: "Verify the snapshot chain (links, signatures, artifacts) instead of the audit chain.") var snapshots = false
        @Option(name: .customLong("artifact-root"), help: ArgumentHelp("Where relative snapshot artifact paths are re-hashed (default: the working directory).", valueName: "dir"))
        var artifactRoot: String?
        @Option(help: ArgumentHelp("Re-verify the journal, file sinks and snapshots every INTERVAL (500ms, 30s, 5m, 1h) until interrupted.", valueName: "interval"))
        var watch: String?
        @Flag(name: .customLong("fail-fast"), help: "With --watch: exit 1 at the first failing round.") var failFast = false
        @Flag(
            inversion: .prefixedNo,
            help: "Fail on entries no checkpoint covers yet and on a torn tail (default: on in production mode, off in development).")
        var strict: Bool?
        @Option(
            name: .customLong("state"),
            help: ArgumentHelp(
                "A file, kept outside the store, with what the last passing run verified: a store that now holds fewer entries or another history fails; updated when this run passes.",
                valueName: "path"))
        var statePath: String?
        @Flag(
            name: .customLong("from-checkpoint"),
            help: "With --file or --sink: the files may start at a checkpoint (older rotated files were pruned on purpose); by default a set must start at entry 0.")
        var fromCheckpoint = false
        @Flag(name: .customLong("against-journal"), help: "With --sink or --file: compare every entry with the journal's, and the sink's end with the host's delivery cursor.")
        var againstJournal = false

        func validate() throws {
            if file != nil && sink != nil { throw ValidationError("give --file or --sink, not both") }
            if againstJournal && file == nil && sink == nil { throw ValidationError("--against-journal compares a sink: give --sink NAME or --file PATH") }
            try validateSnapshotOptions()
        }

        func run() throws {
            let config = try global.loadConfig()
            if snapshots || watch != nil { return try runSnapshotsOrWatch(config) }
            let extraKeys = try readVerifierKeyFiles(keyFiles)
            // The keys the verdict rests on, reported with it.
            let trustedKeys: [TrustedVerifierKey]
            do { trustedKeys = try AuditReader.trustedVerifierKeys(config: config, commandLineKeys: extraKeys) } catch {
                throw fail(error.description, error.exitCode)
            }
            let verifier = ChainVerifier(
                verifierKeys: trustedKeys.map(\.key),
                origin: config.audit.checkpoints.origin ?? AuditLog.defaultOrigin(chainID: config.audit.chainID),
                chainID: config.audit.chainID)
            verifier.strict = strict ?? (config.mode == .production)
            if let statePath {
                do { verifier.known = try VerifiedState.load(path: statePath) } catch { throw fail(error.description, LaForgeExit.configError) }
            }
            if againstJournal {
                let journal: (leaves: JournalLeaves?, report: VerificationReport)
                do { journal = try ChainSource.verifiedJournalLeaves(config: config, verifierKeys: trustedKeys.map(\.key)) } catch {
                    throw fail("--against-journal: \(error)", LaForgeExit.runtimeError)
                }
                guard let leaves = journal.leaves else {
                    printReport(journal.report, what: "journal in \(config.stateDir) (the reference for --against-journal)", trustedKeys: trustedKeys)
                    throw LaForgeExit.verificationFailed
                }
                do { try ChainSource.compare(verifier, sink: sink ?? "", with: leaves, config: config) } catch {
                    throw fail("--against-journal: \(error)", LaForgeExit.runtimeError)
                }
                if sink == nil { (verifier.deliveredUpTo, verifier.deliveredCheckpointSize) = (nil, nil) }
            } else if let sink {
                // A sink is always held against the journal's end beside it: lagging is
                // reported, entries lost after delivery fail.
                do { try ChainSource.compareEnd(verifier, sink: sink, config: config) } catch {
                    throw fail("\(error)", LaForgeExit.runtimeError)
                }
            }
            let progress = ProgressBar(enabled: !json && isatty(2) == 1)
            let report: VerificationReport
            let what: String
            if let path = try filePath(config) {
                let files = ChainSource.fileSet(for: path)
                what = files.count == 1 ? path : "\(files.count) files (\(files.first!) … \(path))"
                // With rotated files beside it, a missing active file is a finding of the
                // verification (verifyFiles), not a mistyped path.
                guard files.count > 1 || FileManager.default.fileExists(atPath: path) else {
                    throw fail("\(path): no such file", LaForgeExit.runtimeError)
                }
                report = ChainSource.verifyFiles(files, verifier: verifier, fromCheckpoint: fromCheckpoint) {
                    progress.update($0, $1, unit: "bytes")
                }
            } else if let sink {
                // Any other sink is read back through its plugin (ABI 1.1 read_back).
                let readBack = try openSinkReadBack(global, sink: sink)
                defer { readBack.close() }
                what = "sink \(sink)"
                do {
                    report = try ChainSource.verifySink(readBack.sink, chainID: readBack.chainID, verifier: verifier)
                } catch {
                    throw failReadBack(error)
                }
            } else {
                what = "journal in \(config.stateDir)"
                // Read from the files, never opened for writing: verification changes nothing.
                do {
                    report = try ChainSource.verifyJournal(directory: ChainSource.journalDirectory(config), verifier: verifier) {
                        progress.update($0, $1, unit: "bytes")
                    }
                } catch {
                    progress.finish()
                    throw fail("cannot read the journal: \(error)", LaForgeExit.runtimeError)
                }
            }
            if report.isValid, let statePath {
                do { try VerifiedState(report: report, source: what).save(path: statePath) } catch {
                    throw fail(error.description, LaForgeExit.runtimeError)
                }
            }
            progress.finish()
            printReport(report, what: what, trustedKeys: trustedKeys)
            if !report.isValid { throw LaForgeExit.verificationFailed }
        }

        private func printReport(_ report: VerificationReport, what: String, trustedKeys: [TrustedVerifierKey]) {
            if json {
                var value = report.jsonValue()
                if case .object(var members) = value {
                    members["trusted_keys"] = .array(trustedKeys.map { $0.jsonValue() })
                    value = .object(members)
                }
                printJSON(value)
            } else if let failure = report.failure {
                printError("laforge: verify chain: \(what): FAILED: \(failure)")
                for trusted in trustedKeys { printError("trusted checkpoint key \(trusted.key) from \(trusted.source)") }
            } else {
                print(
                    "\(what): OK — \(report.entries) entr\(report.entries == 1 ? "y" : "ies")"
                        + (report.firstSeq.map { " (seq \($0)…\(report.lastSeq!))" } ?? "")
                        + ", \(report.checkpoints) checkpoint\(report.checkpoints == 1 ? "" : "s"), "
                        + "\(report.signaturesChecked) signature\(report.signaturesChecked == 1 ? "" : "s") verified"
                        + (report.lastCheckpointRoot.map { ", root \($0.hexString)" } ?? ""))
                for trusted in trustedKeys { print("trusted checkpoint key \(trusted.key) from \(trusted.source)") }
                for warning in report.warnings { print("warning: \(warning)") }
                if report.uncoveredEntries > 0 { print("note: run with --strict to fail on entries no checkpoint covers") }
            }
        }

        /// The file to verify: --file, or the `path` of a FileSink sink named by --sink (other
        /// sinks: nil, they are read back).
        private func filePath(_ config: LaForgeConfig) throws(ExitCode) -> String? {
            if let file { return file }
            guard let sink else { return nil }
            guard let instance = config.sinks.first(where: { $0.name == sink }) else {
                throw fail(
                    "no sink named \(sink) (configured: \(config.sinks.map(\.name).joined(separator: ", ")))",
                    LaForgeExit.configError)
            }
            guard instance.library.contains("FileSink"), let path = instance.configJSON["path"]?.stringValue else { return nil }
            return path
        }
    }
}

/// A one-line progress bar on standard error, only on a terminal.
final class ProgressBar {
    private let enabled: Bool
    private var lastDraw: UInt64 = 0
    private var drawn = false

    init(enabled: Bool) { self.enabled = enabled }

    func update(_ done: UInt64, _ total: UInt64, unit: String) {
        guard enabled, total > 0 else { return }
        let now = monotonicNanoseconds()
        guard ClockArithmetic.elapsed(since: lastDraw, now: now) > 100_000_000 || done == total else { return }
        lastDraw = now
        let fraction = min(1, Double(done) / Double(total))
        let width = 30
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        FileHandle.standardError.write(Data("\r[\(bar)] \(Int(fraction * 100))% \(done)/\(total) \(unit)".utf8))
        drawn = true
    }

    func finish() {
        if drawn { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
