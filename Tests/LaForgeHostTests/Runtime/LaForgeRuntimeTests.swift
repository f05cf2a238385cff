import Foundation
import LaForgeHost
import Logging
import ServiceLifecycle
import Testing
@testable import LaForgeTestSupport

/// The embedders' facade, driven as an embedder drives it: opened from a configuration file
/// with a real FileSink, events emitted, decisions asked for, then one shutdown — and what ends
/// up in the journal and the sink file checked line by line.
@Suite struct LaForgeRuntimeTests {
    static let roles = """
        identity:
          roles:
            - name: auditors
              allow:
                - actions: [audit.read]
                  resources: ["tenant/{tenant}/audit"]
        """

    /// A sandbox whose configuration has one FileSink at `sinkPath` (and the roles above).
    struct Setup {
        let sandbox: AuditSandbox
        let captured = CapturedLog()
        var sinkPath: String { sandbox.root + "/sink/audit.ndjson" }

        /// `sink` gives the `sinks:` list for the sandbox's root folder (default: the FileSink).
        init(sink: ((String) -> String)? = nil, delivery: String = "") throws {
            sandbox = try AuditSandbox()
            let sinkPath = sandbox.root + "/sink/audit.ndjson"
            try sandbox.writeConfig(audit: """
                  checkpoints:
                    every_entries: 0
                    every_ms: 0
                  delivery:
                    linger_ms: 5
                    retry_base_ms: 1
                    retry_cap_ms: 20
                \(delivery)  sinks:
                \(sink?(sandbox.root) ?? "    - name: file\n      library: libFileSink.so\n      config: {path: \(sinkPath)}\n")
                """ + Self.rolesSection)
        }

        static let rolesSection = LaForgeRuntimeTests.roles + "\n"

        func open(pluginDirectory: String = CLIRunner.buildDirectory, timeout: Int? = 30_000) throws -> LaForgeRuntime {
            try LaForgeRuntime.open(
                configPath: sandbox.configPath,
                options: .init(pluginDirectory: pluginDirectory, logger: captured.logger, shutdownTimeoutMilliseconds: timeout))
        }

        /// The sink file: entry lines (seq → line) and checkpoint sizes, in file order.
        func sinkContents() throws -> (entries: [UInt64: String], checkpoints: [UInt64]) {
            var entries: [UInt64: String] = [:]
            var checkpoints: [UInt64] = []
            for line in try sandbox.read(sinkPath).split(separator: "\n") {
                let value = try JSONParser.parse(Array(line.utf8))
                if let seq = value["seq"]?.intValue {
                    entries[UInt64(seq)] = String(line)
                } else if let note = value.objectValue?.values.first?.stringValue {
                    let size = note.split(separator: "\n")[1]
                    checkpoints.append(try #require(UInt64(size)))
                }
            }
            return (entries, checkpoints)
        }
    }

