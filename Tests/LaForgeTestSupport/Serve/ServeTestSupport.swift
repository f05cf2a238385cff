import Foundation
import LaForgeCore

#if canImport(Glibc)
    import Glibc
#endif

/// A running `laforge serve` on a sandbox's state directory, talked to over its Unix socket
/// with curl (the same calls docs/API.md shows).
final class RunningServer: @unchecked Sendable {
    // @unchecked: immutable after init; `request` only starts processes.
    let sandbox: AuditSandbox
    let child: LaForgeChild
    var socketPath: String { sandbox.root + "/laforge.sock" }

    /// The `serve:` section with this process's uid allowed everything, unless `serve` is given
    /// (indented as under `serve:`, `socket:` is added).
    static func serveSection(clients: String? = nil, extra: String = "") -> String {
        let clientList = clients ?? """
              - name: tests
                uid: \(getuid())
                allow: [emit, read, authorize, snapshots, envelope]
            """
        return "serve:\n  socket: SOCKET\n\(extra)  clients:\n\(clientList)\n"
    }

    /// Writes the configuration (audit section, then `serve`) and starts the server, waiting
    /// until the socket answers `/healthz`.
    init(sandbox: AuditSandbox, audit: String = "  journal:\n    fsync: group\n", serve: String? = nil, tag: String = "serve", shell: String? = nil) throws {
        self.sandbox = sandbox
        let section = (serve ?? Self.serveSection()).replacingOccurrences(of: "SOCKET", with: sandbox.root + "/laforge.sock")
        try sandbox.writeConfig(audit: audit + section)
        child = try LaForgeChild(
            ["serve", "--config", sandbox.configPath, "--plugin-dir", CLIRunner.buildDirectory], in: sandbox.root, tag: tag, shell: shell)
        let up = eventually(within: 60) {
            (try? self.request("GET", "/healthz").status) == 200 || !self.child.process.isRunning
        }
        guard up, child.process.isRunning else {
            throw AuditTestFailure("laforge serve did not come up: \(child.stderr)")
        }
    }

    /// Restarts a server on the same sandbox (the configuration file is kept).
    init(restarting sandbox: AuditSandbox, tag: String) throws {
        self.sandbox = sandbox
        child = try LaForgeChild(
            ["serve", "--config", sandbox.configPath, "--plugin-dir", CLIRunner.buildDirectory], in: sandbox.root, tag: tag)
        let up = eventually(within: 60) {
            (try? self.request("GET", "/healthz").status) == 200 || !self.child.process.isRunning
        }
        guard up, child.process.isRunning else { throw AuditTestFailure("laforge serve did not come back: \(child.stderr)") }
    }

    struct Answer {
        var status: Int
        var body: String
        var headers: String
        var json: JSONValue? { try? JSONParser.parse(Array(body.utf8)) }
    }

    /// One request with curl over the socket.
    func request(_ method: String, _ path: String, body: String? = nil, contentType: String = "application/json") throws -> Answer {
        var arguments = ["-sS", "--unix-socket", socketPath, "-X", method, "-D", "-", "-o", "-", "http://localhost" + path]
        if body != nil { arguments += ["-H", "Content-Type: \(contentType)", "--data-binary", "@-"] }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = arguments
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        if let body { input.fileHandleForWriting.write(Data(body.utf8)) }
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw AuditTestFailure("curl \(method) \(path) failed (\(process.terminationStatus))") }
        let text = String(decoding: data, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { throw AuditTestFailure("no HTTP answer: \(text)") }
        let headers = String(text[..<split.lowerBound])
        let statusLine = headers.split(separator: "\r\n").first ?? ""
        let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") ?? 0
        return Answer(status: status, body: String(text[split.upperBound...]), headers: headers)
    }

    func stop(signal: Int32 = SIGTERM) -> Int32? {
        kill(child.process.processIdentifier, signal)
        return child.wait()
    }

    deinit {
        if child.process.isRunning {
            kill(child.process.processIdentifier, SIGKILL)
            child.process.waitUntilExit()
        }
    }
}
