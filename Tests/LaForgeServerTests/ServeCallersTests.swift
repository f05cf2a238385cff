import Foundation
import Testing
@testable import LaForgeCore
@testable import LaForgeTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Who may call what: the kernel names the caller (SO_PEERCRED), serve.clients decides.
@Suite struct ServeCallersTests {
    @Test func aCallerNotInServeClientsIsRefusedAndTheRefusalAudited() throws {
        let sandbox = try AuditSandbox()
        let others = """
              - name: billing
                uid: \(getuid() + 4242)
                allow: [emit, read]
            """
        let server = try RunningServer(sandbox: sandbox, serve: RunningServer.serveSection(clients: others))
        let refused = try server.request("POST", "/v1/audit/events", body: auditEventLine(user: "mallory"))
        #expect(refused.status == 403)
        #expect(refused.json?["error"]?["reason"]?.stringValue?.contains("not in serve.clients") == true, "\(refused.body)")
        #expect(try server.request("GET", "/v1/audit/entries").status == 403)
        // Probes stay open to whoever the socket's mode lets in.
        #expect(try server.request("GET", "/healthz").status == 200)
        let metrics = try server.request("GET", "/metrics")
        #expect(metrics.body.contains(#"laforge_serve_refusals_total{reason="unknown_caller"} 2"#), "\(metrics.body)")
        #expect(server.stop() == 0)

        let events = try sandbox.journalEntries().map { $0.entry["event"] }
        #expect(events.count == 2)
        #expect(events.allSatisfy { $0?["action"]?.stringValue == "serve.refuse" && $0?["outcome"]?.stringValue == "denied" })
        #expect(events.first??["actor"]?["claims"]?["uid"]?.intValue == Int(getuid()))
        #expect(events.first??["target"]?.stringValue == "POST /v1/audit/events")
    }

    @Test func aClientIsHeldToItsAllowList() throws {
        let sandbox = try AuditSandbox()
        let emitOnly = """
              - name: emitter
                uid: \(getuid())
                allow: [emit]
            """
        let server = try RunningServer(sandbox: sandbox, serve: RunningServer.serveSection(clients: emitOnly))
        #expect(try server.request("POST", "/v1/audit/events", body: auditEventLine(user: "alice")).status == 200)
        let read = try server.request("GET", "/v1/audit/entries")
        #expect(read.status == 403)
        #expect(read.json?["error"]?["reason"]?.stringValue == "client emitter is not allowed read (serve.clients allow)")
        let authorize = try server.request("POST", "/v1/authorize", body: #"{"principal":{"subject":"x"},"action":"a","resource":"r"}"#)
        #expect(authorize.status == 403)
        #expect(server.stop() == 0)
    }

    @Test func sighupReloadsServeClients() throws {
        let sandbox = try AuditSandbox()
        let nobody = """
              - name: someone-else
                uid: \(getuid() + 4242)
                allow: [emit]
            """
        let server = try RunningServer(sandbox: sandbox, serve: RunningServer.serveSection(clients: nobody))
        #expect(try server.request("POST", "/v1/audit/events", body: auditEventLine(user: "alice")).status == 403)
        let allowed = RunningServer.serveSection().replacingOccurrences(of: "SOCKET", with: server.socketPath)
        try sandbox.writeConfig(audit: "  journal:\n    fsync: group\n" + allowed)
        kill(server.child.process.processIdentifier, SIGHUP)
        #expect(eventually(within: 20) { server.child.stderr.contains("reloaded serve.clients") })
        #expect(try server.request("POST", "/v1/audit/events", body: auditEventLine(user: "alice")).status == 200)
        #expect(server.stop() == 0)
    }

    @Test func configurationErrorsNameTheFieldAndLine() throws {
        let sandbox = try AuditSandbox()
        try sandbox.writeConfig(audit: "  journal:\n    fsync: group\nserve:\n  clients:\n    - name: x\n      allow: [emit]\n")
        let missingIDs = try sandbox.laforge(["serve"])
        #expect(missingIDs.status == 3)
        #expect(missingIDs.stderr.contains("laforge.yaml:9:7: serve.clients[0]: a client needs \"uid\" or \"gid\""), "\(missingIDs.stderr)")
        try sandbox.writeConfig(audit: "  journal:\n    fsync: group\nserve:\n  clients:\n    - name: x\n      uid: 1\n      allow: [emitt]\n")
        let typo = try sandbox.laforge(["serve"])
        #expect(typo.status == 3)
        #expect(typo.stderr.contains("serve.clients[0].allow[0]: expected one of emit, read, authorize, snapshots, envelope, got \"emitt\"; did you mean emit?"), "\(typo.stderr)")
        try sandbox.writeConfig(audit: "  journal:\n    fsync: group\nserve:\n  max_inflight: 3\n")
        let unknown = try sandbox.laforge(["serve"])
        #expect(unknown.status == 3)
        #expect(unknown.stderr.contains("serve.max_inflight"), "\(unknown.stderr)")
    }
}
