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

/// Delivery through the host API with a sink that fails on purpose (`flaky_sink.c`): retries
/// until the sink comes back, dead-letters a permanently refused entry and records that in the
/// chain, never lets a failing sink hold up `emit`, and never counts a contract-breaking write as
/// delivered.
@Suite struct AuditDeliveryTests {
    struct Setup {
        let sandbox: AuditSandbox
        let config: LaForgeConfig
        let log: AuditLog
        let captured: CapturedLog
        let plugins: String
        var sinkFile: String { sandbox.root + "/flaky.lines" }

        func startRuntime() throws -> PluginRuntime {
            try PluginRuntime.start(config: config, options: .init(pluginDirectory: plugins, logger: captured.logger))
        }

        /// The sink file's lines (`<seq> entry` / `<size> checkpoint`).
        func sinkLines() -> [String] {
            ((try? sandbox.read(sinkFile)) ?? "").split(separator: "\n").map(String.init)
        }

        func metric(_ name: String) -> Double {
            log.metrics.sample(name, labels: ["sink": config.sinks[0].name])?.value ?? 0
        }
    }

    /// `sinkOptions` go after the flaky sink's `path`; nil for a sink that takes no config.
    func setup(
        library: String = "libflaky.so", sinkOptions: String? = "", checkpointEvery: Int = 0, deliveryOptions: String = ""
    ) throws -> Setup {
        let sandbox = try AuditSandbox()
        let plugins = try makePluginDirectory(["libflaky.so": "flaky_sink.c", "libunknown.so": "unknown_status.c"])
        let sinkConfig = sinkOptions.map { "path: \(sandbox.root)/flaky.lines" + ($0.isEmpty ? "" : ", " + $0) } ?? ""
        try sandbox.writeConfig(audit: """
              checkpoints:
                every_entries: \(checkpointEvery)
                every_ms: 0
              delivery:
                batch_entries: 8
                retry_base_ms: 1
                retry_cap_ms: 20
            \(deliveryOptions)  sinks:
                - name: flaky
                  library: \(library)
                  config: {\(sinkConfig)}
            """)
        let config = try sandbox.config()
        let captured = CapturedLog()
        let log = try AuditLog.open(config: config, logger: captured.logger)
        return Setup(sandbox: sandbox, config: config, log: log, captured: captured, plugins: plugins)
    }

    /// The lines an in-order, exactly-once delivery of entries `seqs` and checkpoints `sizes` gives.
    func expectedLines(entries seqs: [UInt64], checkpoints sizes: [UInt64]) -> [String] {
        var lines: [String] = []
        for size in sizes where size == 0 { lines.append("0 checkpoint") }
        for seq in seqs {
            lines.append("\(seq) entry")
            if sizes.contains(seq + 1) { lines.append("\(seq + 1) checkpoint") }
        }
        return lines
    }

    /// While a bulk ingest is behind its input, a following worker leaves the disk to it — but
    /// only for `ingest_defer_ms`: then it delivers although the ingest is still behind.
    @Test func followingWorkersHoldBackForABackloggedIngestButNotForever() throws {
        let setup = try setup(deliveryOptions: "    ingest_defer_ms: 1500\n")
        defer { setup.log.journal.close() }
        for seq in 0..<20 { try setup.log.emit(auditEvent("u\(seq)")) }
        let runtime = try setup.startRuntime()
        defer { runtime.close() }
        setup.log.setIngestBacklogged(true)
        defer { setup.log.setIngestBacklogged(false) }
        let engine = DeliveryEngine(log: setup.log, runtime: runtime)
        let started = Date()
        engine.start(follow: true)
        defer {
            engine.stop()
            engine.wait()
        }
        usleep(500_000)
        let early = setup.sinkLines()
        if Date().timeIntervalSince(started) < 1.2 {
            #expect(early.isEmpty, "delivered while the ingest was behind, before ingest_defer_ms: \(early)")
        }
        var lines = early
        let deadline = Date().addingTimeInterval(15)
        while lines.count < 20 && Date() < deadline {
            usleep(50_000)
            lines = setup.sinkLines()
        }
        #expect(lines == expectedLines(entries: Array(0..<20), checkpoints: []))
    }