    @Test func emittedReceiptsAreInTheJournalAndReachTheFileSinkAfterShutdown() throws {
        let setup = try Setup()
        let runtime = try setup.open()
        try runtime.start()
        var receipts: [JournalEntryReceipt] = []
        receipts.append(try #require(try runtime.emit(auditEvent("ada"))))
        receipts += try runtime.emit((0..<20).map { auditEvent("u\($0)", data: ["n": .number(Double($0))]) })
        #expect(receipts.map(\.seq) == Array(0..<21))

        // Durable when emit returned: another reader of the state directory sees every entry
        // with the receipt's hash before anything is shut down.
        let journal = try setup.sandbox.journalEntries()
        #expect(journal.map(\.seq) == receipts.map(\.seq))
        #expect(journal.map(\.hash) == receipts.map { $0.hash.hexString })

        let report = runtime.shutdown()
        #expect(report.isClean, "\(report) \(setup.captured.text)")
        #expect(report.caughtUp == ["file": true])
        let sink = try setup.sinkContents()
        for receipt in receipts {
            let line = try #require(sink.entries[receipt.seq], "seq \(receipt.seq) is not in the sink")
            #expect(SHA256.leafHash(Array(line.utf8)) == receipt.hash)
        }
        #expect(sink.checkpoints.last == 21)
        let status = try runtime.auditStatus()
        #expect(status.entries == 21)
        #expect(status.uncoveredEntries == 0)
        #expect(status.sinks.map(\.lag) == [0])
    }

    /// Calls in flight finish, later ones are refused; the final checkpoint covers every entry
    /// any emit acknowledged, and the sink gets all of them and that checkpoint last.
    @Test func shutdownWhileEmittingCoversEveryAcknowledgedEntry() async throws {
        let setup = try Setup()
        let runtime = try setup.open()
        try runtime.start()
        let acknowledged = LockedReceipts()
        let emitters = (0..<3).map { writer in
            Thread {
                for index in 0..<10_000 {
                    do {
                        acknowledged.add(try runtime.emit([auditEvent("w\(writer)", data: ["i": .number(Double(index))])]))
                    } catch LaForgeRuntimeError.shutDown {
                        acknowledged.refused()
                        return
                    } catch {
                        acknowledged.failed("\(error)")
                        return
                    }
                }
            }
        }
        for emitter in emitters { emitter.start() }
        while acknowledged.count < 50 { try await Task.sleep(for: .milliseconds(5)) }
        let report = runtime.shutdown()
        while acknowledged.stoppedWriters < 3 && acknowledged.count < 30_000 { try await Task.sleep(for: .milliseconds(5)) }

        #expect(acknowledged.failures.isEmpty, "\(acknowledged.failures)")
        let count = UInt64(acknowledged.count)
        #expect(report.checkpointSize == count, "the final checkpoint must cover all \(count) acknowledged entries")
        #expect(report.caughtUp == ["file": true])
        let sink = try setup.sinkContents()
        #expect(sink.entries.count == Int(count))
        #expect(sink.checkpoints.last == count)
        #expect(throws: LaForgeRuntimeError.self) { try runtime.emit(auditEvent("late")) }
    }

    @Test func shutdownTwiceIsSafeAndReturnsTheSameReport() async throws {
        let setup = try Setup()
        let runtime = try setup.open()
        try runtime.start()
        try runtime.emit(auditEvent("ada"))
        // Two concurrent callers and a late one: one does the work, all see its report.
        async let first = Task.detached { runtime.shutdown() }.value
        async let second = Task.detached { runtime.shutdown() }.value
        let reports = await [first, second]
        #expect(reports[0] == reports[1])
        #expect(runtime.shutdown() == reports[0])
        #expect(reports[0].checkpointSize == 1)
        #expect(try setup.sinkContents().checkpoints == [1])
        do {
            try runtime.start()
            Issue.record("start after shutdown must throw")
        } catch {
            #expect(error.description.contains("shutting down"))
        }
    }

    /// A runtime never started still delivers what it recorded when it shuts down.
    @Test func shutdownWithoutStartDeliversWhatWasRecorded() throws {
        let setup = try Setup()
        let runtime = try setup.open()
        let receipts = try runtime.emit([auditEvent("a"), auditEvent("b")])
        #expect(runtime.deliveryStatus() == [SinkDeliveryStatus(sink: "file", lagEntries: 2)])
        let report = runtime.shutdown()
        #expect(report.caughtUp == ["file": true])
        #expect(try setup.sinkContents().entries.keys.sorted() == receipts.map(\.seq))
    }

    /// Nothing recorded: every sink already holds everything (it has no cursor yet), so
    /// shutdown does not wait out its timeout for a delivery that can never come.
    @Test func shutdownWithNothingRecordedFindsTheSinksCaughtUp() throws {
        let setup = try Setup()
        let started = try setup.open()
        try started.start()
        #expect(started.shutdown().caughtUp == ["file": true])
        #expect(try setup.open().shutdown().caughtUp == ["file": true])
    }

    @Test func authorizeAllowsAndDeniesAndRecordsTheDenial() throws {
        let setup = try Setup()
        let runtime = try setup.open()
        let auditor = Principal(subject: "u1", roles: ["auditors"], tenant: "acme", username: "ada")
        let allowed = try runtime.authorize(auditor, action: "audit.read", resource: "tenant/acme/audit")
        #expect(allowed.allowed)
        #expect(allowed.role == "auditors")
        let denied = try runtime.authorize(auditor, action: "audit.read", resource: "tenant/globex/audit")
        #expect(!denied.allowed)
        #expect(denied.reason.contains("tenant/globex/audit"))
        // Without an IdP connector a token cannot be checked: said so, nothing decided.
        #expect {
            _ = try runtime.authorize(token: "t", action: "audit.read", resource: "tenant/acme/audit")
        } throws: { error in
            guard case LaForgeRuntimeError.identity(let identity) = error else { return false }
            return identity.kind == .notConfigured
        }
        runtime.shutdown()

        let entries = try setup.sandbox.journalEntries()
        #expect(entries.count == 1)
        #expect(entries.first?.entry["event"]?["action"]?.stringValue == "auth.deny")
        #expect(entries.first?.entry["event"]?["target"]?.stringValue == "tenant/globex/audit")
        #expect(try setup.sinkContents().entries.count == 1)
    }

