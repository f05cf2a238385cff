import Foundation

import LaForgeAudit
import LaForgeCore
import LaForgeGovernance
import LaForgeIdentity
import LaForgeJournal
import LaForgePlugins
import LaForgeSecrets

/// A snapshot test's own world: an `AuditSandbox` (state dir, config file) plus a `work/` folder
/// holding the artifacts, where `laforge` runs so relative artifact paths resolve there.
final class SnapshotSandbox {
    let audit: AuditSandbox
    var root: String { audit.root }
    var work: String { audit.root + "/work" }
    var configPath: String { audit.configPath }
    var stateDirectory: String { audit.stateDirectory }
    var chainPath: String { stateDirectory + "/snapshots/chain.ndjson" }
    var approvalsPath: String { stateDirectory + "/snapshots/approvals.ndjson" }

    init(mode: String = "development", extra: String = "") throws {
        audit = try AuditSandbox()
        try FileManager.default.createDirectory(atPath: work + "/db", withIntermediateDirectories: true)
        try writeConfig(mode: mode, extra: extra)
        try write("db/schema.sql", "create table accounts (id bigint primary key, owner text not null);\n")
        try write("db/m0001.sql", "alter table accounts add column created_at timestamptz;\n")
        try write("policy/rls.json", #"{"accounts": "owner = current_user"}"# + "\n")
    }

    /// `extra` is YAML appended at the top level (`snapshots:`, `approvals:`, `trusted_keys:` …).
    func writeConfig(mode: String = "development", extra: String = "") throws {
        let text = "version: 1\nmode: \(mode)\nstate_dir: \(stateDirectory)\n" + extra
        try text.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    /// Writes an artifact below `work/`.
    func write(_ relative: String, _ text: String) throws {
        let path = work + "/" + relative
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// Runs `laforge <arguments> --config …` in `work/`.
    func laforge(_ arguments: [String]) throws -> CLIResult {
        try CLIRunner.run(arguments + ["--config", configPath, "--plugin-dir", CLIRunner.buildDirectory], in: work)
    }

    /// `snapshot sign … --json`: the new snapshot's full hash.
    @discardableResult
    func sign(_ paths: [String], actor: String = "alice", message: String? = nil) throws -> String {
        var arguments = ["snapshot", "sign"] + paths + ["--actor", actor, "--json"]
        if let message { arguments += ["--message", message] }
        let result = try laforge(arguments)
        guard result.status == 0, let hash = try JSONParser.parse(result.stdout)["hash"]?.stringValue else {
            throw AuditTestFailure("snapshot sign failed (\(result.status)): \(result.output)")
        }
        return hash
    }

    /// `verify chain --snapshots --json`: status and report.
    func verifySnapshots(_ extra: [String] = []) throws -> (status: Int32, report: JSONValue?, result: CLIResult) {
        let result = try laforge(["verify", "chain", "--snapshots", "--json"] + extra)
        return (result.status, try? JSONParser.parse(result.stdout), result)
    }

    /// The chain file's lines.
    func chainLines() throws -> [String] {
        try String(contentsOfFile: chainPath, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    func writeChain(_ lines: [String]) throws {
        try lines.map { $0 + "\n" }.joined().write(toFile: chainPath, atomically: true, encoding: .utf8)
    }

    /// Creates a key pair with `laforge keys generate` under `root/keys/`; returns the private
    /// key's path and the verifier key text.
    func generateKey(_ name: String) throws -> (path: String, verifier: String) {
        let path = root + "/keys/\(name)"
        try FileManager.default.createDirectory(atPath: root + "/keys", withIntermediateDirectories: true)
        let result = try CLIRunner.run(["keys", "generate", "--out", path, "--name", name])
        guard result.status == 0 else { throw AuditTestFailure("keys generate failed: \(result.output)") }
        return (path, try String(contentsOfFile: path + ".pub", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// The host's view of the configuration.
    func config() throws -> LaForgeConfig { try LaForgeConfig.load(path: configPath) }

    /// Kinds of the problems in a `verify chain --snapshots --json` report.
    static func problemKinds(_ report: JSONValue?) -> [String] {
        report?["problems"]?.arrayValue?.compactMap { $0["kind"]?.stringValue } ?? []
    }
}

/// A field of one chain line replaced (the line re-serialized canonically).
func replacing(_ line: String, _ change: (inout [String: JSONValue]) -> Void) throws -> String {
    guard case .object(var members) = try JSONParser.parse(line) else { throw AuditTestFailure("not an object: \(line)") }
    change(&members)
    return JSONCanonicalizer.canonicalString(.object(members))
}
