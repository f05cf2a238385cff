import Foundation
import Testing
@testable import LaForgeTestSupport

@testable import LaForgeAudit
@testable import LaForgeCore
@testable import LaForgeGovernance
@testable import LaForgeIdentity
@testable import LaForgeJournal
@testable import LaForgePlugins
@testable import LaForgeSecrets

#if canImport(Glibc)
    import Glibc
#endif

/// CEF over syslog/TLS (RFC 5425 octet-counted framing) into a real syslog-ng (Debian's
/// syslog-ng-core), which writes each message it parsed to a file: every CEF line must arrive
/// intact, however hostile the field values.
@Suite(.serialized) struct SyslogCEFTests {
    /// syslog-ng in the foreground with a TLS `syslog()` source (octet counting) on `port`,
    /// writing `${MSG}` lines to `output`; stopped by PID.
    final class SyslogNG {
        let process = Process()
        let output: String
        let port: Int

        init(directory: String, pki: TestPKI) throws {
            let syslogNG = "/usr/sbin/syslog-ng"
            guard FileManager.default.isExecutableFile(atPath: syslogNG) else {
                throw AuditTestFailure("\(syslogNG) is missing: install syslog-ng-core (.ci/run does)")
            }
            port = try freePort()
            output = directory + "/syslog-ng.out"
            let config = """
                @version: 3.38
                options { stats-freq(0); log-msg-size(1048576); keep-hostname(yes); };
                source s_tls {
                    syslog(ip("127.0.0.1") port(\(port)) transport("tls") log-msg-size(1048576)
                           tls(key-file("\(pki.serverKey)") cert-file("\(pki.serverCertificate)") peer-verify(optional-untrusted)));
                };
                destination d_file { file("\(output)" template("${MSG}\\n")); };
                log { source(s_tls); destination(d_file); flags(flow-control); };
                """
            try config.write(toFile: directory + "/syslog-ng.conf", atomically: true, encoding: .utf8)
            process.executableURL = URL(fileURLWithPath: syslogNG)
            process.arguments = [
                "-F", "--no-caps", "-f", directory + "/syslog-ng.conf", "-R", directory + "/syslog-ng.persist",
                "-p", directory + "/syslog-ng.pid", "-c", directory + "/syslog-ng.ctl",
            ]
            process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
            let log = directory + "/syslog-ng.stderr"
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            process.standardError = FileHandle(forWritingAtPath: log)
            try process.run()
            let listening = eventually(within: 20) { !process.isRunning || canConnect(port: port) } && process.isRunning
            guard listening else {
                stop()
                throw AuditTestFailure("syslog-ng did not listen on \(port): \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
            }
        }

        func stop() {
            if process.isRunning {
                // SIGKILL: syslog-ng started by Foundation may inherit a mask that blocks SIGTERM.
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
        }

        func lines() -> [String] {
            ((try? String(contentsOfFile: output, encoding: .utf8)) ?? "").split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        }
    }

    @Test func everyCEFLineArrivesIntactOverTLSWithHostileFieldValues() throws {
        let root = try AuditSandbox()
        let pki = try TestPKI(in: root.root)
        let syslog = try SyslogNG(directory: root.root, pki: pki)
        defer { syslog.stop() }
        let setup = try SIEMSetup(sinkConfig: """
                      url: tls://127.0.0.1:\(syslog.port)
                      format: cef
                      max_events: 16
                      tls: {ca_file: \(pki.caFile)}
                      cef: {vendor: "Acme|Corp\\\\", product: "LaForge", version: "1.0"}
                      syslog: {facility: 13, app_name: laforge}
            """, checkpointEvery: 25)
        defer { setup.log.journal.close() }

        // Fuzz: values made of CEF's special characters and ordinary text, seeded so a
        // failure can be replayed.
        var generator = SeededGenerator(seed: 0x5EED)
        let alphabet: [String] = ["|", "\\", "=", "\\=", "\\\\", " ", "a", "Z", "0", "é", "✓", "\"", "'", "%", "key=", "|=\\"]
        func hostile(_ length: Int) -> String {
            (0..<length).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] }.joined()
        }
        var expected: [UInt64: (user: String, target: String, tenant: String)] = [:]
        for seq in 0..<100 {
            let user = "u" + hostile(Int.random(in: 1...12, using: &generator))
            let target = hostile(Int.random(in: 1...20, using: &generator))
            let tenant = "t" + hostile(6)
            let multiline = hostile(5) + "\nline2\r\n" + hostile(5)
            let receipt = try #require(try setup.log.emit(AuditEvent(
                actor: AuditActor(user: user, roles: ["admin", "a|b"]), action: "schema.change",
                outcome: seq % 7 == 0 ? .failure : .success, tenant: tenant, target: target,
                data: ["text": .string(multiline), "n": .number(Double(seq))])))
            expected[receipt.seq] = (user, target, tenant)
        }
        #expect(try setup.deliver(within: 60), "\(setup.captured.text)")
        #expect(setup.cursor == SinkCursor(nextSeq: 100, checkpointSize: 100))

        let lines = try #require(eventuallyValue(within: 10) { syslog.lines().count >= 104 ? syslog.lines() : nil })
        #expect(lines.count == 104, "\(lines.count) lines")
        let journal = try setup.journalHashes()
        var seenEntries: [UInt64] = []
        var checkpointSizes: [Int] = []
        for line in lines {
            let parsed = try #require(CEFLine(line), "not a CEF line: \(line)")
            #expect(parsed.header == ["CEF:0", "Acme|Corp\\", "LaForge", "1.0", parsed.header[4], parsed.header[5], parsed.header[6]])
            if parsed.header[4] == "laforge.checkpoint" {
                checkpointSizes.append(Int(parsed.fields["cn1"] ?? "") ?? -1)
                // The signed note's own line breaks survive the trip.
                #expect(parsed.fields["msg"]?.contains("\n") == true)
                continue
            }
            let seq = try #require(UInt64(parsed.fields["externalId"] ?? ""))
            seenEntries.append(seq)
            let want = try #require(expected[seq])
            #expect(parsed.fields["suser"] == want.user)
            #expect(parsed.fields["cs1"] == want.target)
            #expect(parsed.fields["cs2"] == want.tenant)
            #expect(parsed.fields["cs6"] == "admin,a|b")
            #expect(parsed.fields["act"] == "schema.change")
            #expect(parsed.header[6] == (seq % 7 == 0 ? "6" : "3"))
            // msg is the canonical entry: its leaf hash is the chain's.
            let msg = try #require(parsed.fields["msg"])
            #expect(SHA256.leafHash(Array(msg.utf8)).hexString == journal[seq])
            #expect(parsed.fields["cs4"] == journal[seq])
            #expect(try JSONParser.parse(msg)["event"]?["data"]?["text"]?.stringValue?.contains("\nline2\r\n") == true)
        }
        #expect(seenEntries == Array(0..<100))
        #expect(checkpointSizes == [25, 50, 75, 100])
    }

    @Test func aTLSCollectorWithAnUntrustedCertificateIsRefused() throws {
        let root = try AuditSandbox()
        let pki = try TestPKI(in: root.root)
        let syslog = try SyslogNG(directory: root.root, pki: pki)
        defer { syslog.stop() }
        let setup = try SIEMSetup(sinkConfig: """
                      url: tls://127.0.0.1:\(syslog.port)
                      format: cef
                      tls: {ca_file: \(pki.otherCAFile)}
            """)
        defer { setup.log.journal.close() }
        try setup.log.emit(auditEvent("alice"))
        #expect(try setup.deliver(within: 2) == false)
        #expect(setup.captured.text.contains("tls"), "\(setup.captured.text)")
        #expect(syslog.lines().isEmpty)
    }
}

