import Foundation
import LaForgeClient
import LaForgeHost

/// `laforge-bench serve`: durable single-event emits (≈ 600 B entries) to a running
/// `laforge serve` over its Unix socket, each client on its own kept-alive connection
/// (LaForgeClient), at 1, 16, 64 and 256 concurrent clients: events/s and p50/p99/p99.9 latency,
/// and the server's peak RSS. In the same run the raw limit: `bench/fsync-limit.c syncN:C`
/// (C × write(600 B) then one fdatasync), the most a group commit of C concurrent emits could
/// reach on this disk.
struct ServeBenchmark {
    var seconds = 5
    var clientCounts = [1, 16, 64, 256]
    var rawSeconds = 3

    init(arguments: [String]) {
        let options = integerOptions(arguments, known: ["--seconds", "--raw-seconds", "--clients"])
        seconds = options["--seconds"] ?? seconds
        rawSeconds = options["--raw-seconds"] ?? rawSeconds
        if let only = options["--clients"] { clientCounts = [only] }
    }

    func run() {
        let workspace = BenchWorkspace(name: "serve")
        defer { workspace.remove() }
        workspace.printHeader()
        let socket = workspace.path("laforge.sock")
        let config = workspace.path("laforge.yaml")
        let yaml = """
            version: 1
            state_dir: \(workspace.path("state"))
            audit:
              journal: { fsync: group }
            serve:
              socket: \(socket)
              max_in_flight: 1024
              emit_threads: 256
              clients:
                - { name: bench, uid: \(getuid()), allow: [emit, read] }
            """
        do { try yaml.write(toFile: config, atomically: true, encoding: .utf8) } catch { fail("cannot write \(config): \(error)") }
        let event = BenchEvents.line(0, padding: max(0, 600 - BenchEvents.entrySize(BenchEvents.line(0, padding: 0), seq: 50_000)))
        print("entry ≈ \(BenchEvents.entrySize(event, seq: 50_000)) B, \(seconds) s per level\n")

        let fsyncLimit = workspace.path("fsync-limit")
        ProcessRun.run("/usr/bin/cc", ["-O2", "-o", fsyncLimit, workspace.packageRoot + "/bench/fsync-limit.c"]).checked("cc bench/fsync-limit.c")

        let server = Process()
        server.executableURL = URL(fileURLWithPath: workspace.laforge)
        server.arguments = ["serve", "--config", config]
        server.standardError = FileHandle(forWritingAtPath: "/dev/null")
        do { try server.run() } catch { fail("cannot start laforge serve: \(error)") }
        defer {
            kill(server.processIdentifier, SIGTERM)
            server.waitUntilExit()
        }
        let started = Date()
        while (try? LaForgeClient(socketPath: socket).readiness()) == nil {
            if Date().timeIntervalSince(started) > 30 { fail("laforge serve did not come up") }
            usleep(50_000)
        }

        print("clients  events/s   p50 ms   p99 ms   p99.9 ms   raw syncN:C events/s   ours/raw")
        for clients in clientCounts {
            let (count, latencies) = drive(socket: socket, clients: clients, event: event)
            let sorted = latencies.sorted()
            func percentile(_ p: Double) -> Double { sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] / 1e6 }
            let rate = Double(count) / Double(seconds)
            let rawRun = ProcessRun.run(fsyncLimit, [workspace.scratch, "syncN:\(clients)", String(rawSeconds)]).checked("fsync-limit")
            let raw = number(after: ": ", in: rawRun.standardOutput) ?? 0
            print(
                String(format: "%7d  %8.0f  %7.2f  %7.2f  %9.2f  %21.0f  %7.0f %%", clients, rate, percentile(0.5), percentile(0.99), percentile(0.999), raw,
                    raw > 0 ? 100 * rate / raw : 0))
        }
        print("\nserver peak RSS (VmHWM): \(format(Double(statusField("VmHWM", pid: server.processIdentifier) ?? 0) / 1024)) MiB")
    }

    /// `clients` threads emitting one event per request for `seconds`; the acknowledged count and
    /// every request's latency in ns.
    func drive(socket: String, clients: Int, event: String) -> (Int, [Double]) {
        let results = LockedValue<(latencies: [Double], failures: Int)>(([], 0))
        let deadline = now() + UInt64(seconds) * 1_000_000_000
        let group = DispatchGroup()
        let body = Array(event.utf8)
        for _ in 0..<clients {
            group.enter()
            Thread {
                defer { group.leave() }
                guard let client = try? LaForgeClient(socketPath: socket) else { return }
                var own: [Double] = []
                var failed = 0
                while now() < deadline {
                    let start = now()
                    do {
                        _ = try client.send("POST", "/v1/audit/events", body: body, contentType: "application/json")
                        own.append(Double(now() - start))
                    } catch {
                        failed += 1
                    }
                }
                results.withLock {
                    $0.latencies += own
                    $0.failures += failed
                }
            }.start()
        }
        group.wait()
        let (latencies, failures) = results.withLock { $0 }
        if failures > 0 { print("  (\(failures) requests refused or failed at \(clients) clients)") }
        return (latencies.count, latencies)
    }
}
