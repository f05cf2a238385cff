import Foundation
import LaForgeAudit
import LaForgeCore
import LaForgePlugins
import Logging

/// `laforge verify chain --watch`: re-verifies, on a schedule, the journal, every sink whose
/// storage can be read back (FileSink files), and the snapshot chain with its artifacts, and
/// records each round as an `audit.verify` event (outcome `success` or `failure`), so the audit
/// trail itself shows when verification last passed and when it first failed.
public final class ChainWatch: @unchecked Sendable {
    public let config: LaForgeConfig
    public let interval: UInt64
    public let extraKeys: [Ed25519VerifierKey]
    public let artifactRoot: String
    public let actor: AuditActor
    public let logger: Logger

    /// One verification of one thing in a round.
    public struct Check: Sendable {
        public var what: String
        /// nil: skipped (cannot be read back by this version).
        public var passed: Bool?
        public var detail: String
    }

    public struct Round: Sendable {
        public var number: Int
        public var checks: [Check]
        /// The `audit.verify` entry, when it could be recorded.
        public var auditSeq: UInt64?
        public var recordError: String?
        public var passed: Bool { checks.allSatisfy { $0.passed != false } }
    }

    public init(
        config: LaForgeConfig, intervalNanoseconds: UInt64, extraKeys: [Ed25519VerifierKey] = [],
        artifactRoot: String = FileManager.default.currentDirectoryPath, actor: AuditActor = AuditActor(user: "laforge"),
        logger: Logger = .host
    ) {
        self.config = config
        self.interval = intervalNanoseconds
        self.extraKeys = extraKeys
        self.artifactRoot = artifactRoot
        self.actor = actor
        self.logger = logger
    }

    /// `500ms`, `30s`, `5m`, `1h` (a bare number is seconds), in nanoseconds; nil when malformed
    /// or under 10 ms.
    public static func parseInterval(_ text: String) -> UInt64? {
        let units: [(String, Double)] = [("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3600e9)]
        var number = text
        var scale = 1e9
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            number = String(text.dropLast(suffix.count))
            scale = factor
            break
        }
        guard let value = Double(number), value.isFinite, value * scale >= 1e7, value * scale < 1e18 else { return nil }
        return UInt64(value * scale)
    }

    /// Verifies everything once and records the round.
    public func round(_ number: Int) -> Round {
        let (journalCheck, leaves) = verifyJournal()
        var checks = [journalCheck]
        checks += verifySinks(against: leaves)
        checks.append(verifySnapshots())
        var round = Round(number: number, checks: checks)
        var results: [String: JSONValue] = [:]
        for check in checks {
            results[check.what] = .string(check.passed == nil ? "skipped" : check.passed! ? "ok" : "FAILED: " + check.detail)
        }
        let event = AuditEvent(
            actor: actor, action: "audit.verify", outcome: round.passed ? .success : .failure, target: "chain",
            data: ["round": .number(Double(number)), "checks": .object(results)])
        do {
            round.auditSeq = try SnapshotAuditTrail.record([event], config: config, logger: logger).receipts.first?.seq
        } catch {
            round.recordError = error.message
        }
        return round
    }

    /// Runs rounds every `interval` until `stop` is set or, with `failFast`, a round fails.
    /// Returns the number of failed rounds.
    public func run(failFast: Bool, stop: StopSignal, onRound: (Round) -> Void) -> Int {
        var failed = 0
        var number = 1
        while !stop.isStopped {
            let started = monotonicNanoseconds()
            let result = round(number)
            onRound(result)
            if !result.passed {
                failed += 1
                if failFast { break }
            }
            number += 1
            let deadline = started + interval
            while !stop.isStopped, monotonicNanoseconds() < deadline { usleep(10_000) }
        }
        return failed
    }

    private func chainVerifier() throws(AuditLogError) -> ChainVerifier {
        ChainVerifier(
            verifierKeys: try AuditReader.verifierKeys(config: config) + extraKeys,
            origin: config.audit.checkpoints.origin ?? AuditLog.defaultOrigin(chainID: config.audit.chainID),
            chainID: config.audit.chainID)
    }

    /// The journal, read from its files (never opened for writing), and its leaf hashes for the
    /// sinks to be compared with.
    private func verifyJournal() -> (Check, JournalLeaves?) {
        let what = "journal"
        do {
            let keys = try AuditReader.verifierKeys(config: config) + extraKeys
            let (leaves, report) = try ChainSource.verifiedJournalLeaves(config: config, verifierKeys: keys)
            return (Check(what: what, passed: report.isValid, detail: report.failure.map { "\($0)" } ?? "\(report.entries) entries"), leaves)
        } catch let error as AuditLogError {
            return (Check(what: what, passed: false, detail: error.message), nil)
        } catch {
            return (Check(what: what, passed: false, detail: "cannot read the journal: \(error)"), nil)
        }
    }

    /// Each FileSink's files, compared with the journal when it verified: a sink that lost
    /// delivered entries or holds entries the journal does not fails; one behind is reported.
    private func verifySinks(against leaves: JournalLeaves?) -> [Check] {
        config.sinks.map { sink in
            let what = "sink:\(sink.name)"
            guard sink.library.contains("FileSink"), let path = sink.configJSON["path"]?.stringValue else {
                return Check(what: what, passed: nil, detail: "\(sink.library) cannot be read back for verification here")
            }
            let files = ChainSource.fileSet(for: path)
            guard files.allSatisfy({ FileManager.default.fileExists(atPath: $0) }) else {
                return Check(what: what, passed: nil, detail: "\(path) does not exist yet")
            }
            do {
                let verifier = try chainVerifier()
                if let leaves { try ChainSource.compare(verifier, sink: sink.name, with: leaves, config: config) }
                let report = ChainSource.verifyFiles(files, verifier: verifier)
                let behind = report.behindJournal.map { $0 > 0 ? ", \($0) behind the journal" : "" } ?? ""
                return Check(
                    what: what, passed: report.isValid, detail: report.failure.map { "\($0)" } ?? "\(report.entries) entries\(behind)")
            } catch let error as AuditLogError {
                return Check(what: what, passed: false, detail: error.message)
            } catch {
                return Check(what: what, passed: false, detail: "\(error)")
            }
        }
    }

    private func verifySnapshots() -> Check {
        do {
            let report = try SnapshotVerifier(config: config, extraKeys: [], artifactRoot: artifactRoot).verify()
            return Check(
                what: "snapshots", passed: report.isValid,
                detail: report.problems.map(\.description).joined(separator: "; ").ifEmpty("\(report.snapshots) snapshots"))
        } catch {
            return Check(what: "snapshots", passed: false, detail: error.message)
        }
    }
}

extension String {
    fileprivate func ifEmpty(_ replacement: String) -> String { isEmpty ? replacement : self }
}