    @Test func retriesUntilTheSinkComesBackThenDeliversEachRecordOnceInOrder() throws {
        let setup = try setup(sinkOptions: "fail_first: 5", checkpointEvery: 10)
        defer { setup.log.journal.close() }
        for seq in 0..<30 { try setup.log.emit(auditEvent("u\(seq)")) }
        let runtime = try setup.startRuntime()
        defer { runtime.close() }

        let results = DeliveryEngine.deliverAll(log: setup.log, runtime: runtime, timeoutMilliseconds: 60_000)
        #expect(results == ["flaky": true], "\(setup.captured.text)")
        #expect(setup.sinkLines() == expectedLines(entries: Array(0..<30), checkpoints: [10, 20, 30]))
        #expect(try setup.log.cursors.load("flaky") == SinkCursor(nextSeq: 30, checkpointSize: 30))
        #expect(setup.metric("laforge_delivery_retries_total") == 5)
        #expect(setup.metric("laforge_delivery_records_total") == 33)
        #expect(setup.captured.text.contains("failing write call 5 of the first 5 on purpose"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: setup.sandbox.stateDirectory).contains("deadletter") == false)
    }

    /// ACCESS_DENIED is the sink refusing as a whole (rejected credentials): the host keeps every
    /// record, says an operator must act, and delivers everything once the sink lets it in.
    @Test func aSinkRefusingAccessKeepsEveryRecordUntilItLetsTheHostIn() throws {
        let setup = try setup(sinkOptions: "fail_first: 4, refuse_access: true")
        defer { setup.log.journal.close() }
        for seq in 0..<12 { try setup.log.emit(auditEvent("u\(seq)")) }
        let runtime = try setup.startRuntime()
        defer { runtime.close() }

        let results = DeliveryEngine.deliverAll(log: setup.log, runtime: runtime, timeoutMilliseconds: 60_000)
        #expect(results == ["flaky": true], "\(setup.captured.text)")
        #expect(setup.sinkLines() == expectedLines(entries: Array(0..<12), checkpoints: []))
        #expect(setup.metric("laforge_delivery_refusals_total") == 4)
        #expect(setup.captured.text.contains("refuses access, an operator must act"))
        #expect(setup.captured.text.contains("failing write call 4 of the first 4 on purpose (access denied)"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: setup.sandbox.stateDirectory).contains("deadletter") == false)
    }

