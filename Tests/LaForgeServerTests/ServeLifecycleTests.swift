import Foundation
import Testing
@testable import LaForgeCore
@testable import LaForgeTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Crashes, drains and readiness: nothing acknowledged is ever missing.
@Suite(.serialized) struct ServeLifecycleTests {
    /// `clients` threads, each emitting with curl until told to stop; every 200's receipts.
    final class Emitters: @unchecked Sendable {
        private let lock = NSLock()
        private var receipts: [(seq: Int, hash: String)] = []
        private var stopped = false
        private var failures: [String] = []
        private let group = DispatchGroup()

        init(server: RunningServer, clients: Int) {
            for client in 0..<clients {
                group.enter()
                Thread { [self] in
                    var index = 0
                    while !lock.withLock({ stopped }) {
                        index += 1
                        guard let answer = try? server.request("POST", "/v1/audit/events", body: auditEventLine(user: "client-\(client)-\(index)"))
                        else { continue }  // the connection broke: nothing was acknowledged
                        if answer.status == 200, let entries = answer.json?["entries"]?.arrayValue {
                            let got = entries.compactMap { entry in entry["seq"]?.intValue.flatMap { seq in entry["hash"]?.stringValue.map { (seq, $0) } } }
                            lock.withLock { receipts += got }
                        } else if answer.status != 503 {
                            lock.withLock { failures.append("\(answer.status) \(answer.body)") }
                        }
                    }
                    group.leave()
                }.start()
            }
        }

        var count: Int { lock.withLock { receipts.count } }

        func stop() -> (receipts: [(seq: Int, hash: String)], failures: [String]) {
            lock.withLock { stopped = true }
            group.wait()
            return lock.withLock { (receipts, failures) }
        }
    }

    @Test func sigkillUnder64EmittersLosesNoAcknowledgedEntry() throws {
        let sandbox = try AuditSandbox()
        let server = try RunningServer(sandbox: sandbox)
        let emitters = Emitters(server: server, clients: 64)
        #expect(eventually(within: 120) { emitters.count >= 300 })
        _ = server.stop(signal: SIGKILL)
        let (receipts, failures) = emitters.stop()
        #expect(failures.isEmpty, "\(failures.prefix(3))")

        let restarted = try RunningServer(restarting: sandbox, tag: "after-kill")
        let page = try restarted.request("GET", "/v1/audit/entries?limit=1")
        #expect(page.status == 200)
        #expect(restarted.stop() == 0)
        let journal = try sandbox.journalEntries()
        let stored = Dictionary(journal.map { (Int($0.seq), $0.hash) }, uniquingKeysWith: { first, _ in first })
        let missing = receipts.filter { stored[$0.seq] != $0.hash }
        #expect(missing.isEmpty, "acknowledged but missing or different: \(missing.prefix(5))")
        #expect(receipts.count >= 300)
        #expect(try sandbox.verifyChain().status == 0)
    }

    @Test func sigtermUnderLoadDrainsSignsAFinalCheckpointAndExitsZero() throws {
        let sandbox = try AuditSandbox()
        let server = try RunningServer(sandbox: sandbox)
        let emitters = Emitters(server: server, clients: 16)
        #expect(eventually(within: 120) { emitters.count >= 100 })
        let status = server.stop(signal: SIGTERM)
        let (receipts, failures) = emitters.stop()
        #expect(status == 0, "\(server.child.stderr)")
        #expect(failures.isEmpty, "\(failures.prefix(3))")
        let journal = try sandbox.journalEntries()
        let stored = Dictionary(journal.map { (Int($0.seq), $0.hash) }, uniquingKeysWith: { first, _ in first })
        #expect(receipts.allSatisfy { stored[$0.seq] == $0.hash })
        let verified = try sandbox.verifyChain()
        #expect(verified.status == 0, "\(verified.result.output)")
        // The final checkpoint covers every entry.
        #expect(verified.report?["last_checkpoint_size"]?.intValue == journal.count, "\(verified.result.stdout)")
        #expect(verified.report?["uncovered_entries"]?.intValue == 0)
        #expect(!FileManager.default.fileExists(atPath: server.socketPath))
    }

    @Test func notifySocketGetsReadyAndStopping() throws {
        let sandbox = try AuditSandbox()
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
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))

        let server = try RunningServer(sandbox: sandbox, shell: "export NOTIFY_SOCKET=\(notifyPath) WATCHDOG_USEC=200000;")
        func receive() -> String {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = recv(descriptor, &buffer, buffer.count, 0)
            return count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self) : ""
        }
        var seen: [String] = []
        while seen.count < 40, !(seen.contains { $0.hasPrefix("WATCHDOG=1") } && seen.contains { $0.hasPrefix("READY=1") }) {
            let message = receive()
            if message.isEmpty { break }
            seen.append(message)
        }
        #expect(seen.contains { $0.hasPrefix("READY=1") }, "\(seen)")
        #expect(seen.contains { $0.hasPrefix("WATCHDOG=1") }, "\(seen)")
        kill(server.child.process.processIdentifier, SIGTERM)
        var after: [String] = []
        while after.count < 50, !after.contains("STOPPING=1") {
            let message = receive()
            if message.isEmpty { break }
            after.append(message)
        }
        #expect(after.contains("STOPPING=1"), "\(after)")
        #expect(server.child.wait() == 0)
    }
}
