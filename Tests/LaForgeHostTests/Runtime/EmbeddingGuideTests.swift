import Foundation
import LaForgeHost
import Logging
import ServiceLifecycle
import Testing
@testable import LaForgeTestSupport

/// docs/EMBEDDING.md shows the facade with code that must work: every Swift block of the guide is
/// in examples/embedding (built and run by `EmbeddingExampleTests`) or in this file, whose
/// functions below are the guide's blocks in their context and are run by the tests here.
@Suite struct EmbeddingGuideTests {
    @Test func everyGuideBlockIsCodeThatTheTestsCompile() throws {
        let root = CPluginBuilder.packageRoot
        let guide = try String(contentsOf: root.appendingPathComponent("docs/EMBEDDING.md"), encoding: .utf8)
        let sections = guide.components(separatedBy: "\n## ").dropFirst().map { $0.prefix { $0 != "\n" } }
        var blocks: [String] = []
        for section in sections {
            blocks += try GuideCodeBlocks.blocks(in: guide, section: String(section), language: "swift")
        }
        #expect(blocks.count >= 10)
        let sources = try [
            "Tests/LaForgeHostTests/Runtime/EmbeddingGuideTests.swift", "examples/embedding/Package.swift",
            "examples/embedding/Sources/EmbeddingExample/main.swift",
        ].map { try Self.unindented(String(contentsOf: root.appendingPathComponent($0), encoding: .utf8)) }
        for block in blocks {
            #expect(sources.contains { $0.contains(Self.unindented(block)) }, "docs/EMBEDDING.md block not found in the tested code:\n\(block)")
        }
    }

    /// Lines without their indentation: a block quoted from inside a function keeps its text.
    static func unindented(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.drop { $0 == " " } }.joined(separator: "\n")
    }

    /// A sandbox with the example plugin as the sink and as a secret backend holding
    /// `db-password`, and the `developers` role of the example.
    struct World {
        let sandbox: AuditSandbox
        let plugins: String
        let captured = CapturedLog()

        init() throws {
            sandbox = try AuditSandbox()
            plugins = try makePluginDirectory(["libexample_plugin.so": "examples/example_plugin.c"])
            try "db-password=correct horse\n".write(toFile: sandbox.root + "/secrets.env", atomically: true, encoding: .utf8)
            let yaml = """
                version: 1
                mode: development
                state_dir: \(sandbox.stateDirectory)
                secret_backends:
                  - name: dev
                    library: libexample_plugin.so
                    config: {secrets_file: \(sandbox.root)/secrets.env}
                audit:
                  sinks:
                    - name: example
                      library: libexample_plugin.so
                      config: {path: \(sandbox.root)/sink.lines}
                identity:
                  roles:
                    - name: developers
                      allow:
                        - actions: ["schema.*"]
                          resources: ["tenant/{tenant}/*"]
                """
            try yaml.write(toFile: sandbox.configPath, atomically: true, encoding: .utf8)
        }

        var sinkLines: [String] { ((try? sandbox.read(sandbox.root + "/sink.lines")) ?? "").split(separator: "\n").map(String.init) }
    }

    @Test func theGuideBlocksRun() throws {
        let world = try World()
        let runtime = try openFromATypedConfig(configPath: world.sandbox.configPath, pluginDirectory: world.plugins, logger: world.captured.logger)
        try runtime.start()
        try recordEvents(runtime)
        let decision = try authorizeAPrincipal(runtime)
        #expect(decision.allowed)
        #expect {
            try authorizeAToken(runtime, bearer: "not-a-token")
        } throws: { error in
            guard case LaForgeRuntimeError.identity(let identity) = error else { return false }
            return identity.kind == .notConfigured
        }
        var seen: [UInt8] = []
        try readASecret(runtime) { seen = Array($0) }
        #expect(seen == Array("correct horse".utf8))
        try FileManager.default.createDirectory(atPath: world.sandbox.root + "/schema", withIntermediateDirectories: true)
        try "create table users (id int);\n".write(toFile: world.sandbox.root + "/schema/001.sql", atomically: true, encoding: .utf8)
        let verdict = try signAndGuard(runtime, root: world.sandbox.root)
        #expect(verdict.isAllowed, "\(verdict.unmet)")
        printDeliveryStatus(runtime)
        let report = shutDown(runtime)
        #expect(report.isClean, "\(report)")
        // Three events, a guard decision and a snapshot signature; the sink holds every entry.
        let entryLines = world.sinkLines.filter { !$0.hasPrefix("checkpoint") }
        #expect(entryLines.count == Int(try #require(report.checkpointSize)))
        #expect(entryLines.count >= 5)
    }
}

