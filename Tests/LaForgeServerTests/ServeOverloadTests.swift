import Foundation
import Testing
@testable import LaForgeCore
@testable import LaForgeTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Overload and faults: 503 with Retry-After and the cause, never an acknowledgement of what is
/// not on disk.
@Suite struct ServeOverloadTests {
    @Test func pastMaxInFlightTheAnswerIs503WithRetryAfter() throws {
        let sandbox = try AuditSandbox()
        let server = try RunningServer(sandbox: sandbox, serve: RunningServer.serveSection(extra: "  max_in_flight: 1\n"))
        // One request holds the only slot while its body trickles in (64 KiB at 8 KiB/s).
        let body = sandbox.root + "/slow.ndjson"
        try String(repeating: auditEventLine(user: "slow") + "\n", count: 64 * 1024 / 60).write(toFile: body, atomically: true, encoding: .utf8)
        let slow = Process()
        slow.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        slow.arguments = ["-sS", "--unix-socket", server.socketPath, "--limit-rate", "8k", "-H", "Content-Type: application/x-ndjson",
                          "--data-binary", "@" + body, "-o", "/dev/null", "http://localhost/v1/audit/events"]
        try slow.run()
        var busy: RunningServer.Answer?
        _ = eventually(within: 8) {
            guard let answer = try? server.request("POST", "/v1/audit/events", body: auditEventLine(user: "fast")) else { return false }
            if answer.status == 503 { busy = answer }
            return answer.status == 503
        }
        let refused = try #require(busy)
        #expect(refused.headers.lowercased().contains("retry-after: 1"), "\(refused.headers)")
        #expect(refused.json?["error"]?["reason"]?.stringValue?.contains("serve.max_in_flight") == true)
        // Probes are not counted against the limit.
        #expect(try server.request("GET", "/healthz").status == 200)
        slow.waitUntilExit()
        #expect(server.stop() == 0)
    }

    @Test func aJournalThatCannotPersistAnswers503AndNothingAcknowledgedIsMissing() throws {
        let sandbox = try AuditSandbox()
        // Files may grow to 256 KiB: the journal's segment fills up after a few hundred entries.
        let server = try RunningServer(sandbox: sandbox, tag: "full", shell: "trap '' XFSZ; ulimit -f 256;")
        var acknowledged: [(seq: Int, hash: String)] = []
        var unavailable: RunningServer.Answer?
        for index in 0..<5000 where unavailable == nil {
            let answer = try server.request("POST", "/v1/audit/events", body: auditEventLine(user: "user-\(index)", data: ["pad": .string(String(repeating: "p", count: 400))]))
            switch answer.status {
            case 200:
                for entry in answer.json?["entries"]?.arrayValue ?? [] {
                    acknowledged.append((entry["seq"]?.intValue ?? -1, entry["hash"]?.stringValue ?? ""))
                }
            case 503: unavailable = answer
            default: Issue.record("unexpected \(answer.status): \(answer.body)")
            }
        }
        let full = try #require(unavailable, "the journal never filled up")
        #expect(full.headers.lowercased().contains("retry-after:"))
        #expect(full.json?["error"]?["reason"]?.stringValue?.hasPrefix("not recorded:") == true, "\(full.body)")
        #expect(!acknowledged.isEmpty)
        _ = server.stop(signal: SIGKILL)

        let restarted = try RunningServer(restarting: sandbox, tag: "after-full")
        #expect(restarted.stop() == 0)
        let stored = Dictionary(try sandbox.journalEntries().map { (Int($0.seq), $0.hash) }, uniquingKeysWith: { first, _ in first })
        #expect(acknowledged.allSatisfy { stored[$0.seq] == $0.hash })
        #expect(try sandbox.verifyChain().status == 0)
    }
}
