import Foundation
import Testing

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

/// The moto server `scripts/services/moto` started, prepared once per test process by
/// `Fixtures/kms-fakes/moto_setup.py` (IAM users, KMS keys, secrets, then signature checking on).
struct MotoFixture: Sendable {
    let url: String
    let adminKeyID: String
    let adminSecret: String
    let limitedKeyID: String
    let limitedSecret: String
    let roleARN: String
    let keyID: String
    let keyARN: String
    let otherKeyID: String
    let dbPassword: String
    let previousPassword: String
    let binaryHex: String

    private static let prepared: Result<MotoFixture, AuditTestFailure> = {
        guard let url = ProcessInfo.processInfo.environment["LAFORGE_TEST_MOTO_URL"], !url.isEmpty else {
            return .failure(AuditTestFailure(
                "LAFORGE_TEST_MOTO_URL is not set: run the tests with scripts/test, which starts moto (scripts/services/moto)"))
        }
        do {
            let output = try runPython(fixtureURL("kms-fakes/moto_setup.py").path, [url])
            let json = try JSONParser.parse(output)
            func text(_ path: String...) throws -> String {
                var value: JSONValue? = json
                for key in path { value = value?[key] }
                guard case .string(let string)? = value else { throw AuditTestFailure("moto_setup.py printed no \(path)") }
                return string
            }
            return .success(MotoFixture(
                url: url, adminKeyID: try text("admin", "id"), adminSecret: try text("admin", "secret"),
                limitedKeyID: try text("limited", "id"), limitedSecret: try text("limited", "secret"), roleARN: try text("role_arn"),
                keyID: try text("key_id"), keyARN: try text("key_arn"), otherKeyID: try text("other_key_id"),
                dbPassword: try text("db_password"), previousPassword: try text("previous_password"), binaryHex: try text("binary_hex")))
        } catch let failure as AuditTestFailure {
            return .failure(failure)
        } catch {
            return .failure(AuditTestFailure("moto setup failed: \(error)"))
        }
    }()

    static func shared() throws -> MotoFixture { try prepared.get() }

    /// Every secret the fixture knows: none may appear in captured output.
    var secrets: [String] { [adminSecret, limitedSecret, dbPassword, previousPassword] }

    /// A KMSSecrets AWS backend config (YAML mapping lines under `config:`), credentials from the config.
    func backendConfig(keyID: String? = nil, accessKey: String? = nil, secret: String? = nil, extra: String = "") -> String {
        """
                  provider: aws
                  region: us-east-1
                  endpoint: \(url)
                  secrets_endpoint: \(url)
                  key_id: \(keyID ?? self.keyID)
                  access_key_id: \(accessKey ?? adminKeyID)
                  secret_access_key: "\(secret ?? adminSecret)"
                  credential_sources: [config]
                  max_attempts: 2
                  retry_base_ms: 5
        \(extra)
        """
    }
}

/// Runs a Python script from the venv and returns its stdout (stderr goes into the error).
func runPython(_ script: String, _ arguments: [String], stdin: String? = nil, environment: [String: String] = [:]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: try testPython())
    process.arguments = [script] + arguments
    var env = ProcessInfo.processInfo.environment
    env.merge(environment) { $1 }
    process.environment = env
    let out = Pipe()
    let err = Pipe()
    let input = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = input
    try process.run()
    if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
    try input.fileHandleForWriting.close()
    let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
    let stderrData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw AuditTestFailure("\(script) failed (\(process.terminationStatus)): \(String(decoding: stderrData, as: UTF8.self))")
    }
    return String(decoding: stdoutData, as: UTF8.self)
}

/// A runtime with one KMSSecrets secret backend named `kms` (its config lines as given) and,
/// optionally, more YAML after it.
func startKMSRuntime(_ backendConfig: String, log: CapturedLog, extra: String = "") throws -> PluginRuntime {
    let yaml = """
        version: 1
        secret_backends:
          - name: kms
            library: libKMSSecrets.so
            config:
        \(backendConfig)
        \(extra)
        """
    return try startRuntime(yaml, pluginDirectory: CLIRunner.buildDirectory, log: log)
}

/// Fails the test when any of `secrets` occurs in `text`.
func expectNoSecrets(_ text: String, _ secrets: [String], sourceLocation: SourceLocation = #_sourceLocation) {
    for secret in secrets where !secret.isEmpty {
        #expect(!text.contains(secret), "a secret value appeared in captured output", sourceLocation: sourceLocation)
    }
}

