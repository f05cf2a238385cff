import Foundation
import Testing
@testable import LaForgeCore
@testable import LaForgePlugins
@testable import LaForgeTestSupport

/// docs/API.md runs as written: its configuration loads, every curl call and the Python example
/// succeed against a live server, and schemathesis finds the server keeping docs/api/openapi.yaml.
@Suite struct ServeGuideTests {
    static let root = CPluginBuilder.packageRoot.path
    static let docs = root + "/docs"

    static func guide() throws -> String { try String(contentsOfFile: docs + "/API.md", encoding: .utf8) }

    @Test func theConfigurationExampleLoads() throws {
        let yaml = try #require(try GuideCodeBlocks.blocks(in: Self.guide(), section: "Configuration", language: "yaml").first)
        let config = try LaForgeConfig.parse(text: "version: 1\n" + yaml, sourceName: "API.md")
        #expect(config.serve.socket == "/run/laforge/laforge.sock")
        #expect(config.serve.maxInFlight == 256)
        #expect(config.serve.clients.map(\.name) == ["billing", "auditors"])
        #expect(config.serve.client(uid: 1001, gid: 5)?.operations == [.emit, .authorize])
        #expect(config.serve.client(uid: 7, gid: 2000)?.name == "auditors")
        #expect(config.serve.client(uid: 7, gid: 7) == nil)
    }

    @Test func everyCallInTheGuideSucceedsAgainstTheServer() throws {
        let sandbox = try AuditSandbox()
        let server = try RunningServer(sandbox: sandbox, serve: ServeRoutesTests.identity + RunningServer.serveSection())
        let calls = try GuideCodeBlocks.blocks(in: Self.guide(), section: "Calls", language: "sh")
        #expect(calls.count >= 6)
        for call in calls {
            let result = try CLIRunner.runShell("set -e\n" + call, environment: ["SOCK": server.socketPath])
            #expect(result.status == 0, "\(call)\n\(result.output)")
            #expect(!result.stdout.contains(#""error":"#), "\(call)\n\(result.stdout)")
        }
        let python = try #require(try GuideCodeBlocks.blocks(in: Self.guide(), section: "From Python", language: "python").first)
        let script = sandbox.root + "/client.py"
        try python.write(toFile: script, atomically: true, encoding: .utf8)
        let run = try CLIRunner.runShell("python3 \(script)", environment: ["SOCK": server.socketPath])
        #expect(run.status == 0, "\(run.output)")
        #expect(run.stdout.hasPrefix("recorded seq "), "\(run.output)")
        #expect(server.stop() == 0)
        #expect(try sandbox.verifyChain().status == 0)
    }

    @Test func schemathesisFindsTheServerKeepingItsSpecification() throws {
        let python = try #require(testPythonInterpreter(), "no test Python: run scripts/test (it installs schemathesis into .build/venv)")
        let sandbox = try AuditSandbox()
        let server = try RunningServer(sandbox: sandbox, serve: ServeRoutesTests.identity + RunningServer.serveSection())
        let runner = Self.root + "/Tests/LaForgeTestSupport/Fixtures/serve/schemathesis_run.py"
        let result = try CLIRunner.runShell("\(python) \(runner) \(server.socketPath) \(Self.docs)/api/openapi.yaml 30")
        #expect(result.status == 0, "\(result.output.suffix(6000))")
        #expect(server.stop() == 0, "\(server.child.stderr.suffix(2000))")
    }
}
