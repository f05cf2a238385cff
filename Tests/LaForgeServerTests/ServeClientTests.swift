import Foundation
import LaForgeClient
import Testing
@testable import LaForgeCore
@testable import LaForgeTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// The Swift client library and `laforge status` against the running server.
@Suite struct ServeClientTests {
    @Test func theSwiftClientEmitsAuthorizesAndReportsRefusals() throws {
        let sandbox = try AuditSandbox()
        let server = try RunningServer(sandbox: sandbox, serve: ServeRoutesTests.identity + RunningServer.serveSection())
        let client = try LaForgeClient(socketPath: server.socketPath)
        let one = try client.emit(["actor": ["user": "alice"], "action": "schema.change"])
        #expect(one.seq == 0)
        let many = try client.emit([["actor": ["user": "bob"], "action": "rbac.grant"], ["actor": ["user": "carol"], "action": "rbac.grant"]])
        #expect(many.map(\.seq) == [1, 2])
        #expect(try sandbox.journalEntries().map(\.hash) == [one.hash] + many.map(\.hash))

        let decision = try client.authorize(subject: "u1", roles: ["auditors"], tenant: "acme", action: "audit.read", resource: "tenant/acme/audit")
        #expect(decision.allowed)
        #expect(try !client.authorize(subject: "u1", roles: [], action: "audit.read", resource: "tenant/acme/audit").allowed)

        do {
            _ = try client.emit([["actor": ["user": "dave"], "action": "schema.change"], ["actor": ["user": "erin"]]])
            Issue.record("an event without action was accepted")
        } catch {
            #expect(error.status == 400)
            #expect(error.line == 2)
            #expect(error.field == "action")
        }
        let ready = try client.readiness()
        #expect(ready["status"] as? String == "ready")
        #expect(server.stop() == 0)

        do {
            _ = try client.emit(["actor": ["user": "late"], "action": "schema.change"])
            Issue.record("a stopped server answered")
        } catch {
            #expect(error.status == 0)
            #expect(error.reason.contains("cannot reach laforge serve"))
        }
    }

    @Test func statusReadsTheRunningServerThenTheStateDirectory() throws {
        let sandbox = try AuditSandbox()
        let sinkFile = sandbox.root + "/sink/audit.ndjson"
        let audit = "  journal:\n    fsync: group\n  sinks:\n    - name: file\n      library: libFileSink.so\n      config:\n        path: \(sinkFile)\n"
        let server = try RunningServer(sandbox: sandbox, audit: audit)
        for user in ["a", "b", "c"] {
            #expect(try server.request("POST", "/v1/audit/events", body: auditEventLine(user: user)).status == 200)
        }
        #expect(try eventually(within: 30) {
            let status = try sandbox.laforge(["status", "--json"])
            let parsed = try JSONParser.parse(Array(status.stdout.utf8))
            return parsed["source"]?.stringValue == "server" && parsed["sinks"]?[0]?["lag_entries"]?.intValue == 0
                && parsed["sinks"]?[0]?["delivered"]?.intValue ?? 0 >= 3
        })
        #expect(server.stop() == 0)

        let offline = try sandbox.laforge(["status", "--json"])
        #expect(offline.status == 0, "\(offline.output)")
        let parsed = try JSONParser.parse(Array(offline.stdout.utf8))
        #expect(parsed["source"]?.stringValue == "state_directory")
        #expect(parsed["journal_entries"]?.intValue == 3)
        #expect(parsed["newest_covered"]?.boolValue == true)
        #expect(parsed["sinks"]?[0]?["sink"]?.stringValue == "file")
        #expect(parsed["sinks"]?[0]?["lag_entries"]?.intValue == 0)
        let text = try sandbox.laforge(["status"])
        #expect(text.stdout.contains("no server running: read from the state directory"))
        #expect(text.stdout.contains("journal: 3 entries; checkpoint: size 3"))
        #expect(text.stdout.contains("sink file: lag 0 entries"), "\(text.stdout)")
    }
}
