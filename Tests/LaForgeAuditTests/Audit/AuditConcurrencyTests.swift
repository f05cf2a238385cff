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

/// Eight `laforge audit emit --stdin` processes append to one state directory at once: the
/// journal's file lock serializes them into one chain, each process's group of events stays
/// contiguous, and the FileSink (fed by whichever process holds the delivery lock) ends up with
/// the same chain.
@Suite struct AuditConcurrencyTests {
    @Test func eightProcessesAppendOneValidChain() throws {
        let sandbox = try AuditSandbox()
        let sinkFile = sandbox.root + "/sink/audit.ndjson"
        try sandbox.writeConfig(audit: """
              checkpoints:
                every_entries: 20
                every_ms: 0
              sinks:
                - name: file
                  library: libFileSink.so
                  config:
                    path: \(sinkFile)
            """)
        // A fresh state directory: the eight processes also race to generate the signing key
        // (development mode), and must all end up signing with the one that won.

        let processes = 8
        let eventsPerProcess = 25
        var children: [LaForgeChild] = []
        for process in 0..<processes {
            children.append(
                try LaForgeChild(
                    [
                        "audit", "emit", "--stdin", "--json-output",
                        "--config", sandbox.configPath, "--plugin-dir", CLIRunner.buildDirectory,
                    ], in: sandbox.root, tag: "p\(process)", standardInput: true))
        }
        for (process, child) in children.enumerated() {
            let lines = (0..<eventsPerProcess).map { auditEventLine(user: "p\(process)", data: ["n": .number(Double($0))]) }
            child.send(lines.joined(separator: "\n") + "\n")
            child.closeInput()
        }
        var allSeqs: [UInt64] = []
        for (process, child) in children.enumerated() {
            let status = child.wait()
            #expect(status == 0, "process \(process): \(child.stderr)")
            let receipts = try parseReceipts(child.stdout)
            #expect(receipts.count == eventsPerProcess)
            // One --stdin group is one journal append: its seqs are contiguous.
            if let firstSeq = receipts.first?.seq {
                #expect(receipts.map(\.seq) == Array(firstSeq..<firstSeq + UInt64(eventsPerProcess)))
            }
            allSeqs += receipts.map(\.seq)
        }
        let total = processes * eventsPerProcess
        #expect(allSeqs.sorted() == Array(0..<UInt64(total)))

        let entries = try sandbox.journalEntries()
        #expect(entries.map(\.seq) == Array(0..<UInt64(total)))
        // Each process's events are in the journal in the order it sent them.
        for process in 0..<processes {
            let numbers = entries.filter { $0.entry["event"]?["actor"]?["user"]?.stringValue == "p\(process)" }
                .compactMap { $0.entry["event"]?["data"]?["n"]?.intValue }
            #expect(numbers == Array(0..<eventsPerProcess))
        }
        let journal = try sandbox.verifyChain()
        #expect(journal.status == 0, "\(journal.result.output)")
        #expect(journal.report?["entries"]?.intValue == total)

        let deliver = try sandbox.laforge(["audit", "deliver", "--timeout", "60"])
        #expect(deliver.status == 0, "\(deliver.output)")
        let sink = try sandbox.verifyChain(["--sink", "file"])
        #expect(sink.status == 0, "\(sink.result.output)")
        #expect(sink.report?["entries"]?.intValue == total)
        #expect(sink.report?["last_checkpoint_size"]?.intValue == total)
        let keyFiles = try FileManager.default.contentsOfDirectory(atPath: sandbox.stateDirectory + "/keys")
        #expect(keyFiles.sorted() == ["checkpoint", "checkpoint.pub"], "leftover temporary key files: \(keyFiles)")
    }

    /// Concurrent first emits on a fresh state directory race to generate the development
    /// checkpoint key and PII key: every process must use the one complete key that won (a
    /// reader once saw a half-written key file and exited 3).
    @Test func concurrentFirstEmitsAgreeOnOneGeneratedKey() throws {
        for round in 0..<3 {
            let sandbox = try AuditSandbox()
            try sandbox.writeConfig(audit: """
                  pii:
                    hash: [actor.user]
                """)
            let children = try (0..<12).map { index in
                try LaForgeChild(
                    ["audit", "emit", "--actor", "same", "--action", "schema.change", "--config", sandbox.configPath],
                    in: sandbox.root, tag: "r\(round)-\(index)")
            }
            for child in children {
                #expect(child.wait() == 0, "round \(round): \(child.stderr)")
            }
            let entries = try sandbox.journalEntries()
            #expect(entries.count == 12)
            let users = Set(entries.compactMap { $0.entry["event"]?["actor"]?["user"]?.stringValue })
            #expect(users.count == 1, "more than one PII key was used: \(users)")
            let verified = try sandbox.verifyChain()
            #expect(verified.status == 0, "\(verified.result.output)")
            let keyFiles = try FileManager.default.contentsOfDirectory(atPath: sandbox.stateDirectory + "/keys")
            #expect(keyFiles.sorted() == ["checkpoint", "checkpoint.pub", "pii-hmac"])
        }
    }
}
