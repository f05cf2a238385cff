import Foundation
import Logging
import PluginABI
import Synchronization
import Testing
@testable import LaForgeTestSupport

@testable import LaForgeAudit
@testable import LaForgeCore
@testable import LaForgeGovernance
@testable import LaForgeIdentity
@testable import LaForgeJournal
@testable import LaForgePlugins
@testable import LaForgeSecrets

#if canImport(Glibc)
    import Glibc
#endif

/// The FileSink plugin, loaded as the host loads it: the built `libFileSink.so` through
/// `PluginLibrary` and `AuditSinkInstance`. The test target does not depend on the FileSink
/// target (every plugin exports the same entry symbol); the library is found next to the test
/// binary. Serialized: one test reads SIGHUP's disposition and one lowers RLIMIT_FSIZE.
@Suite(.serialized) struct FileSinkTests {
    // MARK: Fixtures

    /// `libFileSink.so`: in LAFORGE_PLUGIN_DIR, else next to the test binary or in a folder
    /// above it (the .xctest bundle sits in `.build/debug`, as the plugins do).
    static func libraryPath() throws -> String {
        let name = "libFileSink.so"
        if let directory = ProcessInfo.processInfo.environment["LAFORGE_PLUGIN_DIR"], !directory.isEmpty {
            return (directory as NSString).appendingPathComponent(name)
        }
        var folder = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = folder.appendingPathComponent(name).path
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
            folder.deleteLastPathComponent()
        }
        throw FileSinkTestError(
            "libFileSink.so not found next to the test binary; run `swift build` first or set LAFORGE_PLUGIN_DIR")
    }

    struct FileSinkTestError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// Log lines the plugin sent through the host API.
    final class LogCapture: Sendable {
        let lines = Mutex<[(Logger.Level, String)]>([])
        var logger: Logger {
            Logger(minimumLevel: .debug) { [self] level, message in lines.withLock { $0.append((level, message)) } }
        }
        func messages(_ level: Logger.Level) -> [String] { lines.withLock { $0.filter { $0.0 == level }.map(\.1) } }
    }

    /// A scratch directory per test.
    final class Scratch {
        let directory: String
        init() throws {
            directory =
                FileManager.default.temporaryDirectory
                .appendingPathComponent("laforge-filesink-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        deinit { try? FileManager.default.removeItem(atPath: directory) }
        func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
    }

    static func library() throws -> PluginLibrary { try PluginLibrary.open(path: try libraryPath()) }

    /// The configuration the host would pass: validated against the plugin's schema, with defaults.
    static func normalized(_ config: String) throws -> String {
        let library = try library()
        let check = try PluginSchemaCheck(
            schemaText: library.descriptor.configSchemaText(for: .auditSink), library: library.path)
        return try check.normalize(try JSONParser.parse(config)).get()
    }

    static func sink(
        _ config: String, logs: LogCapture = LogCapture(), metrics: MetricsRegistry? = nil, raw: Bool = false
    ) throws -> AuditSinkInstance {
        let json = raw ? config : try normalized(config)
        let context = PluginHostContext(
            instanceName: "file", logger: logs.logger, metrics: metrics ?? MetricsRegistry(logger: logs.logger), secrets: nil)
        return try AuditSinkInstance(name: "file", library: try library(), configJSON: PluginConfigJSON(text: json), context: context)
    }

    static func pathConfig(_ path: String, _ extra: String = "") -> String {
        #"{"path":"\#(path)"\#(extra.isEmpty ? "" : ",\(extra)")}"#
    }

    static func entryData(_ seq: UInt64, padding: Int = 0) -> String {
        let pad = padding > 0 ? #","pad":"\#(String(repeating: "x", count: padding))""# : ""
        return #"{"action":"schema.change","actor":{"user":"ada"}\#(pad),"prev_hash":"00","seq":\#(seq)}"#
    }

    static func entry(_ seq: UInt64, padding: Int = 0) -> AuditRecord {
        AuditRecord(
            kind: .entry, seq: seq, hash: [UInt8](repeating: UInt8(seq & 0xFF), count: 32),
            prevHash: [UInt8](repeating: 0, count: 32), data: Array(entryData(seq, padding: padding).utf8))
    }

    static func checkpointNote(_ size: UInt64) -> String {
        "laforge.example/audit\n\(size)\nq1Z0r9eUu8v1m2Vb4Jq6YbS0d1Zr8QyC0c4TtqP7xWk=\n\n— laforge.example/audit Az3Vb1tDxF2Q+5u/0y8\n"
    }

    static func checkpoint(_ size: UInt64, note: String? = nil) -> AuditRecord {
        AuditRecord(
            kind: .checkpoint, seq: size, hash: [UInt8](repeating: 7, count: 32), prevHash: nil,
            data: Array((note ?? checkpointNote(size)).utf8))
    }

    static func checkpointLine(_ size: UInt64) -> String {
        #"{"checkpoint":"laforge.example/audit\n\#(size)\nq1Z0r9eUu8v1m2Vb4Jq6YbS0d1Zr8QyC0c4TtqP7xWk=\n\n— laforge.example/audit Az3Vb1tDxF2Q+5u/0y8\n"}"#
    }

    static func batch(_ records: [AuditRecord]) -> AuditBatch { AuditBatch(chainID: "chain-1", records: records) }

    static func contents(_ path: String) throws -> String {
        try String(contentsOfFile: path, encoding: .utf8)
    }

    static func lines(_ path: String) throws -> [String] {
        try contents(path).split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
    }

    // MARK: Loading and configuration

    @Test func libraryIsFoundAndDescribesAnAuditSink() throws {
        let library = try Self.library()
        #expect(library.descriptor.name == "filesink")
        #expect(library.descriptor.capabilities == [.auditSink])
        #expect(library.descriptor.isConcurrent(.auditSink) == false)
    }

    @Test func hostAppliesTheSchemaDefaults() throws {
        let scratch = try Scratch()
        let path = scratch.path("audit.ndjson")
        #expect(
            try Self.normalized(Self.pathConfig(path))
                == #"{"create_directories":true,"file_mode":"0600","fsync":"batch","path":"\#(path)","rotate_bytes":0,"rotate_seconds":0}"#
        )
    }

    @Test(arguments: ["always", "batch", "never"])
    func everyFsyncModeIsAcceptedAndWrites(_ mode: String) throws {
        let scratch = try Scratch()
        let path = scratch.path("audit.ndjson")
        let sink = try Self.sink(Self.pathConfig(path, #""fsync":"\#(mode)""#))
        defer { sink.close() }
        #expect(try sink.write(Self.batch([Self.entry(0), Self.checkpoint(1)])) == .stored)
        try sink.flush()
        #expect(try Self.lines(path) == [Self.entryData(0), Self.checkpointLine(1)])
    }

    @Test(arguments: [
        (#""fsync":"sometimes""#, "fsync"),
        (#""rotate_bytes":-1"#, "rotate_bytes"),
        (#""rotate_seconds":1.5"#, "rotate_seconds"),
        (#""file_mode":"0800""#, "file_mode"),
        (#""create_directories":"yes""#, "create_directories"),
        (#""colour":"blue""#, "colour"),
    ])
    func createRejectsInvalidValuesTheHostDidNotCatch(_ member: String, _ key: String) throws {
        let scratch = try Scratch()
        // Raw: straight to create(), as a host without schema validation would send it.
        let error = #expect(throws: PluginLoadError.self) {
            try Self.sink(Self.pathConfig(scratch.path("audit.ndjson"), member), raw: true)
        }
        #expect(error?.kind == .createFailed)
        #expect(error?.message.contains("INVALID_ARGUMENT") == true)
        #expect(error?.message.contains(key) == true)
        // And the host's schema check refuses the same configuration before create.
        #expect(throws: SchemaViolations.self) { try Self.normalized(Self.pathConfig(scratch.path("x"), member)) }
    }

    @Test func createWithoutPathIsRejected() throws {
        let error = #expect(throws: PluginLoadError.self) { try Self.sink("{}", raw: true) }
        #expect(error?.message.contains("path is required") == true)
    }

    @Test func createFailsWhenTheDirectoryIsMissingAndMayNotBeCreated() throws {
        let scratch = try Scratch()
        let path = scratch.path("missing/audit.ndjson")
        let error = #expect(throws: PluginLoadError.self) {
            try Self.sink(Self.pathConfig(path, #""create_directories":false"#))
        }
        #expect(error?.message.contains("open \(path): No such file or directory") == true)
        // With the default, the directories are made.
        let sink = try Self.sink(Self.pathConfig(path))
        sink.close()
        #expect(FileManager.default.fileExists(atPath: path))
    }

    @Test func fileModeIs0600ByDefaultAndTheConfiguredModeOtherwise() throws {
        let scratch = try Scratch()
        let previous = umask(0o077)
        defer { umask(previous) }
        let defaultPath = scratch.path("default.ndjson")
        try Self.sink(Self.pathConfig(defaultPath)).close()
        let configuredPath = scratch.path("configured.ndjson")
        try Self.sink(Self.pathConfig(configuredPath, #""file_mode":"644""#)).close()
        func mode(_ path: String) throws -> Int {
            (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1
        }
        #expect(try mode(defaultPath) == 0o600)
        #expect(try mode(configuredPath) == 0o644)  // not reduced by the umask
    }

    // MARK: Output format

    @Test func linesAreTheEntryBytesAndEscapedCheckpoints() throws {
        let scratch = try Scratch()
        let path = scratch.path("audit.ndjson")
        let metrics = MetricsRegistry()
        let sink = try Self.sink(Self.pathConfig(path), metrics: metrics)
        defer { sink.close() }
        #expect(try sink.write(Self.batch([Self.entry(0), Self.entry(1), Self.checkpoint(2)])) == .stored)
        let expected = Self.entryData(0) + "\n" + Self.entryData(1) + "\n" + Self.checkpointLine(2) + "\n"
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(expected.utf8))
        #expect(metrics.sample("laforge_filesink_bytes_total", labels: ["plugin": "file"])?.value == Double(expected.utf8.count))
        #expect(metrics.sample("laforge_filesink_records_total", labels: ["plugin": "file"])?.value == 3)
    }

    @Test func checkpointTextIsEscapedPerRFC8785() throws {
        let scratch = try Scratch()
        let path = scratch.path("audit.ndjson")
        let sink = try Self.sink(Self.pathConfig(path))
        defer { sink.close() }
        let note = "origin \"q\" \\ tab\there\r\u{01}\u{1F}\u{08}\u{0C}\u{7F}é—\n5\nroot\n"
        #expect(try sink.write(Self.batch([Self.checkpoint(5, note: note)])) == .stored)
        let line = try Self.contents(path)
        #expect(line == #"{"checkpoint":"origin \"q\" \\ tab\there\r\u0001\u001f\b\f"# + "\u{7F}é—" + #"\n5\nroot\n"}"# + "\n")
        // The line is JSON whose string is the note again, and it is its own canonical form.
        let parsed = try JSONParser.parse(String(line.dropLast()))
        #expect(parsed["checkpoint"]?.stringValue == note)
        #expect(JSONCanonicalizer.canonicalString(parsed) == String(line.dropLast()))
    }

    @Test func anEntryWithARawNewlineIsAPermanentErrorAfterTheRecordsBeforeIt() throws {
        let scratch = try Scratch()
        let path = scratch.path("audit.ndjson")
        let sink = try Self.sink(Self.pathConfig(path))
        defer { sink.close() }
        let broken = AuditRecord(
            kind: .entry, seq: 1, hash: [UInt8](repeating: 1, count: 32), prevHash: [UInt8](repeating: 0, count: 32),
            data: Array("{\"seq\":1,\n\"x\":2}".utf8))
        let outcome = try sink.write(Self.batch([Self.entry(0), broken, Self.entry(2)]))
        guard case .permanentError(let stored, let message) = outcome else {
            Issue.record("expected PERMANENT_ERROR, got \(outcome)")
            return
        }
        #expect(stored == 1)
        #expect(message.contains("raw newline"))
        #expect(try Self.lines(path) == [Self.entryData(0)])
    }

    // MARK: Idempotence and crash recovery

    @Test func aReSentBatchIsNotDuplicatedInProcessOrAfterARestart() throws {
        let scratch = try Scratch()
        let path = scratch.path("audit.ndjson")
        let first = [Self.entry(0), Self.entry(1), Self.checkpoint(2)]
        let sink = try Self.sink(Self.pathConfig(path))
        #expect(try sink.write(Self.batch(first)) == .stored)
        #expect(try sink.write(Self.batch(first)) == .stored)
        sink.close()

        let restarted = try Self.sink(Self.pathConfig(path))
        defer { restarted.close() }
        #expect(try restarted.write(Self.batch(first)) == .stored)
        // Overlapping: only what is new is appended.
        #expect(try restarted.write(Self.batch([Self.entry(1), Self.checkpoint(2), Self.entry(2)])) == .stored)
        #expect(
            try Self.lines(path) == [Self.entryData(0), Self.entryData(1), Self.checkpointLine(2), Self.entryData(2)])
    }

    @Test func aTornLastLineIsTruncatedOnOpen() throws {
        let scratch = try Scratch()
        let path = scratch.path("audit.ndjson")
        let sink = try Self.sink(Self.pathConfig(path))
        #expect(try sink.write(Self.batch([Self.entry(0), Self.entry(1)])) == .stored)
        sink.close()
        let clean = try Self.contents(path)
        // A crash in the middle of writing entry 2.
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data(Self.entryData(2).utf8.prefix(25)))
        try handle.close()

        let logs = LogCapture()
        let reopened = try Self.sink(Self.pathConfig(path), logs: logs)
        defer { reopened.close() }
        #expect(try Self.contents(path) == clean)
        #expect(logs.messages(.warning).contains { $0.contains("torn last line") })
        #expect(try reopened.write(Self.batch([Self.entry(1), Self.entry(2)])) == .stored)
        #expect(try Self.lines(path) == [Self.entryData(0), Self.entryData(1), Self.entryData(2)])
    }

    // MARK: Rotation

    @Test func rotationBySizeHappensOnlyAfterACheckpoint() throws {
        let scratch = try Scratch()
        let path = scratch.path("audit.ndjson")
        let logs = LogCapture()
        let sink = try Self.sink(Self.pathConfig(path, #""rotate_bytes":300"#), logs: logs)
        // 4 entries of ~100 bytes exceed the limit, but without a checkpoint nothing rotates.
        #expect(try sink.write(Self.batch((0..<4).map { Self.entry($0) })) == .stored)
        #expect(!FileManager.default.fileExists(atPath: path + ".1"))
        // The checkpoint seals the file, then the batch continues in a fresh one that starts with
        // the same checkpoint (where a verifier of that file alone starts).
        #expect(try sink.write(Self.batch([Self.checkpoint(4), Self.entry(4), Self.entry(5)])) == .stored)
        #expect(try Self.lines(path + ".1") == (0..<4).map { Self.entryData($0) } + [Self.checkpointLine(4)])
        #expect(try Self.lines(path) == [Self.checkpointLine(4), Self.entryData(4), Self.entryData(5)])
        #expect(logs.messages(.info).contains { $0.contains("rotated \(path) to \(path).1") })
        // Two rotations in one batch; a re-sent batch after that is still not duplicated.
        let next = [
            Self.entry(6), Self.checkpoint(7), Self.entry(7), Self.entry(8), Self.entry(9), Self.checkpoint(10), Self.entry(10),
        ]
        #expect(try sink.write(Self.batch(next)) == .stored)
        #expect(try sink.write(Self.batch(next)) == .stored)
        sink.close()
        let restarted = try Self.sink(Self.pathConfig(path, #""rotate_bytes":300"#))
        defer { restarted.close() }
        #expect(try restarted.write(Self.batch(next)) == .stored)

        var all: [String] = []
        for number in 1...3 {
            var rotated = try Self.lines("\(path).\(number)")
            #expect(rotated.last?.hasPrefix(#"{"checkpoint":"#) == true, "\(path).\(number) must end with a checkpoint")
            // Every file after the first starts with the checkpoint the previous one ends with.
            if number > 1 {
                #expect(rotated.first == all.last)
                rotated.removeFirst()
            }
            all += rotated
        }
        #expect(!FileManager.default.fileExists(atPath: path + ".4"))
        let active = try Self.lines(path)
        #expect(active.first == all.last)
        all += active.dropFirst()
        #expect(
            all == (0..<4).map { Self.entryData($0) } + [Self.checkpointLine(4)]
                + (4..<7).map { Self.entryData($0) } + [Self.checkpointLine(7)]
                + (7..<10).map { Self.entryData($0) } + [Self.checkpointLine(10), Self.entryData(10)])
    }

    /// Two processes delivering to one file take turns (the host's delivery lock); each must
    /// see what the other appended, so a record it is re-sent is still stored once.
    @Test func aSecondWriterRelearnsWhatIsStored() throws {
        let scratch = try Scratch()
        let path = scratch.path("audit.ndjson")
        let first = try Self.sink(Self.pathConfig(path))
        let second = try Self.sink(Self.pathConfig(path))
        defer { first.close(); second.close() }
        #expect(try first.write(Self.batch((0..<3).map { Self.entry($0) })) == .stored)
        #expect(try second.write(Self.batch((0..<5).map { Self.entry($0) })) == .stored)
        #expect(try Self.lines(path) == (0..<5).map { Self.entryData($0) })
    }

    @Test func rotationByAgeAlsoWaitsForACheckpoint() throws {
        let scratch = try Scratch()
        let path = scratch.path("audit.ndjson")
        let sink = try Self.sink(Self.pathConfig(path, #""rotate_seconds":1"#))
        defer { sink.close() }
        #expect(try sink.write(Self.batch([Self.entry(0)])) == .stored)
        Thread.sleep(forTimeInterval: 1.2)
        #expect(try sink.write(Self.batch([Self.entry(1)])) == .stored)
        #expect(!FileManager.default.fileExists(atPath: path + ".1"))
        #expect(try sink.write(Self.batch([Self.checkpoint(2), Self.entry(2)])) == .stored)
        #expect(try Self.lines(path + ".1") == [Self.entryData(0), Self.entryData(1), Self.checkpointLine(2)])
        #expect(try Self.lines(path) == [Self.checkpointLine(2), Self.entryData(2)])
    }

    @Test func aLongLastLineIsReadBackAcrossChunks() throws {
        let scratch = try Scratch()
        let path = scratch.path("audit.ndjson")
        // Lines longer than the 64 KiB read chunk, so the backward reader joins pieces.
        let sink = try Self.sink(Self.pathConfig(path))
        #expect(
            try sink.write(Self.batch([Self.entry(0, padding: 200_000), Self.checkpoint(1), Self.entry(1, padding: 150_000)]))
                == .stored)
        sink.close()
        let restarted = try Self.sink(Self.pathConfig(path))
        defer { restarted.close() }
        #expect(try restarted.write(Self.batch([Self.checkpoint(1), Self.entry(1), Self.entry(2)])) == .stored)
        #expect(
            try Self.lines(path) == [
                Self.entryData(0, padding: 200_000), Self.checkpointLine(1), Self.entryData(1, padding: 150_000),
                Self.entryData(2),
            ])
    }

    @Test func rotationNeverOverwritesAnExistingNumberedFile() throws {
        let scratch = try Scratch()
        let path = scratch.path("audit.ndjson")
        try "kept\n".write(toFile: path + ".2", atomically: true, encoding: .utf8)
        let sink = try Self.sink(Self.pathConfig(path, #""rotate_bytes":1"#))
        defer { sink.close() }
        #expect(try sink.write(Self.batch([Self.entry(0), Self.checkpoint(1)])) == .stored)
        #expect(try Self.contents(path + ".2") == "kept\n")
        #expect(try Self.lines(path + ".3") == [Self.entryData(0), Self.checkpointLine(1)])
    }

    // MARK: Reopen

    @Test func theHostsReopenMovesWritingToTheNewFileAfterARename() throws {
        let scratch = try Scratch()
        let path = scratch.path("audit.ndjson")
        let logs = LogCapture()
        let sink = try Self.sink(Self.pathConfig(path), logs: logs)
        defer { sink.close() }
        #expect(sink.canReopen)
        #expect(try sink.write(Self.batch([Self.entry(0)])) == .stored)
        try FileManager.default.moveItem(atPath: path, toPath: path + ".old")
        #expect(try sink.reopen())
        #expect(FileManager.default.fileExists(atPath: path), "reopen creates the new file at once")
        #expect(try sink.write(Self.batch([Self.entry(0), Self.entry(1)])) == .stored)
        #expect(try Self.lines(path + ".old") == [Self.entryData(0)])
        #expect(try Self.lines(path) == [Self.entryData(1)], "a re-sent record is still skipped after the reopen")
        #expect(logs.messages(.info).contains { $0.contains("reopened \(path) after the host's reopen (SIGHUP)") })
    }

    /// The host owns signals (ABI rule 6): creating a sink leaves SIGHUP's disposition as it was.
    @Test func createInstallsNoSignalHandler() throws {
        let scratch = try Scratch()
        var before = sigaction()
        #expect(sigaction(SIGHUP, nil, &before) == 0)
        let sink = try Self.sink(Self.pathConfig(scratch.path("audit.ndjson")))
        defer { sink.close() }
        var after = sigaction()
        #expect(sigaction(SIGHUP, nil, &after) == 0)
        #expect(
            unsafeBitCast(after.__sigaction_handler.sa_handler, to: Int.self)
                == unsafeBitCast(before.__sigaction_handler.sa_handler, to: Int.self))
    }

    @Test func aReopenThatCannotOpenThePathRetriesAndTheNextWriteOpensIt() throws {
        let scratch = try Scratch()
        let directory = scratch.path("logs")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/audit.ndjson"
        let sink = try Self.sink(Self.pathConfig(path, #""create_directories":false"#))
        defer { sink.close() }
        #expect(try sink.write(Self.batch([Self.entry(0)])) == .stored)
        try FileManager.default.moveItem(atPath: directory, toPath: directory + ".old")
        do {
            try sink.reopen()
            Issue.record("reopen succeeded without its directory")
        } catch {
            #expect(error.kind == .failed(.retry))
            #expect(error.description.contains(path))
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        #expect(try sink.write(Self.batch([Self.entry(1)])) == .stored)
        #expect(try Self.lines(path) == [Self.entryData(1)])
        #expect(try Self.lines(directory + ".old/audit.ndjson") == [Self.entryData(0)])
    }

    @Test func healthReportsAMovedFileAndTheNextWriteReopens() throws {
        let scratch = try Scratch()
        let path = scratch.path("audit.ndjson")
        let sink = try Self.sink(Self.pathConfig(path))
        defer { sink.close() }
        try sink.health()
        #expect(try sink.write(Self.batch([Self.entry(0)])) == .stored)
        try FileManager.default.moveItem(atPath: path, toPath: path + ".moved")
        let error = #expect(throws: PluginCallError.self) { try sink.health() }
        #expect(error?.status == .retry)
        #expect(error?.message.contains("file was moved; will reopen") == true)
        #expect(try sink.write(Self.batch([Self.entry(1)])) == .stored)
        try sink.health()
        #expect(try Self.lines(path) == [Self.entryData(1)])
    }

    @Test func twoInstancesAreIndependent() throws {
        let scratch = try Scratch()
        let a = try Self.sink(Self.pathConfig(scratch.path("a.ndjson")))
        let b = try Self.sink(Self.pathConfig(scratch.path("b.ndjson"), #""fsync":"never""#))
        defer {
            a.close()
            b.close()
        }
        #expect(try a.write(Self.batch([Self.entry(0), Self.entry(1)])) == .stored)
        #expect(try b.write(Self.batch([Self.entry(0)])) == .stored)
        #expect(try Self.lines(scratch.path("a.ndjson")).count == 2)
        #expect(try Self.lines(scratch.path("b.ndjson")) == [Self.entryData(0)])
    }

    // MARK: Write errors

    /// A full disk cannot be made as non-root; a file-size limit fails write() the same way
    /// (partially, then with an errno), here EFBIG.
    @Test func aFailedWriteIsRetryWithNoPartialLineLeft() throws {
        let scratch = try Scratch()
        let path = scratch.path("audit.ndjson")
        // Start near a size limit high enough that nothing else in this process hits it in
        // the moment it is set.
        let prefill = Self.entryData(0, padding: 4 * 1024 * 1024) + "\n"
        try prefill.write(toFile: path, atomically: false, encoding: .utf8)
        let sink = try Self.sink(Self.pathConfig(path))
        defer { sink.close() }

        let batch = Self.batch([Self.entry(1), Self.entry(2), Self.entry(3)])
        var previousLimit = rlimit()
        getrlimit(Int32(RLIMIT_FSIZE.rawValue), &previousLimit)
        let previousHandler = signal(SIGXFSZ, SIG_IGN)
        var limit = previousLimit
        limit.rlim_cur = rlim_t(prefill.utf8.count + 150)  // room for one and a half lines
        setrlimit(Int32(RLIMIT_FSIZE.rawValue), &limit)
        let outcome = Result { try sink.write(batch) }
        setrlimit(Int32(RLIMIT_FSIZE.rawValue), &previousLimit)
        signal(SIGXFSZ, previousHandler)

        #expect(try outcome.get() == .retry(stored: 0, message: "write \(path): File too large"))
        #expect(try Self.contents(path) == prefill)
        #expect(try sink.write(batch) == .stored)
        #expect(try Self.lines(path).count == 4)
    }
}
