import Foundation
import Testing
@testable import LaForgeHost

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
}
