import ArgumentParser
import Foundation
import LaForgeHost

/// `verify chain --snapshots` and `verify chain --watch INTERVAL [--fail-fast]`.
extension VerifyCommand.Chain {
    func validateSnapshotOptions() throws {
        if failFast && watch == nil { throw ValidationError("--fail-fast goes with --watch INTERVAL") }
        if let watch, ChainWatch.parseInterval(watch) == nil {
            throw ValidationError("--watch \(watch): give an interval of at least 10ms like 500ms, 30s, 5m or 1h")
        }
        if (snapshots || watch != nil) && (file != nil || sink != nil) {
            throw ValidationError("--snapshots and --watch verify the configured journal, sinks and snapshots: leave out --file and --sink")
        }
    }

    func runSnapshotsOrWatch(_ config: LaForgeConfig) throws {
        let extraKeys = try readVerifierKeys(keyFiles)
        let root = artifactRoot ?? FileManager.default.currentDirectoryPath
        if let watch {
            let chainWatch = ChainWatch(
                config: config, intervalNanoseconds: ChainWatch.parseInterval(watch)!, extraKeys: extraKeys, artifactRoot: root,
                logger: global.logger)
            let stop = StopSignal()
            let signals = SignalStop.install { stop.stop() }
            defer { withExtendedLifetime(signals) {} }
            let failed = chainWatch.run(failFast: failFast, stop: stop) { round in printRound(round) }
            if failed > 0 { throw LaForgeExit.verificationFailed }
            return
        }
        let report: SnapshotVerificationReport
        do {
            // Snapshot keys given with --key join the trusted ones.
            report = try SnapshotVerifier(config: config, extraKeys: extraKeys, artifactRoot: root).verify()
        } catch {
            throw fail(error.description, error.exitCode)
        }
        if json {
            printJSON(report.jsonValue())
        } else if report.isValid {
            print(
                "snapshots in \(config.stateDir): OK — \(report.snapshots) snapshot\(report.snapshots == 1 ? "" : "s"), "
                    + "\(report.signaturesChecked) signature\(report.signaturesChecked == 1 ? "" : "s") verified, "
                    + "\(report.artifactsChecked) artifact\(report.artifactsChecked == 1 ? "" : "s") re-hashed, "
                    + "\(report.auditEventsChecked) audit event\(report.auditEventsChecked == 1 ? "" : "s") matched"
                    + (report.newest.map { ", newest \($0.shortID)" } ?? ""))
        } else {
            printError("laforge: verify chain --snapshots: FAILED (\(report.problems.count) problem\(report.problems.count == 1 ? "" : "s")):")
            for problem in report.problems { printError("  - \(problem)") }
        }
        if !json { for warning in report.warnings { print("warning: \(warning)") } }
        if !report.isValid { throw LaForgeExit.verificationFailed }
    }

    private func printRound(_ round: ChainWatch.Round) {
        if json {
            printJSON(.object([
                "round": .number(Double(round.number)), "passed": .bool(round.passed),
                "audit_seq": round.auditSeq.map { .number(Double($0)) } ?? .null,
                "checks": .array(round.checks.map { check in
                    .object([
                        "what": .string(check.what), "detail": .string(check.detail),
                        "result": .string(check.passed == nil ? "skipped" : check.passed! ? "ok" : "failed"),
                    ])
                }),
            ]))
        } else {
            let summary = round.checks.map { "\($0.what) \($0.passed == nil ? "skipped" : $0.passed! ? "ok" : "FAILED")" }
            print("round \(round.number): \(round.passed ? "OK" : "FAILED") — \(summary.joined(separator: ", "))")
        }
        for check in round.checks where check.passed == false {
            printError("laforge: verify chain --watch: round \(round.number): \(check.what): \(check.detail)")
        }
        if let error = round.recordError { printError("laforge: warning: the round could not be recorded in the audit log: \(error)") }
        fflush(nil)  // one line per round, even into a pipe
    }
}
