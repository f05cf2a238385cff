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

/// SIEMWebhook's Splunk HEC format against an HEC look-alike with indexer acknowledgement: the
/// cursor moves only over acknowledged events, and events awaiting acknowledgement are polled,
/// never re-sent.
@Suite(.serialized) struct SplunkHECTests {
    @Test func theCursorAdvancesOnlyOverAcknowledgedEvents() throws {
        let token = UUID().uuidString
        let root = try AuditSandbox()
        let grantFile = root.root + "/grant-acks"
        let receiver = try ReceiverProcess("hec_receiver.py", ["--token", token, "--acks", "--grant-file", grantFile], in: root.root)
        defer { receiver.stop() }
        let setup = try SIEMSetup(sinkConfig: """
                      url: http://127.0.0.1:\(receiver.port)/services/collector/event
                      format: splunk_hec
                      max_events: 10
                      splunk: {token: "\(token)", acknowledgement: true, index: audit, sourcetype: "laforge:audit"}
            """)
        defer { setup.log.journal.close() }
        for seq in 0..<30 { try setup.log.emit(auditEvent("user\(seq)")) }
        let runtime = try setup.startRuntime()
        defer { runtime.close() }

        // Acks withheld: HEC received everything, yet nothing counts as delivered.
        let first = DeliveryEngine.deliverAll(log: setup.log, runtime: runtime, timeoutMilliseconds: 2_000)
        #expect(first["siem"] == false)
        let received = try receiver.requests()
        let posts = received.filter { $0["kind"]?.stringValue == "post" }
        #expect(posts.count == 3, "records awaiting acknowledgement must be polled, not re-sent: \(posts.count) posts")
        #expect(posts.allSatisfy { $0["status"]?.intValue == 200 })
        #expect(received.contains { $0["kind"]?.stringValue == "ack" && $0["granted"] == .bool(false) })
        #expect(setup.cursor?.nextSeq ?? 0 == 0)
        #expect(setup.captured.text.contains("waiting for HEC indexer acknowledgement"), "\(setup.captured.text)")

        // Acks granted: the next attempts poll, see them, and the cursor moves to the end.
        _ = FileManager.default.createFile(atPath: grantFile, contents: nil)
        let second = DeliveryEngine.deliverAll(log: setup.log, runtime: runtime, timeoutMilliseconds: 30_000)
        #expect(second["siem"] == true, "\(setup.captured.text)")
        #expect(setup.cursor?.nextSeq == 30)
        let all = try receiver.requests()
        #expect(all.filter { $0["kind"]?.stringValue == "post" }.count == 3)
        let indexed = all.filter { $0["kind"]?.stringValue == "indexed" }.flatMap { $0["events"]?.arrayValue ?? [] }
        #expect(indexed.compactMap { $0["event"]?["seq"]?.intValue } == Array(0..<30))
        let journal = try setup.journalHashes()
        for event in indexed {
            #expect(event["index"]?.stringValue == "audit")
            #expect(event["sourcetype"]?.stringValue == "laforge:audit")
            #expect((event["time"]?.numberValue ?? 0) > 1_600_000_000)
            #expect(event["event"]?["hash"]?.stringValue == journal[UInt64(event["event"]?["seq"]?.intValue ?? -1)])
        }
        #expect(!setup.captured.text.contains(token))
    }

    @Test func withoutAcknowledgementA200IsDelivered() throws {
        let token = UUID().uuidString
        let root = try AuditSandbox()
        let receiver = try ReceiverProcess("hec_receiver.py", ["--token", token], in: root.root)
        defer { receiver.stop() }
        let setup = try SIEMSetup(sinkConfig: """
                      url: http://127.0.0.1:\(receiver.port)
                      format: splunk_hec
                      splunk: {token: "\(token)"}
            """)
        defer { setup.log.journal.close() }
        for seq in 0..<12 { try setup.log.emit(auditEvent("user\(seq)")) }
        #expect(try setup.deliver(), "\(setup.captured.text)")
        let indexed = try receiver.requests().filter { $0["kind"]?.stringValue == "indexed" }.flatMap { $0["events"]?.arrayValue ?? [] }
        #expect(indexed.compactMap { $0["event"]?["seq"]?.intValue } == Array(0..<12))
    }

    /// A refused credential is the sink's fault, not a record's: ACCESS_DENIED, so nothing is
    /// dead-lettered and the host says an operator must act, naming the status, not the token.
    @Test func aWrongTokenIsRefusedAccessNamingTheStatusNotTheToken() throws {
        let root = try AuditSandbox()
        let receiver = try ReceiverProcess("hec_receiver.py", ["--token", "right-token"], in: root.root)
        defer { receiver.stop() }
        let setup = try SIEMSetup(sinkConfig: """
                      url: http://127.0.0.1:\(receiver.port)
                      format: splunk_hec
                      splunk: {token: "wrong-token-value"}
            """)
        defer { setup.log.journal.close() }
        try setup.log.emit(auditEvent("alice"))
        _ = try setup.deliver(within: 5)
        #expect(setup.deadLetters().isEmpty)
        #expect(setup.captured.text.contains("refuses access, an operator must act"), "\(setup.captured.text)")
        #expect(setup.captured.text.contains("HTTP 401"))
        #expect(setup.captured.text.contains("Invalid authorization"))
        #expect((setup.cursor?.nextSeq ?? 0) == 0)
        #expect(!setup.captured.text.contains("wrong-token-value"))
    }
}
