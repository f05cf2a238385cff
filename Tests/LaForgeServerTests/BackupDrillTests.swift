import Foundation
import Testing
@testable import LaForgeTestSupport

@testable import LaForgeAudit
@testable import LaForgeCore
@testable import LaForgeJournal

#if canImport(Glibc)
    import Glibc
#endif

/// The backup drill of docs/OPERATIONS.md, run as the guide shows it: `backup create` while
/// `laforge serve` takes events, `backup verify`, `backup restore` into a new directory, then
/// the restored chain verifies, new emits continue it, and every restored checkpoint is byte for
/// byte the original's. Also: a damaged backup is refused naming the member, a restore never
/// overwrites, and a plain private key is only in a backup when asked for.
@Suite struct BackupDrillTests {
    static let guide = CPluginBuilder.packageRoot.appendingPathComponent("docs/OPERATIONS.md").path

    /// The guide's drill lines with its install paths mapped into the sandbox.
    static func drill(_ sandbox: AuditSandbox) throws -> [String] {
        let text = try String(contentsOfFile: guide, encoding: .utf8)
        let blocks = try GuideCodeBlocks.blocks(in: text, section: "Backup and restore", language: "sh")
        return blocks.joined(separator: "\n").split(separator: "\n").map(String.init)
            .filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty && !$0.hasPrefix("#") }
            .map {
                $0.replacingOccurrences(of: "/etc/laforge/laforge.yaml", with: sandbox.configPath)
                    .replacingOccurrences(of: "/var/backups/laforge", with: sandbox.root + "/backups")
                    .replacingOccurrences(of: "/var/lib/laforge-restored", with: sandbox.root + "/restored")
            }
    }

    static func run(_ line: String) throws -> CLIResult {
        try CLIRunner.runShell(line, environment: ["PATH": CLIRunner.buildDirectory + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")])
    }

    static func checkpoints(_ journal: String) throws -> [UInt64: [UInt8]] {
        let reader = JournalFileReader(directory: journal)
        let extent = try reader.extent()
        let (frames, problem) = reader.checkpoints(upTo: extent.checkpointLogSize)
        if let problem { throw AuditTestFailure("\(journal): \(problem)") }
        return Dictionary(frames.map { ($0.0.size, $0.0.payload) }, uniquingKeysWith: { first, _ in first })
    }

    @Test func backupUnderLoadRestoresToAChainThatVerifiesAndContinues() throws {
        let sandbox = try AuditSandbox()
        let server = try RunningServer(sandbox: sandbox, audit: "  journal:\n    fsync: group\n  checkpoints:\n    every_ms: 50\n")
        try FileManager.default.createDirectory(atPath: sandbox.root + "/backups", withIntermediateDirectories: true)
        let stop = StopFlag()
        let emitted = LockedCounter()
        let emitter = Thread {
            var index = 0
            while !stop.isSet {
                if (try? server.request("POST", "/v1/audit/events", body: auditEventLine(user: "load-\(index)")))?.status == 200 { emitted.add() }
                index += 1
            }
        }
        emitter.start()
        #expect(eventually(within: 60) { emitted.value >= 20 })

        let lines = try Self.drill(sandbox)
        #expect(lines.count == 4 && lines[0].contains("backup create") && lines[2].contains("backup restore"), "\(lines)")
        let create = try Self.run(lines[0])
        let duringLoad = emitted.value
        #expect(create.status == 0, "\(create.output)")
        #expect(eventually(within: 60) { emitted.value >= duringLoad + 20 }, "serve stopped taking events during the backup")
        stop.set()
        while !emitter.isFinished { usleep(10_000) }
        #expect(server.stop() == 0, "\(server.child.stderr)")

        let verify = try Self.run(lines[1])
        #expect(verify.status == 0, "\(verify.output)")
        let backupFile = sandbox.root + "/backups/laforge.backup"
        let summary = try JSONParser.parse(try Self.run("laforge backup verify --json \(backupFile)").stdout)
        let entries = try #require(summary["journal_entries"]?.intValue)
        #expect(entries >= 20 && summary["private_keys"]?.stringValue == "plain", "\(summary)")

        let restore = try Self.run(lines[2])
        #expect(restore.status == 0, "\(restore.output)")
        let again = try Self.run(lines[2])
        #expect(again.status == 2 && again.stderr.contains("never overwrites"), "\(again.output)")

        let restoredVerify = try Self.run(lines[3])
        #expect(restoredVerify.status == 0, "\(restoredVerify.output)")
        let restoredDir = sandbox.root + "/restored"
        let restoredConfig = sandbox.root + "/restored.yaml"
        try sandbox.read(sandbox.configPath).replacingOccurrences(of: "state_dir: \(sandbox.stateDirectory)", with: "state_dir: \(restoredDir)")
            .write(toFile: restoredConfig, atomically: true, encoding: .utf8)
        let report = try sandbox.verifyChain(config: restoredConfig)
        #expect(report.status == 0 && report.report?["entries"]?.intValue == entries, "\(report.result.output)")

        // Every restored checkpoint is the original's, byte for byte; the newest signs the backup.
        let original = try Self.checkpoints(sandbox.stateDirectory + "/journal")
        let restored = try Self.checkpoints(restoredDir + "/journal")
        #expect(!restored.isEmpty && restored.keys.max() == UInt64(entries))
        for (size, payload) in restored { #expect(original[size] == payload, "checkpoint \(size) differs from the original's") }

        // New emits continue the restored chain, under the same key.
        for index in 0..<3 {
            let emit = try CLIRunner.runShell("laforge audit emit --config \(restoredConfig) --stdin <<'EOF'\n\(auditEventLine(user: "after-\(index)"))\nEOF", environment: ["PATH": CLIRunner.buildDirectory + ":/usr/bin:/bin"])
            #expect(emit.status == 0, "\(emit.output)")
        }
        let continued = try sandbox.verifyChain(config: restoredConfig)
        #expect(continued.status == 0, "\(continued.result.output)")
        #expect(continued.report?["entries"]?.intValue == entries + 3)
        #expect(continued.report?["last_checkpoint_size"]?.intValue == entries + 3, "\(continued.result.stdout)")
        #expect(try Self.checkpoints(restoredDir + "/journal")[UInt64(entries)] == original[UInt64(entries)])
    }

    @Test func aDamagedBackupIsRefusedAndPlainKeysStayOutUnlessAsked() throws {
        let sandbox = try AuditSandbox()
        try sandbox.writeConfig(audit: "  checkpoints:\n    every_entries: 2\n")
        let log = try AuditLog.open(config: sandbox.config(), logger: CapturedLog().logger)
        for index in 0..<4 { try log.emit(auditEvent("u\(index)")) }
        try log.close()

        let file = sandbox.root + "/plain.backup"
        let create = try sandbox.laforge(["backup", "create", "--out", file, "--json"])
        #expect(create.status == 0, "\(create.output)")
        #expect(create.stderr.contains("keys/checkpoint is a private key not wrapped by a KMS key: left out"), "\(create.output)")
        let manifest = try JSONParser.parse(create.stdout)
        #expect(manifest["excluded_private_keys"]?.arrayValue == [.string("keys/checkpoint")])
        let listing = try CLIRunner.runExecutable("/usr/bin/tar", ["-tf", file])
        #expect(listing.status == 0 && listing.stdout.contains("state/keys/checkpoint.pub"), "\(listing.output)")
        #expect(!listing.stdout.split(separator: "\n").contains("state/keys/checkpoint"))
        #expect(!((try? String(contentsOfFile: file, encoding: .isoLatin1)) ?? "").contains("PRIVATE+KEY"))

        let again = try sandbox.laforge(["backup", "create", "--out", file])
        #expect(again.status == 2 && again.stderr.contains("never overwrites"), "\(again.output)")

        // One byte of the journal segment changed: the member is named, nothing is restored.
        var bytes = try #require(FileManager.default.contents(atPath: file).map { [UInt8]($0) })
        let marker = Array("\"u2\"".utf8)
        let at = try #require((0..<(bytes.count - marker.count)).first { Array(bytes[$0..<$0 + marker.count]) == marker })
        bytes[at + 1] = UInt8(ascii: "X")
        let damaged = sandbox.root + "/damaged.backup"
        try Data(bytes).write(to: URL(fileURLWithPath: damaged))
        let verify = try sandbox.laforge(["backup", "verify", damaged])
        #expect(verify.status == 1 && verify.stderr.contains("state/journal/entries-"), "\(verify.output)")
        let restore = try sandbox.laforge(["backup", "restore", damaged, "--state-dir", sandbox.root + "/never"])
        #expect(restore.status == 1, "\(restore.output)")
        #expect(!FileManager.default.fileExists(atPath: sandbox.root + "/never"))

        let cut = sandbox.root + "/cut.backup"
        try Data(bytes.prefix(bytes.count / 2)).write(to: URL(fileURLWithPath: cut))
        let cutVerify = try sandbox.laforge(["backup", "verify", cut])
        #expect(cutVerify.status == 1 && cutVerify.stderr.contains("cut short"), "\(cutVerify.output)")
        let missing = try sandbox.laforge(["backup", "verify", sandbox.root + "/nothing.backup"])
        #expect(missing.status == 2 && missing.stderr.contains("nothing.backup: cannot read"), "\(missing.output)")
    }
}

private final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false
    var isSet: Bool { lock.withLock { stopped } }
    func set() { lock.withLock { stopped = true } }
}

private final class LockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    var value: Int { lock.withLock { count } }
    func add() { lock.withLock { count += 1 } }
}