    @Test func aPermanentlyRefusedEntryIsDeadLetteredAndRecordedAndTheRestDelivered() throws {
        let setup = try setup(sinkOptions: "permanent_seq: 7")
        defer { setup.log.journal.close() }
        var hashes: [UInt64: [UInt8]] = [:]
        for seq in 0..<15 {
            let receipt = try #require(try setup.log.emit(auditEvent("u\(seq)")))
            hashes[receipt.seq] = receipt.hash
        }
        let runtime = try setup.startRuntime()
        defer { runtime.close() }

        let results = DeliveryEngine.deliverAll(log: setup.log, runtime: runtime, timeoutMilliseconds: 60_000)
        #expect(results == ["flaky": true], "\(setup.captured.text)")
        // Entry 15 is the `audit.dead_letter` event the refusal added to the chain.
        #expect(setup.sinkLines() == expectedLines(entries: Array(0..<7) + Array(8...15), checkpoints: []))
        #expect(try setup.log.cursors.load("flaky")?.nextSeq == 16)

        let deadLetters = try setup.sandbox.read(setup.sandbox.stateDirectory + "/deadletter/flaky.ndjson")
            .split(separator: "\n").map { try JSONParser.parse(String($0)) }
        #expect(deadLetters.count == 1)
        #expect(deadLetters.first?["seq"]?.intValue == 7)
        #expect(deadLetters.first?["kind"]?.stringValue == "entry")
        #expect(deadLetters.first?["hash"]?.stringValue == hashes[7]?.hexString)
        #expect(deadLetters.first?["error"]?.stringValue?.contains("entry 7 is refused on purpose") == true)

        let recorded = try setup.log.journal.entries(from: 15, maxCount: 10, maxBytes: 1 << 20)
        #expect(recorded.count == 1)
        let event = try AuditEntry.parse(try #require(recorded.first?.payload)).event
        #expect(event["action"]?.stringValue == "audit.dead_letter")
        #expect(event["target"]?.stringValue == "sink:flaky")
        #expect(event["data"]?["seq"]?.intValue == 7)
        #expect(event["data"]?["hash"]?.stringValue == hashes[7]?.hexString)
        #expect(setup.metric("laforge_delivery_dead_letters_total") == 1)
    }

    @Test func emitNeverWaitsForAFailingSink() throws {
        let setup = try setup(sinkOptions: "fail_first: 1000000000")
        defer { setup.log.journal.close() }
        let runtime = try setup.startRuntime()
        let engine = DeliveryEngine(log: setup.log, runtime: runtime)
        engine.start(follow: true)
        var receipts: [JournalEntryReceipt] = []
        for seq in 0..<20 {
            receipts.append(try #require(try setup.log.emit(auditEvent("u\(seq)"))))
            // Interleave with the worker's failing attempts.
            if seq == 0 { #expect(eventually { setup.metric("laforge_delivery_retries_total") >= 3 }) }
        }
        #expect(receipts.map(\.seq) == Array(0..<20))
        // Every emit returned while the sink stored nothing: emit does not wait for delivery.
        #expect(setup.metric("laforge_delivery_retries_total") >= 3)
        #expect(try setup.log.cursors.load("flaky") == nil)
        #expect(setup.sinkLines().isEmpty)
        engine.stop()
        #expect(engine.wait() == ["flaky": false])
        runtime.close()

        // The sink back up (a fresh runtime without failures) receives everything from the journal.
        let healthy = try PluginRuntime.start(
            config: setup.sandbox.config(setup.sandbox.writeConfig(audit: """
                  checkpoints:
                    every_entries: 0
                    every_ms: 0
                  delivery:
                    retry_base_ms: 1
                    retry_cap_ms: 20
                  sinks:
                    - name: flaky
                      library: libflaky.so
                      config: {path: \(setup.sinkFile)}
                """, named: "healthy.yaml")),
            options: .init(pluginDirectory: setup.plugins, logger: setup.captured.logger))
        defer { healthy.close() }
        #expect(DeliveryEngine.deliverAll(log: setup.log, runtime: healthy, timeoutMilliseconds: 60_000) == ["flaky": true])
        #expect(setup.sinkLines() == expectedLines(entries: Array(0..<20), checkpoints: []))
    }

    @Test func aProtocolViolationIsNeverCountedAsDelivered() throws {
        let setup = try setup(library: "libunknown.so", sinkOptions: nil)
        defer { setup.log.journal.close() }
        for seq in 0..<5 { try setup.log.emit(auditEvent("u\(seq)")) }
        let runtime = try setup.startRuntime()
        defer { runtime.close() }

        let engine = DeliveryEngine(log: setup.log, runtime: runtime)
        engine.start(follow: true)
        #expect(eventually { setup.metric("laforge_delivery_retries_total") >= 3 })
        engine.stop()
        #expect(engine.wait() == ["flaky": false])
        #expect(try setup.log.cursors.load("flaky") == nil)
        #expect(setup.metric("laforge_delivery_records_total") == 0)
        #expect(setup.captured.text.contains("unknown status 42"), "\(setup.captured.text)")
        #expect(!FileManager.default.fileExists(atPath: setup.sandbox.stateDirectory + "/deadletter/flaky.ndjson"))
    }
}

/// With a sink down and `max_attempts` > 0, the refusals the host records never feed
/// themselves: one real event gives one `audit.dead_letter` event, and the checkpoints over them
/// are dead-lettered without new events (#17: one event became 16 in 15 s).
@Suite struct AuditDeadLetterLoopTests {
    @Test func deadLettersAreNotDeadLetteredInTurn() throws {
        let setup = try AuditDeliveryTests().setup(
            sinkOptions: "fail_first: 1000000000", checkpointEvery: 1, deliveryOptions: "    max_attempts: 2\n")
        defer { setup.log.journal.close() }
        _ = try setup.log.emit(auditEvent("real"))
        try setup.log.signCheckpoint()
        let runtime = try setup.startRuntime()
        defer { runtime.close() }
        // Delivery catches up (everything dead-lettered) instead of chasing its own records.
        let results = DeliveryEngine.deliverAll(log: setup.log, runtime: runtime, timeoutMilliseconds: 20_000)
        #expect(results == ["flaky": true], "\(setup.captured.text)")
        #expect(setup.log.journal.size == 2)
        let entries = try setup.log.journal.entries(from: 0, maxCount: 10, maxBytes: 1 << 20)
        let actions = try entries.map { try AuditEntry.parse($0.payload).event["action"]?.stringValue }
        #expect(actions == ["schema.change", "audit.dead_letter"])
    }
}