extension Array where Element == UInt8 {
    var base64: String { Data(self).base64EncodedString() }
}

/// A fake from `Fixtures/kms-fakes/` (TLS on a free port of 127.0.0.1, certificate from a
/// `TestPKI`), stopped by its PID. It prints its port when it listens; requests go to `log`.
final class KMSFakeServer {
    let process = Process()
    let port: Int
    let log: String
    let pki: TestPKI
    private let stderrPath: String

    var url: String { "https://127.0.0.1:\(port)" }

    init(_ script: String, _ arguments: [String], directory: String) throws {
        pki = try TestPKI(in: directory)
        log = directory + "/\(script).requests.ndjson"
        stderrPath = directory + "/\(script).stderr"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: try testPython())
        process.arguments = [fixtureURL("kms-fakes/\(script)").path, "--log", log, "--cert", pki.serverCertificate, "--key", pki.serverKey]
            + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle(forWritingAtPath: stderrPath)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while true {
            let byte = output.fileHandleForReading.readData(ofLength: 1)
            if byte.isEmpty || byte == Data("\n".utf8) { break }
            line.append(byte)
        }
        guard let port = Int(String(decoding: line, as: UTF8.self)) else {
            process.waitUntilExit()
            throw AuditTestFailure("\(script) did not start: \((try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "")")
        }
        self.port = port
    }

    deinit { stop() }

    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// POST /control: inject faults (`{"throttle": 2}`) or expire every token.
    func control(_ json: String) throws {
        let result = try runPython(
            "-c", ["import ssl, sys, urllib.request; ctx = ssl.create_default_context(cafile=sys.argv[2]); "
                + "urllib.request.urlopen(urllib.request.Request(sys.argv[1] + '/control', data=sys.argv[3].encode(), method='POST'), context=ctx).read()",
                url, pki.caFile, json])
        _ = result
    }

    func requests() throws -> [JSONValue] {
        try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map { try JSONParser.parse(String($0)) }
    }

    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }
}

func temporaryDirectory(_ prefix: String) throws -> String {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    return directory
}

/// Runs a program and returns its stdout; throws with its stderr when it fails.
func runProgram(_ path: String, _ arguments: [String], in directory: String? = nil) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
    let stderrData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw AuditTestFailure("\(path) \(arguments.joined(separator: " ")) failed: \(String(decoding: stderrData, as: UTF8.self))")
    }
    return String(decoding: stdoutData, as: UTF8.self)
}

/// `laforge plugins check libKMSSecrets.so` (the conformance kit) with `config` as JSON; fails the
/// test with the kit's report unless every check passes.
func expectConformance(_ config: [String: Any], secret: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let json = String(decoding: try JSONSerialization.data(withJSONObject: config), as: UTF8.self)
    let result = try CLIRunner.run(["plugins", "check", CLIRunner.buildDirectory + "/libKMSSecrets.so", "--secret-config", json, "--secret", secret])
    #expect(result.status == 0, "\(result.output)", sourceLocation: sourceLocation)
    #expect(result.stdout.contains(" 0 failed"), "\(result.output)", sourceLocation: sourceLocation)
}

/// A development config with a KMSSecrets backend `kms` on moto (at `endpoint` instead of moto's
/// URL when given: a closed port is a KMS that is down) and the checkpoint key in
/// `keys/checkpoint`, wrapped by `backend` (nil: not wrapped), a checkpoint per entry.
func writeWrappedCheckpointKeyConfig(_ sandbox: AuditSandbox, _ moto: MotoFixture, endpoint: String? = nil, backend: String? = "kms") throws {
    let backendConfig = moto.backendConfig().replacingOccurrences(of: moto.url, with: endpoint ?? moto.url)
    try """
        version: 1
        mode: development
        state_dir: \(sandbox.stateDirectory)
        secret_backends:
          - name: kms
            library: libKMSSecrets.so
            config:
        \(backendConfig)
        audit:
          checkpoints:
            key_file: keys/checkpoint
            every_entries: 1
        \(backend.map { "    key_wrapped_by: \($0)" } ?? "")
        """.write(toFile: sandbox.configPath, atomically: true, encoding: .utf8)
}
