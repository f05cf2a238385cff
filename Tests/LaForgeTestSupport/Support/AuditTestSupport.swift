import Foundation
import LaForgeAudit
import LaForgeCore
import LaForgeGovernance
import LaForgeIdentity
import LaForgeJournal
import LaForgePlugins
import LaForgeSecrets

#if canImport(Glibc)
    import Glibc
#endif

/// One audit test's own world: a temporary folder holding the configuration file (written by the
/// test), the state directory and any sink files, removed at the end. Every path in the YAML is
/// absolute, so the CLI and the host API see the same files whatever the working directory.
final class AuditSandbox {
    let root: String
    var stateDirectory: String { root + "/state" }
    var configPath: String { root + "/laforge.yaml" }

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("laforge-audit-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    /// Writes `laforge.yaml`: `version`, `state_dir` and the `audit:` section given (indented by
    /// the caller as it appears under `audit:`).
    @discardableResult
    func writeConfig(audit: String, named name: String = "laforge.yaml") throws -> String {
        let path = root + "/" + name
        let text = "version: 1\nmode: development\nstate_dir: \(stateDirectory)\naudit:\n" + audit
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The configuration as the host reads it.
    func config(_ path: String? = nil) throws -> LaForgeConfig {
        try LaForgeConfig.load(path: path ?? configPath)
    }

    /// Runs `laforge <arguments> --config … --plugin-dir <build dir>` in the sandbox.
    func laforge(_ arguments: [String], config: String? = nil) throws -> CLIResult {
        try CLIRunner.run(
            arguments + ["--config", config ?? configPath, "--plugin-dir", CLIRunner.buildDirectory], in: root)
    }

    /// `verify chain --json` (plus `extra` arguments): the exit status and the parsed report.
    func verifyChain(_ extra: [String] = [], config: String? = nil) throws -> (status: Int32, report: JSONValue?, result: CLIResult) {
        let result = try laforge(["verify", "chain", "--json"] + extra, config: config)
        return (result.status, try? JSONParser.parse(result.stdout), result)
    }

    /// Every journal entry as `laforge audit tail --json` prints it, with its leaf hash.
    func journalEntries() throws -> [(seq: UInt64, hash: String, entry: JSONValue)] {
        let result = try laforge(["audit", "tail", "-n", "1000000", "--json"])
        guard result.status == 0 else { throw AuditTestFailure("audit tail failed: \(result.output)") }
        return try result.stdout.split(separator: "\n").map { line in
            let bytes = Array(line.utf8)
            let entry = try JSONParser.parse(bytes)
            guard let seq = entry["seq"]?.intValue else { throw AuditTestFailure("no seq in \(line)") }
            return (UInt64(seq), SHA256.leafHash(bytes).hexString, entry)
        }
    }

    func read(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }
}

extension AuditSandbox {
    /// A FileSink `file` rotated by size (about 2000 bytes a file, a checkpoint every 3
    /// entries), holding `count` delivered entries; returns the active file's path.
    func deliveredRotatedFileSink(count: Int = 40) throws -> String {
        let path = root + "/sink/audit.ndjson"
        try writeConfig(audit: """
              checkpoints:
                every_entries: 3
                every_ms: 0
              sinks:
                - name: file
                  library: libFileSink.so
                  config:
                    path: \(path)
                    rotate_bytes: 2000
            """)
        let log = try AuditLog.open(config: config(), logger: CapturedLog().logger)
        for seq in 0..<count { try log.emit(auditEvent("u\(seq)", data: ["n": .number(Double(seq))])) }
        try log.close()
        let deliver = try laforge(["audit", "deliver", "--timeout", "30"])
        guard deliver.status == 0 else { throw AuditTestFailure("setting the scenario up, audit deliver failed: \(deliver.output)") }
        return path
    }
}

struct AuditTestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// One NDJSON event line as `laforge audit emit --stdin` reads it.
func auditEventLine(user: String, action: String = "schema.change", data: [String: JSONValue] = [:]) -> String {
    JSONCanonicalizer.canonicalString(.object([
        "actor": .object(["user": .string(user)]), "action": .string(action), "data": .object(data),
    ]))
}

/// An event for the host API.
func auditEvent(_ user: String, action: String = "schema.change", data: [String: JSONValue] = [:]) -> AuditEvent {
    AuditEvent(actor: AuditActor(user: user), action: action, data: data)
}

/// `--json-output` receipts: `[{"hash": …, "seq": …}, …]`.
func parseReceipts(_ stdout: String) throws -> [(seq: UInt64, hash: String)] {
    guard let array = try JSONParser.parse(stdout).arrayValue else { throw AuditTestFailure("not a JSON array: \(stdout)") }
    return try array.map { item in
        guard let seq = item["seq"]?.intValue, let hash = item["hash"]?.stringValue else {
            throw AuditTestFailure("not a receipt: \(item)")
        }
        return (UInt64(seq), hash)
    }
}

/// A `laforge` child the test starts and may kill; its output goes to files (no pipe to drain,
/// so a killed or chatty child never blocks the test).
final class LaForgeChild {
    let process = Process()
    private let stdoutPath: String
    private let stderrPath: String
    private let input: Pipe?

    init(_ arguments: [String], in directory: String, tag: String, standardInput: Bool = false, shell: String? = nil) throws {
        stdoutPath = directory + "/child-\(tag).out"
        stderrPath = directory + "/child-\(tag).err"
        _ = FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        if let shell {
            // `shell` is a bash prefix such as `trap "" XFSZ; ulimit -f 8;`; the arguments are
            // passed as "$@" so nothing needs quoting.
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = ["-c", shell + " exec \"$0\" \"$@\"", CLIRunner.buildDirectory + "/laforge"] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: CLIRunner.buildDirectory + "/laforge")
            process.arguments = arguments
        }
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "LAFORGE_CONFIG")
        process.environment = environment
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.standardOutput = FileHandle(forWritingAtPath: stdoutPath)
        process.standardError = FileHandle(forWritingAtPath: stderrPath)
        if standardInput {
            let pipe = Pipe()
            process.standardInput = pipe
            input = pipe
        } else {
            process.standardInput = FileHandle.nullDevice
            input = nil
        }
        try process.run()
    }

    func send(_ text: String) {
        input?.fileHandleForWriting.write(Data(text.utf8))
    }

    func closeInput() {
        try? input?.fileHandleForWriting.close()
    }

    func kill() { Glibc.kill(process.processIdentifier, SIGKILL) }

    /// Waits for the exit; the status, or `nil` when a signal ended it.
    @discardableResult
    func wait() -> Int32? {
        process.waitUntilExit()
        return process.terminationReason == .exit ? process.terminationStatus : nil
    }

    var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }
}

/// Polls `condition` every 10 ms until it holds or `seconds` pass; whether it held. For waiting on
/// another thread or process, never for deciding correctness by elapsed time.
func eventually(within seconds: Double = 30, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        usleep(10_000)
    }
    return try condition()
}
