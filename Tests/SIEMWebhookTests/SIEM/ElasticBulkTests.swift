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

/// SIEMWebhook's Elastic `_bulk` format against a `_bulk` look-alike with partial item failures:
/// every item is checked, 409 counts as already stored, the cursor moves only over what the
/// index holds, and only the record the index refuses for good is dead-lettered.
@Suite(.serialized) struct ElasticBulkTests {
    @Test func partialItemFailuresAdvanceTheCursorOnlyOverStoredDocuments() throws {
        let root = try AuditSandbox()
        let unblock = root.root + "/unblock"
        let receiver = try ReceiverProcess(
            "bulk_receiver.py",
            ["--reject-user", "mallory", "--throttle-seqs", "3,13,44", "--block-seq", "25", "--unblock-file", unblock,
             "--lose-answer-every", "4"], in: root.root)
        defer { receiver.stop() }
        let setup = try SIEMSetup(sinkConfig: """
                      url: http://127.0.0.1:\(receiver.port)/
                      format: elastic_bulk
                      max_events: 10
                      elastic: {index: laforge-audit-test}
            """, batchEntries: 40)
        defer { setup.log.journal.close() }
        for seq in 0..<60 { try setup.log.emit(auditEvent(seq == 33 ? "mallory" : "user\(seq)")) }
        let runtime = try setup.startRuntime()
        defer { runtime.close() }

        // Item 25 answers 503 until unblocked: the cursor stops right before it, even though
        // the index already holds documents after it (from the same requests).
        let blocked = DeliveryEngine.deliverAll(log: setup.log, runtime: runtime, timeoutMilliseconds: 3_000)
        #expect(blocked["siem"] == false)
        #expect(setup.cursor?.nextSeq == 25, "\(setup.captured.text.suffix(2000))")
        let storedEarly = try receiver.requests().filter { $0["kind"]?.stringValue == "stored" }.compactMap { $0["doc"]?["seq"]?.intValue }
        #expect(storedEarly.contains { $0 > 25 })

        _ = FileManager.default.createFile(atPath: unblock, contents: nil)
        let done = DeliveryEngine.deliverAll(log: setup.log, runtime: runtime, timeoutMilliseconds: 60_000)
        #expect(done["siem"] == true, "\(setup.captured.text.suffix(2000))")

        let requests = try receiver.requests()
        let journal = try setup.journalHashes()
        let stored = requests.filter { $0["kind"]?.stringValue == "stored" }
        // Each document stored once, under _id = its entry hash, in the configured index.
        let ids = stored.compactMap { $0["id"]?.stringValue }
        #expect(Set(ids).count == ids.count)
        for document in stored {
            let seq = UInt64(document["doc"]?["seq"]?.intValue ?? -1)
            #expect(document["id"]?.stringValue == journal[seq])
            #expect(document["index"]?.stringValue == "laforge-audit-test")
        }
        let storedSeqs = Set(stored.compactMap { $0["doc"]?["seq"]?.intValue })
        #expect(storedSeqs == Set(journal.keys.map { Int($0) }).subtracting([33]))
        // Re-sent documents came back 409 and counted as stored; throttled ones were retried.
        let itemStatuses = requests.filter { $0["kind"]?.stringValue == "bulk" }.flatMap { $0["items"]?.arrayValue ?? [] }
            .compactMap { $0["status"]?.intValue }
        #expect(itemStatuses.contains(409))
        #expect(itemStatuses.contains(429))
        #expect(setup.deadLetters().compactMap { $0["seq"]?.intValue } == [33])
        #expect(setup.deadLetters().first?["error"]?.stringValue?.contains("mapper_parsing_exception") == true)
        #expect(setup.cursor?.nextSeq == UInt64(journal.count))
    }
}