/// An independent CEF reader: seven `|`-separated header fields (`\|` and `\\` escaped), then
/// `key=value` pairs whose values unescape `\=`, `\\`, `\n` and `\r`.
struct CEFLine {
    var header: [String] = []
    var fields: [String: String] = [:]

    init?(_ line: String) {
        let characters = Array(line)
        var index = 0
        var current = ""
        while header.count < 7 && index < characters.count {
            let character = characters[index]
            if character == "\\" && index + 1 < characters.count {
                current.append(characters[index + 1])
                index += 2
                continue
            }
            if character == "|" {
                header.append(current)
                current = ""
            } else {
                current.append(character)
            }
            index += 1
        }
        guard header.count == 7 else { return nil }
        // Extension: find unescaped '=' signs; the key is the word before each.
        let rest = Array(characters[index...])
        var equals: [Int] = []
        var position = 0
        while position < rest.count {
            if rest[position] == "\\" { position += 2; continue }
            if rest[position] == "=" { equals.append(position) }
            position += 1
        }
        var keys: [(name: String, start: Int, valueStart: Int)] = []
        for sign in equals {
            var start = sign
            while start > 0, rest[start - 1].isLetter || rest[start - 1].isNumber || rest[start - 1] == "_" { start -= 1 }
            guard start < sign, start == 0 || rest[start - 1] == " " else { return nil }
            keys.append((String(rest[start..<sign]), start, sign + 1))
        }
        for (number, key) in keys.enumerated() {
            let end = number + 1 < keys.count ? keys[number + 1].start - 1 : rest.count
            guard end >= key.valueStart else { return nil }
            var value = ""
            var cursor = key.valueStart
            while cursor < end {
                if rest[cursor] == "\\" && cursor + 1 < end {
                    switch rest[cursor + 1] {
                    case "n": value.append("\n")
                    case "r": value.append("\r")
                    default: value.append(rest[cursor + 1])
                    }
                    cursor += 2
                } else {
                    value.append(rest[cursor])
                    cursor += 1
                }
            }
            guard fields[key.name] == nil else { return nil }
            fields[key.name] = value
        }
    }
}

/// A small deterministic generator (SplitMix64) for replayable fuzz input.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}

func eventuallyValue<T>(within seconds: Double, _ produce: () throws -> T?) rethrows -> T? {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if let value = try produce() { return value }
        usleep(20_000)
    }
    return try produce()
}

/// A port nothing listens on right now (bound and released; the small race is acceptable here).
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else { throw AuditTestFailure("cannot bind a probe socket") }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

func canConnect(port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    } == 0
}
