import Foundation
import Testing
@testable import LaForgeCore
@testable import LaForgePlugins
@testable import LaForgeTestSupport

/// Every fenced `sh` and `yaml` block of README.md and docs/*.md is run or checked here, or is in
/// the reviewed skip list below with the test that covers it instead; a new block that is in
/// neither fails `everyBlockIsRunOrListed`, so no example can drift untested.
///
/// - yaml: decoded as a configuration (with `version: 1` put first when a fragment lacks it, every
///   `${env:}` given a value and every `${file:}` file created), then each plugin instance's
///   `config:` is checked against the schema of the built plugin it names.
/// - sh: run with bash (`set -e`) in a fresh folder, the built `laforge` first on PATH, after the
///   block's prelude.
@Suite struct DocBlockTests {
    struct Block: CustomStringConvertible {
        var file: String
        var index: Int
        var language: String
        var line: Int
        var text: String
        var id: String { "\(file)#\(index)" }
        var description: String { "\(file):\(line) (\(language) block \(index))" }
    }

    static let root = CPluginBuilder.packageRoot

    static func blocks() throws -> [Block] {
        let docs = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("docs").path)
            .filter { $0.hasSuffix(".md") }.sorted().map { "docs/" + $0 }
        var blocks: [Block] = []
        for file in ["README.md"] + docs {
            let lines = try String(contentsOf: root.appendingPathComponent(file), encoding: .utf8).components(separatedBy: "\n")
            var index = 0
            var number = 0
            while number < lines.count {
                let fence = lines[number]
                if fence == "```sh" || fence == "```yaml" {
                    var end = number + 1
                    while end < lines.count, !lines[end].hasPrefix("```") { end += 1 }
                    blocks.append(Block(
                        file: file, index: index, language: String(fence.dropFirst(3)), line: number + 1,
                        text: lines[(number + 1)..<end].joined(separator: "\n")))
                    index += 1
                    number = end
                }
                number += 1
            }
        }
        return blocks
    }

    /// Blocks that need an external system or a build this suite cannot run, each with the test
    /// that covers what it shows. Reviewed: keep it small.
    static let skipped: [String: String] = [
        "README.md#0": "the set-up and the whole test suite; the main job's commands: EmbeddedDefaultConfigTests.theMainJobRunsOutsideTheCheckout",
        "README.md#1": "a synopsis (alternatives in brackets, placeholders); each command: the CLI suites (CLIExitCodeTests, AuditCLI…, SnapshotCLI…)",
        "docs/ABI.md#0": "compiles the reader's own my_plugin.c; the same flags on the example plugin: CLIExitCodeTests.theExamplePluginPassesTheConformanceKit",
        "docs/ABI.md#1": "the tutorial's line_sink.c is built with these flags and checked by CSinkTutorialTests",
        "docs/API.md#0": "starts a server; ServeGuideTests runs docs/API.md against a live laforge serve",
        "docs/API.md#2": "needs a running server ($SOCK); ServeGuideTests runs every curl call of API.md",
        "docs/API.md#3": "needs a running server ($SOCK); ServeGuideTests",
        "docs/API.md#4": "needs a running server ($SOCK); ServeGuideTests",
        "docs/API.md#5": "needs a running server ($SOCK); ServeGuideTests",
        "docs/API.md#6": "needs a running server ($SOCK); ServeGuideTests",
        "docs/API.md#7": "needs a running server ($SOCK); ServeGuideTests",
        "docs/API.md#8": "needs a running server ($SOCK); ServeGuideTests",
        "docs/OPERATIONS.md#0": "/etc and /var paths beside a running serve; BackupDrillTests runs this block against a live laforge serve",
        "docs/PERFORMANCE.md#0": "release builds and benchmarks (minutes each); bench/ and laforge-bench",
        "docs/PERFORMANCE.md#1": "a release build and a PostgreSQL benchmark; laforge-bench postgres",
        "docs/POSTGRES.md#1": "needs a PostgreSQL admin DSN; PostgresAuditTests applies postgres-roles.sql",
        "docs/POSTGRES.md#2": "needs a PostgreSQL sink; PostgresAuditTests and PostgresTamperCorpusTests run verify chain --sink postgres",
        "docs/SECRETS.md#1": "needs a KMS (moto); SecretsCLITests run secrets get/encrypt/decrypt",
        "docs/SECRETS.md#3": "needs a KMS (moto); WrappedCheckpointKeyTests run keys wrap",
    ]

    /// Values for the `${env:}` variables yaml blocks use whose form a schema checks (others get a URL).
    static let environmentValues: [String: String] = [
        "LAFORGE_WEBHOOK_SECRET": "whsec_" + Data(repeating: 7, count: 32).base64EncodedString(),
        "LAFORGE_KMS_KEY_ID": "alias/laforge",
    ]

    /// What runs before an sh block (the state the prose around it assumes).
    static let preludes: [String: String] = [
        "docs/FILESINK.md#1": """
            printf 'version: 1\\nstate_dir: state\\naudit:\\n  sinks:\\n    - name: file\\n      library: libFileSink.so\\n      config:\\n        path: audit/audit.ndjson\\n' > laforge.yaml
            export LAFORGE_CONFIG="$PWD/laforge.yaml"
            laforge audit emit --actor bob --action rbac.revoke
            """,
    ]

    @Test func everyBlockIsRunOrListed() throws {
        let blocks = try Self.blocks()
        #expect(blocks.count >= 25)
        let ids = Set(blocks.map(\.id))
        for stale in Set(Self.skipped.keys).union(Self.preludes.keys).subtracting(ids) {
            Issue.record("\(stale) is listed here but no such block exists any more")
        }
    }

    @Test(arguments: try DocBlockTests.blocks().filter { $0.language == "yaml" && skipped[$0.id] == nil })
    func yamlBlockIsAValidConfiguration(_ block: Block) throws {
        let directory = try makePluginDirectory([:])
        var text = block.text
        if !text.contains("version:") { text = "version: 1\n" + text }
        var environment: [String: String] = [:]
        for match in text.matches(of: #/\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/#) {
            environment[String(match.1)] = Self.environmentValues[String(match.1)] ?? "https://value.example/x"
        }
        for match in text.matches(of: #/\$\{file:([^}]+)\}/#) {
            let path = directory + "/" + match.1
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try "us-east-1".write(toFile: path, atomically: true, encoding: .utf8)
        }
        for match in text.matches(of: #/key_file: (\S+\.pub)\b/#) {
            let result = try CLIRunner.run(["keys", "generate", "--out", directory + "/" + String(match.1.dropLast(4))])
            #expect(result.status == 0, "\(result.output)")
        }
        let config: LaForgeConfig
        do {
            config = try LaForgeConfig.parse(text: text, sourceName: block.description, baseDirectory: directory, environment: environment)
        } catch {
            Issue.record("\(block): \(error)")
            return
        }
        for instance in config.pluginInstances {
            let library = try PluginLibrary.open(path: CLIRunner.buildDirectory + "/" + instance.library)
            let check = try PluginSchemaCheck(schemaText: library.descriptor.configSchemaText(for: instance.role.capability), library: instance.library)
            if case .failure(let violations) = check.normalize(instance.config?.toJSON() ?? .object([:])) {
                Issue.record("\(block): \(instance.name): \(violations)")
            }
        }
    }

    @Test(arguments: try DocBlockTests.blocks().filter { $0.language == "sh" && skipped[$0.id] == nil })
    func shBlockRuns(_ block: Block) throws {
        let directory = try makePluginDirectory([:])
        let script = "set -e\ncd \(directory)\nexport PATH=\(CLIRunner.buildDirectory):$PATH\n"
            + (Self.preludes[block.id].map { $0 + "\n" } ?? "") + block.text + "\n"
        let result = try CLIRunner.runShell("bash -c \(shellQuoted(script))")
        #expect(result.status == 0, "\(block) failed:\n\(result.output)")
    }

    /// README's `keys generate --out keys/release` in a fresh folder: the missing parents are
    /// created owner-only, an existing folder keeps its mode.
    @Test func keysGenerateCreatesMissingFoldersOwnerOnly() throws {
        let directory = try makePluginDirectory([:])
        let result = try CLIRunner.run(["keys", "generate", "--out", "keys/release", "--name", "release-2026"], in: directory)
        #expect(result.status == 0, "\(result.output)")
        let attributes = try FileManager.default.attributesOfItem(atPath: directory + "/keys")
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o700)
        let key = try FileManager.default.attributesOfItem(atPath: directory + "/keys/release")
        #expect((key[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(FileManager.default.fileExists(atPath: directory + "/keys/release.pub"))
        // A bare one-letter name in the working directory (no folder to create).
        #expect(try CLIRunner.run(["keys", "generate", "--out", "k"], in: directory).status == 0)
        let nested = try CLIRunner.run(["keys", "generate", "--out", directory + "/a/b/c/key"])
        #expect(nested.status == 0, "\(nested.output)")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory + "/keys")
        #expect(try CLIRunner.run(["keys", "generate", "--out", "keys/second"], in: directory).status == 0)
        #expect((try FileManager.default.attributesOfItem(atPath: directory + "/keys")[.posixPermissions] as? NSNumber)?.intValue == 0o755)
    }

    func shellQuoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: #"'\''"#) + "'" }
}
