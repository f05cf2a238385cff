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

/// The venv's Python (`scripts/test` exports it); a clear failure when the tests run without it.
func testPython() throws -> String {
    guard let python = ProcessInfo.processInfo.environment["LAFORGE_PYTHON"], !python.isEmpty else {
        throw AuditTestFailure("LAFORGE_PYTHON is not set: run the tests with scripts/test, which creates .build/venv with the receivers' Python packages")
    }
    return python
}

/// A receiver script from `Fixtures/receivers/`, started on a free port of 127.0.0.1 and stopped
/// by its PID. It prints the port on stdout when it listens; everything it logs goes to `log`.
final class ReceiverProcess {
    let process = Process()
    let port: Int
    let log: String
    private let stderrPath: String

    init(_ script: String, _ arguments: [String], in directory: String, tag: String = "receiver") throws {
        log = directory + "/\(tag).requests.ndjson"
        stderrPath = directory + "/\(tag).stderr"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: try testPython())
        process.arguments = [fixtureURL("receivers/\(script)").path, "--log", log] + arguments
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
            let errors = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
            throw AuditTestFailure("receiver \(script) did not start: \(errors)")
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

    /// Every logged request, in arrival order.
    func requests() throws -> [JSONValue] {
        try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map { try JSONParser.parse(String($0)) }
    }

    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }
}

/// A throwaway PKI made with the openssl CLI: a CA, a server certificate for 127.0.0.1 and
/// localhost, and a client certificate, all signed by the CA.
struct TestPKI {
    let directory: String
    var caFile: String { directory + "/ca.pem" }
    var serverCertificate: String { directory + "/server.pem" }
    var serverKey: String { directory + "/server.key" }
    var clientCertificate: String { directory + "/client.pem" }
    var clientKey: String { directory + "/client.key" }
    /// A second, unrelated CA (for "wrong CA" checks).
    var otherCAFile: String { directory + "/other-ca.pem" }

    init(in root: String) throws {
        directory = root + "/pki"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try TestPKI.openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
            "-subj", "/CN=LaForge Test CA", "-keyout", "ca.key", "-out", "ca.pem"], in: directory)
        try TestPKI.openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
            "-subj", "/CN=Other CA", "-keyout", "other-ca.key", "-out", "other-ca.pem"], in: directory)
        for (name, extensions) in [
            ("server", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n"),
            ("client", "extendedKeyUsage=clientAuth\n"),
        ] {
            try extensions.write(toFile: directory + "/\(name).ext", atomically: true, encoding: .utf8)
            try TestPKI.openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=\(name)",
                "-keyout", "\(name).key", "-out", "\(name).csr"], in: directory)
            try TestPKI.openssl(["x509", "-req", "-in", "\(name).csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-days", "2", "-extfile", "\(name).ext", "-out", "\(name).pem"], in: directory)
        }
    }

    private static func openssl(_ arguments: [String], in directory: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let text = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw AuditTestFailure("openssl \(arguments.joined(separator: " ")) failed: \(String(decoding: text, as: UTF8.self))")
        }
    }
}

/// An audit log with one SIEMWebhook sink named `siem`, configured by `sinkConfig` (YAML flow
/// mapping lines, indented as under `config:`), delivering through the real host pipeline.
struct SIEMSetup {
    let sandbox: AuditSandbox
    let config: LaForgeConfig
    let log: AuditLog
    let captured: CapturedLog

    init(sinkConfig: String, batchEntries: Int = 50, checkpointEvery: Int = 0, extra: String = "") throws {
        sandbox = try AuditSandbox()
        try sandbox.writeConfig(audit: """
              checkpoints:
                every_entries: \(checkpointEvery)
                every_ms: 0
              delivery:
                batch_entries: \(batchEntries)
                retry_base_ms: 5
                retry_cap_ms: 200
              sinks:
                - name: siem
                  library: libSIEMWebhook.so
                  config:
            \(sinkConfig)
            """ + extra)
        config = try sandbox.config()
        captured = CapturedLog()
        log = try AuditLog.open(config: config, logger: captured.logger)
    }

    func startRuntime() throws -> PluginRuntime {
        try PluginRuntime.start(config: config, options: .init(pluginDirectory: CLIRunner.buildDirectory, logger: captured.logger))
    }

    /// Delivers until the sink caught up or `seconds` passed; whether it caught up.
    func deliver(within seconds: Int = 120) throws -> Bool {
        let runtime = try startRuntime()
        defer { runtime.close() }
        return DeliveryEngine.deliverAll(log: log, runtime: runtime, timeoutMilliseconds: seconds * 1000)["siem"] == true
    }

    var cursor: SinkCursor? { try? log.cursors.load("siem") }

    func deadLetters() -> [JSONValue] {
        let path = sandbox.stateDirectory + "/deadletter/siem.ndjson"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONParser.parse(String($0)) }
    }

    /// Every journal entry's seq → hash (hex).
    func journalHashes() throws -> [UInt64: String] {
        var hashes: [UInt64: String] = [:]
        for entry in try log.journal.entries(from: 0, maxCount: 1_000_000, maxBytes: 1 << 30) {
            hashes[entry.seq] = SHA256.leafHash(entry.payload).hexString
        }
        return hashes
    }
}

/// Random bytes as standard base64, for keys the tests make.
func randomBase64(_ count: Int) -> String {
    var generator = SystemRandomNumberGenerator()
    return Data((0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }).base64EncodedString()
}

/// A Standard Webhooks Ed25519 key pair: `whsk_` (the seed) for the sink, `whpk_` for the receiver.
func webhookEd25519KeyPair() throws -> (secret: String, public: String) {
    var generator = SystemRandomNumberGenerator()
    let seed = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
    let key = try Ed25519SigningKey(name: "webhook", seed: seed)
    return ("whsk_" + Data(seed).base64EncodedString(), "whpk_" + Data(key.verifierKey.publicKey).base64EncodedString())
}