    /// Snapshots through the facade: signed, verified with their audit events cross-checked in
    /// the runtime's own journal, and a changed artifact stops the guard.
    @Test func snapshotsAreSignedVerifiedAndGuarded() throws {
        let setup = try Setup()
        let runtime = try setup.open()
        try runtime.start()
        let root = setup.sandbox.root
        try FileManager.default.createDirectory(atPath: root + "/schema", withIntermediateDirectories: true)
        try "create table t (id int);\n".write(toFile: root + "/schema/001.sql", atomically: true, encoding: .utf8)
        let signed = try runtime.signSnapshot(paths: ["schema"], message: "first", actor: AuditActor(user: "ada"), root: root)
        #expect(signed.snapshot.artifacts.map(\.path) == ["schema/001.sql"])
        let report = try runtime.verifySnapshots(artifactRoot: root)
        #expect(report.problems.isEmpty, "\(report.problems)")
        #expect(report.snapshots == 1)
        #expect(report.auditEventsChecked >= 1)
        #expect(try runtime.guardDeploy(snapshot: "latest", requireSigned: true, actor: AuditActor(user: "ci"), artifactRoot: root).isAllowed)

        try "drop table t;\n".write(toFile: root + "/schema/001.sql", atomically: true, encoding: .utf8)
        let verdict = try runtime.guardDeploy(snapshot: "latest", actor: AuditActor(user: "ci"), artifactRoot: root)
        #expect(!verdict.isAllowed)
        #expect(verdict.unmet.contains { $0.contains("schema/001.sql") }, "\(verdict.unmet)")
        runtime.shutdown()
        // snapshot.sign and both deploy.guard decisions are in the journal and the sink.
        let actions = try setup.sinkContents().entries.values.compactMap { line in
            try JSONParser.parse(Array(line.utf8))["event"]?["action"]?.stringValue
        }
        #expect(actions.sorted() == ["deploy.guard", "deploy.guard", "snapshot.sign"])
    }

    @Test func secretsResolveThroughTheConfiguredBackends() throws {
        let setup = try Setup()
        let runtime = try setup.open()
        defer { runtime.shutdown() }
        // No backend configured: the reference is refused with the reason, the value never shown.
        #expect {
            _ = try runtime.secret("vault/db-password")
        } throws: { error in
            guard case LaForgeRuntimeError.secret = error else { return false }
            return !"\(error)".isEmpty
        }
    }

    @Test func deliveryStatusReportsRetriesDeadLettersAndLag() throws {
        let plugins = try makePluginDirectory(["libflaky.so": "flaky_sink.c"])
        let setup = try Setup(sink: { root in
            """
                - name: flaky
                  library: libflaky.so
                  config: {path: \(root)/flaky.lines, fail_first: 3, permanent_seq: 1}

            """
        })
        let runtime = try setup.open(pluginDirectory: plugins)
        #expect(runtime.deliveryStatus().map(\.running) == [false])
        try runtime.start()
        try runtime.emit([auditEvent("a"), auditEvent("b"), auditEvent("c")])
        let deadline = Date().addingTimeInterval(30)
        while runtime.deliveryStatus().first?.lagEntries != 0 || runtime.deliveryStatus().first?.deadLetters == 0 {
            #expect(Date() < deadline, "delivery did not catch up: \(runtime.deliveryStatus())")
            if Date() >= deadline { break }
            usleep(10_000)
        }
        let status = try #require(runtime.deliveryStatus().first)
        #expect(status.sink == "flaky")
        #expect(status.running)
        #expect(status.retries == 3)
        #expect(status.deadLetters == 1)
        #expect(status.lastError != nil)
        #expect(!status.failing, "the sink recovered")
        #expect(status.lagSeconds == 0)
        #expect(status.jsonValue()["dead_letters"]?.intValue == 1)
        runtime.shutdown()
        #expect(runtime.deliveryStatus().first?.running == false)
    }

