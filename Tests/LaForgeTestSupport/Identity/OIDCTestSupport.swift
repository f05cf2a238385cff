import Foundation
import HTTPClient
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

struct IdentityTestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

func identityTestPython() throws -> String {
    guard let python = ProcessInfo.processInfo.environment["LAFORGE_PYTHON"], !python.isEmpty else {
        throw IdentityTestFailure(
            "LAFORGE_PYTHON is not set: run the tests with scripts/test, which creates .build/venv with joserfc and oidc-provider-mock")
    }
    return python
}

/// The oidc-provider-mock that scripts/services/oidc started.
func mockIssuer() throws -> String {
    guard let issuer = ProcessInfo.processInfo.environment["LAFORGE_TEST_OIDC_ISSUER"], !issuer.isEmpty else {
        throw IdentityTestFailure(
            "LAFORGE_TEST_OIDC_ISSUER is not set: run the tests with scripts/test, which starts scripts/services/oidc (oidc-provider-mock)")
    }
    return issuer
}

func httpJSON(_ method: String, _ url: String, _ body: JSONValue? = nil) throws -> (status: Int, json: JSONValue?, response: HTTPResponse) {
    let client = try HTTPClient()
    let bytes = body.map { JSONCanonicalizer.canonicalize($0) } ?? []
    let response = try client.send(HTTPRequest(
        method: method, url: url, headers: body == nil ? [] : [HTTPHeader("Content-Type", "application/json")], body: bytes))
    return (response.status, try? JSONParser.parse(response.body), response)
}

/// Tests/LaForgeTestSupport/Fixtures/oidc/issuer.py, started for one test and stopped by PID: discovery,
/// a JWKS it can rotate, and forged tokens for the attack suite.
final class ControlledIssuer {
    let process = Process()
    let url: String

    /// `arguments`: issuer.py's options (`--tls CERT KEY`, `--jwks-uri URL`).
    init(arguments: [String] = []) throws {
        process.executableURL = URL(fileURLWithPath: try identityTestPython())
        process.arguments = [fixtureURL("oidc/issuer.py").path] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        try process.run()
        var line: [UInt8] = []
        while let byte = try output.fileHandleForReading.read(upToCount: 1)?.first, byte != UInt8(ascii: "\n") {
            line.append(byte)
        }
        guard let port = Int(String(decoding: line, as: UTF8.self)) else {
            process.terminate()
            throw IdentityTestFailure("issuer.py did not print its port (is joserfc installed in \(try identityTestPython())?)")
        }
        url = (arguments.contains("--tls") ? "https" : "http") + "://127.0.0.1:\(port)"
    }

    deinit {
        // SIGKILL: a child of Foundation's Process may inherit a mask that blocks SIGTERM.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// A token; `claims`/`header` override the defaults (iss this issuer, aud "laforge", sub
    /// "alice", 5 minutes of validity, typ at+jwt, the key's kid); a null value removes one.
    /// `utf8`: the payload carries non-ASCII text as raw UTF-8 rather than \u escapes.
    func forge(
        claims: [String: JSONValue] = [:], header: [String: JSONValue] = [:], key: String = "rsa", attack: String? = nil, utf8: Bool = false
    ) throws -> String {
        var request: [String: JSONValue] = ["claims": .object(claims), "header": .object(header), "key": .string(key)]
        if let attack { request["attack"] = .string(attack) }
        if utf8 { request["utf8"] = true }
        guard let token = try httpJSON("POST", url + "/forge", .object(request)).json?["token"]?.stringValue else {
            throw IdentityTestFailure("issuer.py did not forge a token")
        }
        return token
    }

    func rotate() throws -> String {
        guard let kid = try httpJSON("POST", url + "/rotate", .object([:])).json?["kid"]?.stringValue else {
            throw IdentityTestFailure("issuer.py did not rotate")
        }
        return kid
    }

    func jwksFetches() throws -> Int {
        try httpJSON("GET", url + "/stats").json?["jwks_fetches"]?.intValue ?? -1
    }
}

/// A sandbox whose config has one OIDC connector (the built libOIDCConnector.so).
final class IdentitySandbox {
    let root: String
    var stateDirectory: String { root + "/state" }
    var configPath: String { root + "/laforge.yaml" }

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("laforge-identity-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    /// `connector` is the connector's config mapping (indented 8 spaces); `rest` more of the
    /// identity section (indented 2 spaces).
    @discardableResult
    func writeConfig(connector: String, rest: String = "") throws -> String {
        let text = """
            version: 1
            mode: development
            state_dir: \(stateDirectory)
            identity:
              connectors:
                - name: corp
                  library: libOIDCConnector.so
                  config:
            \(connector)
            \(rest)
            """
        try text.write(toFile: configPath, atomically: true, encoding: .utf8)
        return configPath
    }

    /// The connector for `issuer` (client `laforge`) and one role, `readers`, that the subject
    /// `alice` holds and that allows `audit.read` on `resources`.
    @discardableResult
    func writeReadersConfig(issuer: String, resources: String) throws -> String {
        try writeConfig(
            connector: """
                        issuer: \(issuer)
                        client_id: laforge
                """,
            rest: """
                  claims_to_roles:
                    - claim: sub
                      value: alice
                      roles: [readers]
                  roles:
                    - name: readers
                      allow:
                        - actions: [audit.read]
                          resources: ["\(resources)"]
                """)
    }

    func runtime(log: CapturedLog = CapturedLog()) throws -> PluginRuntime {
        let config = try LaForgeConfig.load(path: configPath)
        return try PluginRuntime.start(config: config, options: .init(pluginDirectory: CLIRunner.buildDirectory, logger: log.logger))
    }

    func laforge(_ arguments: [String]) throws -> CLIResult {
        try CLIRunner.run(arguments + ["--config", configPath, "--plugin-dir", CLIRunner.buildDirectory])
    }
}
