import Foundation
import Testing
@testable import LaForgeAudit
@testable import LaForgeCore
@testable import LaForgeGovernance
@testable import LaForgeIdentity
@testable import LaForgeJournal
@testable import LaForgePlugins
@testable import LaForgeSecrets
@testable import LaForgeTestSupport

/// `audit emit --stdin` stops at the first bad line: what came before it is recorded (and
/// reported), that line and everything after it are not, and the error names the line.
@Suite struct AuditStdinTests {
    @Test func aBadLineStopsTheRunAfterRecordingWhatCameBefore() throws {
        let sandbox = try AuditSandbox()
        try sandbox.writeConfig(audit: "  checkpoints: { every_entries: 10 }\n")
        let child = try LaForgeChild(
            ["audit", "emit", "--stdin", "--json-output", "--config", sandbox.configPath, "--plugin-dir", CLIRunner.buildDirectory],
            in: sandbox.root, tag: "stdin", standardInput: true)
        let good = (0..<3).map { auditEventLine(user: "u\($0)") }
        // The last line has no newline: a pipe's last line still counts.
        child.send((good + [#"{"actor":{"user":"x"},"action":"Not An Action"}"#, auditEventLine(user: "after")]).joined(separator: "\n"))
        child.closeInput()
        #expect(child.wait() == 5)
        #expect(child.stderr.contains("line 4: action:"), "\(child.stderr)")
        #expect(child.stderr.contains("3 event(s) before the failure were recorded"), "\(child.stderr)")
        let users = try sandbox.journalEntries().compactMap { $0.entry["event"]?["actor"]?["user"]?.stringValue }
        #expect(users == ["u0", "u1", "u2"])
    }

    /// Delivery holds back only while the ingest is behind its input (and `ingest_defer_ms` at
    /// most): a stream that pauses has its events in the sink while the pipe is still open.
    @Test func aSinkFollowsAStreamingIngestWhileItsInputIsOpen() throws {
        let sandbox = try AuditSandbox()
        let sinkFile = sandbox.root + "/audit.ndjson"
        try sandbox.writeConfig(
            audit: "  sinks:\n    - name: file\n      library: libFileSink.so\n      config: { path: \(sinkFile) }\n")
        let child = try LaForgeChild(
            ["audit", "emit", "--stdin", "--config", sandbox.configPath, "--plugin-dir", CLIRunner.buildDirectory],
            in: sandbox.root, tag: "stream", standardInput: true)
        child.send((0..<2500).map { auditEventLine(user: "u\($0)") }.joined(separator: "\n") + "\n")
        var delivered = 0
        let deadline = Date().addingTimeInterval(20)
        while delivered < 2500 && Date() < deadline {
            usleep(50_000)
            let text = (try? String(contentsOfFile: sinkFile, encoding: .utf8)) ?? ""
            delivered = text.split(separator: "\n").filter { !$0.hasPrefix(#"{"checkpoint""#) }.count
        }
        #expect(delivered == 2500, "the sink had \(delivered) of 2500 entries while the input was still open")
        child.closeInput()
        #expect(child.wait() == 0, "\(child.stderr)")
    }
}
