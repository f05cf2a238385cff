import Foundation
import Testing
@testable import LaForgeTestSupport

@testable import LaForgeCore

#if canImport(Glibc)
    import Glibc
#endif

/// `deploy/systemd/laforge.service`: what systemd itself says of the unit, and `laforge serve`
/// started the way the unit starts it (its ExecStart arguments, its Environment=, the
/// STATE_DIRECTORY and watchdog variables systemd sets), reporting READY=1 and WATCHDOG=1 to a
/// real datagram socket as systemd's manager would receive them.
@Suite struct SystemdUnitTests {
    static let unitPath = CPluginBuilder.packageRoot.appendingPathComponent("deploy/systemd/laforge.service").path

    /// The unit's `[Service]` settings, in file order (a key may repeat, as Environment= does).
    static func serviceSettings() throws -> [(key: String, value: String)] {
        var section = ""
        var settings: [(key: String, value: String)] = []
        for raw in try String(contentsOfFile: unitPath, encoding: .utf8).split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("[") {
                section = line
                continue
            }
            guard section == "[Service]", let equals = line.firstIndex(of: "=") else { continue }
            settings.append((String(line[..<equals]), String(line[line.index(after: equals)...])))
        }
        return settings
    }

    /// Where the unit expects the installed files, and where this build has them.
    static var installedPaths: [(String, String)] {
        [("/usr/local/bin/laforge", CLIRunner.buildDirectory + "/laforge"), ("/usr/local/lib/laforge/plugins", CLIRunner.buildDirectory)]
    }

    static func localized(_ text: String) -> String {
        installedPaths.reduce(text) { $0.replacingOccurrences(of: $1.0, with: $1.1) }
    }

    @Test func theUnitAsksForTheHardeningAndTheNotifyProtocol() throws {
        let settings = Dictionary(try Self.serviceSettings().map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        #expect(settings["Type"] == "notify")
        #expect(settings["ProtectSystem"] == "strict")
        #expect(settings["NoNewPrivileges"] == "yes")
        #expect(settings["PrivateTmp"] == "yes")
        #expect(settings["StateDirectory"] == "laforge")
        #expect(settings["User"] == "laforge")
        #expect(settings["WatchdogSec"].flatMap(Int.init).map { $0 > 0 } == true)
        #expect(settings["ExecStart"]?.contains("--state-dir ${STATE_DIRECTORY}") == true)
    }

    /// `systemd-analyze verify` on the unit, with only ExecStart's binary pointed at this build
    /// (verify insists that it exists). An unknown or misspelt key is only a warning to systemd,
    /// so any output counts as a failure; a copy with a misspelt key shows the check can fail.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze"), "systemd-analyze is missing: apt-get install systemd"))
    func systemdAnalyzeVerifiesTheUnit() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("laforge-unit-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let text = Self.localized(try String(contentsOfFile: Self.unitPath, encoding: .utf8))
        try text.write(toFile: directory + "/laforge.service", atomically: true, encoding: .utf8)
        let verify = try CLIRunner.runExecutable("/usr/bin/systemd-analyze", ["verify", directory + "/laforge.service"])
        #expect(verify.status == 0 && verify.output.isEmpty, "\(verify.output)")

        try text.replacingOccurrences(of: "ProtectSystem=strict", with: "ProtectSytem=strict")
            .write(toFile: directory + "/laforge-typo.service", atomically: true, encoding: .utf8)
        let typo = try CLIRunner.runExecutable("/usr/bin/systemd-analyze", ["verify", directory + "/laforge-typo.service"])
        #expect(typo.output.contains("Unknown key 'ProtectSytem'"), "\(typo.output)")
    }

    @Test func serveStartedAsTheUnitStartsItNotifiesReadyAndTheWatchdog() throws {
        let sandbox = try AuditSandbox()
        let settings = try Self.serviceSettings()
        let execStart = try #require(settings.first { $0.key == "ExecStart" }?.value)
        let watchdogSeconds = try #require(settings.first { $0.key == "WatchdogSec" }.flatMap { UInt64($0.value) })
        // systemd sets these for the service (systemd.exec(5)); the configuration file is the
        // one installed at /etc/laforge/laforge.yaml, here the sandbox's.
        try sandbox.writeConfig(audit: "  journal:\n    fsync: group\n" + RunningServer.serveSection().replacingOccurrences(of: "  socket: SOCKET\n", with: ""))
        var environment = ["STATE_DIRECTORY": sandbox.stateDirectory, "WATCHDOG_USEC": String(watchdogSeconds * 1_000_000)]
        for setting in settings where setting.key == "Environment" {
            let pair = setting.value.split(separator: "=", maxSplits: 1).map(String.init)
            environment[pair[0]] = Self.localized(pair[1])
        }
        var arguments = Self.localized(execStart).replacingOccurrences(of: "/etc/laforge/laforge.yaml", with: sandbox.configPath)
            .replacingOccurrences(of: "${STATE_DIRECTORY}", with: sandbox.stateDirectory)
            .split(separator: " ").map(String.init)
        #expect(arguments.removeFirst() == CLIRunner.buildDirectory + "/laforge")

        let notifyPath = sandbox.root + "/notify.sock"
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        #expect(descriptor >= 0)
        defer { close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(notifyPath.utf8)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0)
        var timeout = timeval(tv_sec: 60, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))

        // WATCHDOG_PID is the service's main pid: the shell's, which execs laforge.
        let exports = environment.sorted { $0.key < $1.key }.map { "\($0.key)='\($0.value)'" }.joined(separator: " ")
        let server = try LaForgeChild(arguments, in: sandbox.root, tag: "unit", shell: "export NOTIFY_SOCKET='\(notifyPath)' \(exports); export WATCHDOG_PID=$$;")
        defer { if server.process.isRunning { server.kill() } }
        var seen: [String] = []
        while seen.count < 40, !(seen.contains { $0.hasPrefix("READY=1") } && seen.contains { $0.hasPrefix("WATCHDOG=1") }) {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count <= 0 { break }
            seen.append(String(decoding: buffer[0..<count], as: UTF8.self))
        }
        #expect(seen.contains { $0.hasPrefix("READY=1") }, "\(seen) \(server.stderr)")
        #expect(seen.contains { $0.hasPrefix("WATCHDOG=1") }, "\(seen) \(server.stderr)")
        // State under STATE_DIRECTORY, the socket included (serve.socket's default).
        let socketPath = sandbox.stateDirectory + "/laforge.sock"
        #expect(seen.contains { $0.contains("STATUS=listening on \(socketPath)") }, "\(seen)")
        let health = try CLIRunner.runExecutable("/usr/bin/curl", ["-sS", "--unix-socket", socketPath, "http://localhost/healthz"])
        #expect(health.status == 0, "\(health.output)")
        kill(server.process.processIdentifier, SIGTERM)
        #expect(server.wait() == 0, "\(server.stderr)")
    }
}
