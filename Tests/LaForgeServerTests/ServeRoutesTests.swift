import Foundation
import Testing
@testable import LaForgeCore
@testable import LaForgeTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Each route of `laforge serve`, called with curl over the Unix socket of the real server.
@Suite struct ServeRoutesTests {
    static let identity = """
        identity:
          roles:
            - name: auditors
              allow:
                - actions: [audit.read]
                  resources: ["tenant/{tenant}/audit"]

        """

    @Test func emitReadProveAndCheckpointOverTheSocket() throws {
        let sandbox = try AuditSandbox()
        let server = try RunningServer(sandbox: sandbox, serve: Self.identity + RunningServer.serveSection())

        let one = try server.request("POST", "/v1/audit/events", body: auditEventLine(user: "alice", action: "schema.change"))
        #expect(one.status == 200, "\(one.body)")
        let first = try #require(one.json?["entries"]?.arrayValue?.first)
        #expect(first["seq"]?.intValue == 0)
        #expect(first["hash"]?.stringValue?.count == 64)

        let lines = ["bob", "carol", "dave"].map { auditEventLine(user: $0, action: "rbac.grant") }.joined(separator: "\n") + "\n"
        let many = try server.request("POST", "/v1/audit/events", body: lines, contentType: "application/x-ndjson")
        #expect(many.status == 200, "\(many.body)")
        #expect(many.json?["entries"]?.arrayValue?.compactMap { $0["seq"]?.intValue } == [1, 2, 3])

        let proven = try server.request("POST", "/v1/audit/events?wait=checkpoint", body: auditEventLine(user: "erin"))
        #expect(proven.status == 200, "\(proven.body)")
        let proof = try #require(proven.json?["entries"]?.arrayValue?.first?["proof"])
        #expect(proof["tree_size"]?.intValue == 5)
        #expect(proof["checkpoint"]?.stringValue?.contains("laforge/") == true)

        // Receipts are the journal's: the CLI reads the same entries beside the running server.
        let journal = try sandbox.journalEntries()
        #expect(journal.count == 5)
        #expect(journal[0].hash == first["hash"]?.stringValue)

        let page = try server.request("GET", "/v1/audit/entries?limit=2")
        #expect(page.status == 200, "\(page.body)")
        #expect(page.json?["entries"]?.arrayValue?.count == 2)
        let cursor = try #require(page.json?["next_cursor"]?.stringValue)
        let next = try server.request("GET", "/v1/audit/entries?limit=2&cursor=\(cursor)")
        #expect(next.json?["entries"]?.arrayValue?.compactMap { $0["seq"]?.intValue } == [2, 3])
        let filtered = try server.request("GET", "/v1/audit/entries?action=rbac.*")
        #expect(filtered.json?["entries"]?.arrayValue?.compactMap { $0["entry"]?["event"]?["actor"]?["user"]?.stringValue } == ["bob", "carol", "dave"])
        #expect(filtered.json?["next_cursor"] == nil)
        let badTime = try server.request("GET", "/v1/audit/entries?since=yesterday")
        #expect(badTime.status == 400)
        #expect(badTime.json?["error"]?["field"]?.stringValue == "since")

        let entryProof = try server.request("GET", "/v1/audit/entries/0/proof")
        #expect(entryProof.status == 200, "\(entryProof.body)")
        #expect(entryProof.json?["leaf_hash"]?.stringValue == first["hash"]?.stringValue)
        #expect(try server.request("GET", "/v1/audit/entries/99/proof").status == 404)

        let checkpoint = try server.request("GET", "/v1/audit/checkpoint")
        #expect(checkpoint.status == 200)
        #expect(checkpoint.json?["size"]?.intValue == 5)
        let consistency = try server.request("GET", "/v1/audit/consistency?from=2&to=5")
        #expect(consistency.status == 200, "\(consistency.body)")
        #expect(consistency.json?["proof"]?.arrayValue?.isEmpty == false)
        #expect(try server.request("GET", "/v1/audit/consistency?from=5&to=2").status == 400)

        let allowed = try server.request("POST", "/v1/authorize", body: #"{"principal":{"subject":"u1","roles":["auditors"],"tenant":"acme"},"action":"audit.read","resource":"tenant/acme/audit"}"#)
        #expect(allowed.status == 200, "\(allowed.body)")
        #expect(allowed.json?["allowed"]?.boolValue == true)
        let denied = try server.request("POST", "/v1/authorize", body: #"{"principal":{"subject":"u1","roles":["auditors"],"tenant":"acme"},"action":"audit.read","resource":"tenant/other/audit"}"#)
        #expect(denied.json?["allowed"]?.boolValue == false)
        #expect(try server.request("POST", "/v1/authorize", body: #"{"action":"audit.read"}"#).json?["error"]?["field"]?.stringValue == "resource")

        let health = try server.request("GET", "/healthz")
        #expect(health.status == 200)
        let ready = try server.request("GET", "/readyz")
        #expect(ready.status == 200)
        #expect(ready.json?["status"]?.stringValue == "ready")
        #expect(try server.request("GET", "/v1/nothing").status == 404)

        #expect(server.stop() == 0, "\(server.child.stderr)")
        // The denial went into the trail, as `laforge auth check` records it.
        let actions = try sandbox.journalEntries().compactMap { $0.entry["event"]?["action"]?.stringValue }
        #expect(actions.contains("auth.deny"))
        #expect(try sandbox.verifyChain().status == 0)
    }

    @Test func badInputIsRefusedNamingTheLineAndField() throws {
        let sandbox = try AuditSandbox()
        let server = try RunningServer(sandbox: sandbox, serve: RunningServer.serveSection(extra: "  max_body_bytes: 2048\n"))

        let body = auditEventLine(user: "alice") + "\n" + #"{"actor":{"user":"bob"}}"# + "\n"
        let missing = try server.request("POST", "/v1/audit/events", body: body, contentType: "application/x-ndjson")
        #expect(missing.status == 400, "\(missing.body)")
        #expect(missing.json?["error"]?["line"]?.intValue == 2)
        #expect(missing.json?["error"]?["field"]?.stringValue == "action")

        let broken = try server.request("POST", "/v1/audit/events", body: #"{"actor": "#)
        #expect(broken.status == 400)
        #expect(broken.json?["error"]?["reason"]?.stringValue?.contains("not valid JSON") == true)

        let big = try server.request("POST", "/v1/audit/events", body: auditEventLine(user: "alice", data: ["blob": .string(String(repeating: "x", count: 4096))]))
        #expect(big.status == 413, "\(big.body)")

        let badWait = try server.request("POST", "/v1/audit/events?wait=forever", body: auditEventLine(user: "alice"))
        #expect(badWait.status == 400)
        #expect(badWait.json?["error"]?["field"]?.stringValue == "wait")

        // All or nothing: not one event of the refused requests was recorded.
        #expect(server.stop() == 0)
        #expect(try sandbox.journalEntries().isEmpty)
    }

    @Test func metricsAreValidPrometheusText() throws {
        let sandbox = try AuditSandbox()
        let server = try RunningServer(sandbox: sandbox)
        for user in ["a", "b", "c"] {
            #expect(try server.request("POST", "/v1/audit/events", body: auditEventLine(user: user)).status == 200)
        }
        let metrics = try server.request("GET", "/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.body.contains(#"laforge_serve_requests_total{method="POST",route="/v1/audit/events",status="200"} 3"#), "\(metrics.body)")
        #expect(metrics.body.contains("laforge_journal_commit_seconds_bucket"))
        #expect(metrics.body.contains("laforge_audit_events_total 3"))
        let file = sandbox.root + "/metrics.txt"
        try metrics.body.write(toFile: file, atomically: true, encoding: .utf8)
        let check = try CLIRunner.runShell("promtool check metrics < \(file)")
        #expect(check.status == 0, "promtool: \(check.output)")
        _ = server.stop()
    }
}