    /// A sink whose plugin cannot be created does not stop the runtime: the other sink gets
    /// everything, and the status says which one has not started and why.
    @Test func deliveryStatusNamesASinkThatHasNotStarted() throws {
        let plugins = try makePluginDirectory(["libbroken.so": "create_fails.c"])
        try FileManager.default.copyItem(atPath: CLIRunner.buildDirectory + "/libFileSink.so", toPath: plugins + "/libFileSink.so")
        let setup = try Setup(sink: { root in
            """
                - name: file
                  library: libFileSink.so
                  config: {path: \(root)/sink/audit.ndjson}
                - name: broken
                  library: libbroken.so
                  config: {}

            """
        })
        let runtime = try setup.open(pluginDirectory: plugins, timeout: 300)
        let before = try #require(runtime.deliveryStatus().last)
        #expect(before.sink == "broken")
        #expect(!before.started)
        #expect(before.failing)
        #expect(before.lastError?.contains("bad endpoint: connection refused") == true, "\(before)")
        try runtime.start()
        try runtime.emit(auditEvent("ada"))
        let report = runtime.shutdown()
        #expect(report.caughtUp == ["file": true, "broken": false])
        let after = runtime.deliveryStatus()
        #expect(after.map(\.started) == [true, false])
        #expect(after.map(\.lagEntries) == [0, 1])
        #expect(try setup.sinkContents().entries.count == 1)
    }

    @Test func openingReportsTheFileAndThePlugin() throws {
        let setup = try Setup()
        #expect {
            _ = try LaForgeRuntime.open(configPath: setup.sandbox.root + "/missing.yaml")
        } throws: { error in
            guard case LaForgeRuntimeError.configuration(let config) = error else { return false }
            return config.description.contains("missing.yaml")
        }
        // A plugin directory without the FileSink: the instance and the path are named, and the
        // journal opened before is released (a second open works).
        let empty = setup.sandbox.root + "/no-plugins"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        #expect {
            _ = try setup.open(pluginDirectory: empty)
        } throws: { error in
            guard case LaForgeRuntimeError.plugins = error else { return false }
            return "\(error)".contains("libFileSink.so")
        }
        try setup.open().shutdown()

        // Options.stateDirectory overrides state_dir, as `--state-dir` does for the CLI.
        let elsewhere = setup.sandbox.root + "/elsewhere"
        let moved = try LaForgeRuntime.open(
            configPath: setup.sandbox.configPath,
            options: .init(pluginDirectory: CLIRunner.buildDirectory, stateDirectory: elsewhere, logger: setup.captured.logger))
        try moved.emit(auditEvent("ada"))
        moved.shutdown()
        #expect(moved.config.stateDir == elsewhere)
        #expect(FileManager.default.fileExists(atPath: elsewhere + "/journal"))
    }

    /// In a Swift server's `ServiceGroup`: the runtime runs beside the app's own service; on the
    /// graceful-shutdown trigger the app stops first (it is after the runtime in the list, and
    /// the group stops services in reverse order), then the runtime drains.
    @Test func runsUnderAServiceGroupAndDrainsOnGracefulShutdown() async throws {
        let setup = try Setup()
        let runtime = try setup.open()
        let app = EmittingService(runtime: runtime)
        let group = ServiceGroup(services: [runtime, app], logger: setup.captured.logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            while app.emitted.count < 5 { try await Task.sleep(for: .milliseconds(10)) }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        let receipts = app.emitted.all
        #expect(receipts.count >= 5)
        #expect(app.refusedAfterShutdown.stoppedWriters == 0, "the app stopped before the runtime: nothing was refused")
        let sink = try setup.sinkContents()
        #expect(sink.entries.keys.sorted() == receipts.map(\.seq))
        #expect(sink.checkpoints.last == UInt64(receipts.count))
        #expect(throws: LaForgeRuntimeError.self) { try runtime.emit(auditEvent("late")) }
    }
}

/// An app's own service: emits an event every few milliseconds until graceful shutdown.
private struct EmittingService: Service {
    let runtime: LaForgeRuntime
    let emitted = LockedReceipts()
    let refusedAfterShutdown = LockedReceipts()

    func run() async throws {
        var index = 0
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do { emitted.add(try runtime.emit([auditEvent("app", data: ["i": .number(Double(index))])])) } catch {
                refusedAfterShutdown.refused()
            }
            index += 1
            try? await Task.sleep(for: .milliseconds(2))
        }
    }
}

/// Receipts collected from several threads.
final class LockedReceipts: @unchecked Sendable {
    private let lock = NSLock()
    private var receipts: [JournalEntryReceipt] = []
    private var stopped = 0
    private var errors: [String] = []

    func add(_ more: [JournalEntryReceipt]) { lock.withLock { receipts += more } }
    func refused() { lock.withLock { stopped += 1 } }
    func failed(_ message: String) { lock.withLock { errors.append(message); stopped += 1 } }
    var count: Int { lock.withLock { receipts.count } }
    var all: [JournalEntryReceipt] { lock.withLock { receipts.sorted { $0.seq < $1.seq } } }
    var stoppedWriters: Int { lock.withLock { stopped } }
    var failures: [String] { lock.withLock { errors } }
}
