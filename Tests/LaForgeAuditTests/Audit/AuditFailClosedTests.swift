import Foundation
import Testing
@testable import LaForgeTestSupport

@testable import LaForgeAudit
@testable import LaForgeCore
@testable import LaForgeGovernance
@testable import LaForgeIdentity
@testable import LaForgeJournal
@testable import LaForgePlugins
@testable import LaForgeSecrets

/// When the journal cannot persist, `emit` says so and records nothing (fail_closed, the
/// default), or, with `fail_closed: false`, logs that the events were NOT recorded and exits 0.
///
/// Tests run as root, which ignores permission bits, so the write failure comes from
/// RLIMIT_FSIZE: the child runs under `ulimit -f 8` (8 KiB) with SIGXFSZ ignored, so a write
/// past the limit returns EFBIG like a full disk.
@Suite struct AuditFailClosedTests {
    static let limitPrefix = #"trap "" XFSZ; ulimit -f 8;"#

    /// Three events recorded normally, then 40 large ones under the file size limit.
    func run(failClosed: Bool) throws -> (sandbox: AuditSandbox, before: [(seq: UInt64, hash: String)], limited: LaForgeChild, status: Int32?) {
        let sandbox = try AuditSandbox()
        try sandbox.writeConfig(audit: """
              journal:
                fail_closed: \(failClosed)
            """)
        let setup = try LaForgeChild(
            ["audit", "emit", "--stdin", "--json-output", "--config", sandbox.configPath],
            in: sandbox.root, tag: "setup", standardInput: true)
        setup.send((0..<3).map { auditEventLine(user: "before-\($0)") + "\n" }.joined())
        setup.closeInput()
        #expect(setup.wait() == 0, "\(setup.stderr)")
        let before = try parseReceipts(setup.stdout)
        #expect(before.map(\.seq) == [0, 1, 2])

        let padding = JSONValue.string(String(repeating: "x", count: 400))
        let limited = try LaForgeChild(
            ["audit", "emit", "--stdin", "--json-output", "--config", sandbox.configPath],
            in: sandbox.root, tag: "limited", standardInput: true, shell: Self.limitPrefix)
        limited.send((0..<40).map { auditEventLine(user: "limited-\($0)", data: ["pad": padding]) + "\n" }.joined())
        limited.closeInput()
        let status = limited.wait()
        return (sandbox, before, limited, status)
    }

    func expectJournalHoldsExactly(_ before: [(seq: UInt64, hash: String)], in sandbox: AuditSandbox) throws {
        let entries = try sandbox.journalEntries()
        #expect(entries.map(\.seq) == before.map(\.seq))
        #expect(entries.map(\.hash) == before.map(\.hash))
        let verified = try sandbox.verifyChain()
        #expect(verified.status == 0, "\(verified.result.output)")
        #expect(verified.report?["entries"]?.intValue == before.count)
    }

    @Test func failClosedEmitExitsTwoAndRecordsNothing() throws {
        let (sandbox, before, limited, status) = try run(failClosed: true)
        #expect(status == 2, "stdout: \(limited.stdout) stderr: \(limited.stderr)")
        #expect(limited.stderr.contains("nothing was recorded"), "\(limited.stderr)")
        #expect(limited.stderr.contains("File too large"), "\(limited.stderr)")
        #expect(!limited.stdout.contains("seq"), "a receipt was printed: \(limited.stdout)")
        try expectJournalHoldsExactly(before, in: sandbox)
        // Without the limit the journal takes events again, continuing the chain.
        let after = try sandbox.laforge(["audit", "emit", "--actor", "after", "--action", "schema.change", "--json-output"])
        #expect(after.status == 0, "\(after.output)")
        #expect(try parseReceipts(after.stdout).map(\.seq) == [3])
    }

    @Test func failOpenEmitExitsZeroAndSaysNothingWasRecorded() throws {
        let (sandbox, before, limited, status) = try run(failClosed: false)
        #expect(status == 0, "stderr: \(limited.stderr)")
        #expect(limited.stderr.contains("40 event(s) NOT recorded"), "\(limited.stderr)")
        #expect(try parseReceipts(limited.stdout).isEmpty, "\(limited.stdout)")
        try expectJournalHoldsExactly(before, in: sandbox)
    }
}
