import Foundation
import Testing
@testable import LaForgeTestSupport

/// examples/embedding, built and run as a user who cloned it would: a package of its own that
/// gets LaForge by URL. The URL is mapped (`swift package config set-mirror`) to a git
/// repository made from this checkout's files, in a temporary copy of the example, with its own
/// scratch path. A first build compiles the host and its dependencies: minutes, so this is one
/// test that does everything once.
@Suite(.serialized) struct EmbeddingExampleTests {
    static let url = "https://github.com/laforge/laforge-runtime"

    @Test(.timeLimit(.minutes(30))) func theExampleBuildsByURLEmitsToAFileSinkAuthorizesAndShutsDown() throws {
        let root = CPluginBuilder.packageRoot.standardizedFileURL.path
        let temporary = FileManager.default.temporaryDirectory.appendingPathComponent("laforge-embedding-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        let repository = temporary + "/laforge-runtime"
        let example = temporary + "/example"
        let log = temporary + "/commands.log"

        // The repository the URL stands for: this checkout's files (tracked or new, not
        // ignored) committed on `main`, the branch the example asks for.
        try shell("""
            mkdir -p '\(repository)' && cd '\(root)' && git ls-files -z -co --exclude-standard | xargs -0 cp --parents -t '\(repository)' \
            && cd '\(repository)' && git init -q -b main && git add -A \
            && git -c user.name=test -c user.email=test@example.invalid commit -q -m checkout
            """, log: log)
        try shell("cp -R '\(root)/examples/embedding' '\(example)' && rm -rf '\(example)/.build' '\(example)/.laforge-example'", log: log)

        let manifest = try String(contentsOfFile: example + "/Package.swift", encoding: .utf8)
        #expect(manifest.contains(#".package(url: "\#(Self.url)""#), "the example must depend on LaForge by URL")
        try shell("cd '\(example)' && swift package config set-mirror --original \(Self.url) --mirror '\(repository)'", log: log)

        // As examples/embedding/README.md says: plugins from a LaForge build, then swift run.
        let run = try shell(
            "cd '\(example)' && LAFORGE_PLUGIN_DIR='\(CLIRunner.buildDirectory)' swift run --scratch-path '\(temporary)/scratch' EmbeddingExample",
            log: log, check: false)
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.contains("recorded seq 0 "))
        #expect(run.output.contains("schema.change on tenant/acme/schema: allow"))
        #expect(run.output.contains("schema.change on tenant/globex/schema: deny"))
        #expect(run.output.contains("sink file: has everything"))

        // The event (and the denial) reached the FileSink, and the file verifies as a chain.
        let sinkFile = try String(contentsOfFile: example + "/.laforge-example/audit.ndjson", encoding: .utf8)
        #expect(sinkFile.contains(#""action":"schema.change""#))
        #expect(sinkFile.contains(#""action":"auth.deny""#))
        #expect(run.output.contains("final checkpoint covers 2 entries"))
        let verify = try CLIRunner.run(
            ["verify", "chain", "--config", "laforge.yaml", "--sink", "file", "--plugin-dir", CLIRunner.buildDirectory], in: example)
        #expect(verify.status == 0, "\(verify.output)")
    }

    /// Runs `command` with /bin/sh, its output in a file (a build prints more than a pipe holds).
    @discardableResult
    func shell(_ command: String, log: String, check: Bool = true) throws -> (status: Int32, output: String) {
        let output = log + ".last"
        let result = try CLIRunner.runShell("(\(command)) > '\(output)' 2>&1")
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        if check && result.status != 0 { throw AuditTestFailure("`\(command)` failed (\(result.status)):\n\(text)") }
        return (result.status, text)
    }
}