// MARK: - The guide's blocks, in their context

/// "Open and start", from a typed value.
func openFromATypedConfig(configPath: String, pluginDirectory: String, logger: Logger) throws -> LaForgeRuntime {
    let config = try LaForgeConfig.load(path: configPath)
    let runtime = try LaForgeRuntime.open(
        config: config,
        options: .init(pluginDirectory: pluginDirectory, logger: logger, shutdownTimeoutMilliseconds: 10_000))
    return runtime
}

/// "Record events".
func recordEvents(_ runtime: LaForgeRuntime) throws {
    let receipt = try runtime.emit(
        AuditEvent(actor: AuditActor(user: "ada", roles: ["developers"]), action: "schema.change", target: "billing"))
    let batch = try runtime.emit([
        AuditEvent(actor: AuditActor(user: "ada"), action: "migration.apply", data: ["version": 42]),
        AuditEvent(actor: AuditActor(user: "ada"), action: "migration.verify", data: ["version": 42]),
    ])
    print("recorded seq \(receipt!.seq), then \(batch.map(\.seq)); hash \(receipt!.hash.hexString)")
}

/// "Authorize", a principal.
func authorizeAPrincipal(_ runtime: LaForgeRuntime) throws -> AuthorizationDecision {
    let ada = Principal(subject: "u-ada", roles: ["developers"], tenant: "acme", username: "ada")
    let decision = try runtime.authorize(ada, action: "schema.change", resource: "tenant/acme/schema")
    if !decision.allowed { print("denied: \(decision.reason)") }
    return decision
}

/// "Authorize", a bearer token.
func authorizeAToken(_ runtime: LaForgeRuntime, bearer: String) throws {
    let check = try runtime.authorize(token: bearer, action: "audit.read", resource: "tenant/acme/audit")
    print(check.decision.allowed ? "allow" : "deny: \(check.decision.reason)")
}

/// "Secrets": `connect` stands for the embedder's use of the value.
func readASecret(_ runtime: LaForgeRuntime, using: (UnsafeRawBufferPointer) -> Void) throws {
    func connect(password: UnsafeRawBufferPointer) { using(password) }
    let password = try runtime.secret("dev/db-password")
    password.withUnsafeBytes { bytes in connect(password: bytes) }
}

/// "Snapshots and the deployment guard".
func signAndGuard(_ runtime: LaForgeRuntime, root: String) throws -> DeploymentVerdict {
    let signed = try runtime.signSnapshot(paths: ["schema"], message: "release 42", actor: AuditActor(user: "ada"), root: root)
    let verdict = try runtime.guardDeploy(snapshot: "latest", requireSigned: true, actor: AuditActor(user: "deployer"), artifactRoot: root)
    print("snapshot \(signed.snapshot.shortID): \(verdict.isAllowed ? "may be deployed" : verdict.unmet.joined(separator: "; "))")
    return verdict
}

/// "Delivery status".
func printDeliveryStatus(_ runtime: LaForgeRuntime) {
    for status in runtime.deliveryStatus() {
        print("\(status.sink): \(status.lagEntries) entries behind for \(status.lagSeconds) s, "
            + "\(status.retries) retries, \(status.deadLetters) dead letters, last error: \(status.lastError ?? "none")")
    }
}

/// "Shut down".
func shutDown(_ runtime: LaForgeRuntime) -> LaForgeRuntime.ShutdownReport {
    let report = runtime.shutdown()
    if !report.isClean { print("not everything reached the sinks: \(report.caughtUp), \(report.problems)") }
    return report
}

/// "Beside a Swift server": compiled, not run here. Once a group with signals has run, this
/// process would ignore SIGTERM and SIGINT (UnixSignals sets them to SIG_IGN), and so would every
/// child process the other tests start: `LaForgeRuntimeTests` runs the runtime in a group
/// triggered by `triggerGracefulShutdown()` instead.
func runBesideAServer(configPath: String, server: some Service, logger: Logger) async throws {
    let runtime = try LaForgeRuntime.open(configPath: configPath, options: .init(logger: logger))
    let group = ServiceGroup(
        configuration: ServiceGroupConfiguration(
            services: [
                .init(service: runtime),
                .init(service: server),  // uses the runtime; stops first
            ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
    try await group.run()
}
