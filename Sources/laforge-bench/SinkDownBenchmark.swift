import Foundation
import LaForgeHost
import Logging

/// `laforge-bench sink-down`: memory stays flat while a sink is down. The sink is
/// `bench/AlwaysRetrySink/always_retry_sink.c` (every write returns RETRY), compiled here.
///   process    — `laforge audit emit --stdin` of N events (default 1M) with `--flush-timeout`
///                seconds of retrying afterwards; the child's VmRSS sampled every 100 ms, its
///                progress read from the offset of its standard input (/proc/PID/fdinfo/0);
///   in-process — AuditLog.emit in groups of 1000 while a DeliveryEngine follows the journal
///                and keeps retrying the down sink at the same time (a service's situation).
/// Flat means the journal holds the backlog: RSS should not grow with the events recorded.
struct SinkDownBenchmark {
    var events = 1_000_000
    var flushSeconds = 3

    init(arguments: [String]) {
        let options = integerOptions(arguments, known: ["--events", "--flush-timeout"])
        events = options["--events"].map { $0 } ?? events
        flushSeconds = options["--flush-timeout"].map { $0 } ?? flushSeconds
    }

    func run() {
        let workspace = BenchWorkspace(name: "sink-down")
        defer { workspace.remove() }
        workspace.printHeader()

        let library = workspace.path("libalways_retry_sink.so")
        ProcessRun.run(
            "/usr/bin/cc",
            ["-std=c99", "-shared", "-fPIC", "-O2", "-I", workspace.packageRoot + "/Sources/PluginABI/include", "-o", library,
             workspace.packageRoot + "/bench/AlwaysRetrySink/always_retry_sink.c"]
        ).checked("cc bench/AlwaysRetrySink/always_retry_sink.c")
        let eventsPath = workspace.path("events.ndjson")
        let entryBytes = BenchEvents.write(count: events, to: eventsPath)
        let inputBytes = fileSize(eventsPath)
        print("\(events) events (entry ≈ \(entryBytes) B, input \(megabytes(inputBytes))); the sink refuses every batch with RETRY\n")

        let audit = """
              delivery: { retry_base_ms: 10, retry_cap_ms: 200 }
              sinks:
                - name: down
                  library: \(library)
            """
        measureProcess(workspace, config: workspace.writeConfig("process.yaml", stateName: "process", audit: audit), eventsPath: eventsPath, inputBytes: inputBytes)
        print("")
        measureInProcess(workspace, config: workspace.writeConfig("in-process.yaml", stateName: "in-process", audit: audit), eventsPath: eventsPath)
    }

    // MARK: laforge audit emit --stdin

    private func measureProcess(_ workspace: BenchWorkspace, config: String, eventsPath: String, inputBytes: Int) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: workspace.laforge)
        process.arguments = ["audit", "emit", "--stdin", "--config", config, "--flush-timeout", String(flushSeconds)]
        process.standardInput = FileHandle(forReadingAtPath: eventsPath)
        process.standardOutput = FileHandle.nullDevice
        let errorPath = workspace.path("process.stderr")
        _ = FileManager.default.createFile(atPath: errorPath, contents: nil)
        process.standardError = FileHandle(forWritingAtPath: errorPath)
        let start = now()
        do { try process.run() } catch { fail("cannot run laforge: \(error)") }
        let pid = process.processIdentifier

        // (seconds, RSS KiB, bytes of standard input consumed)
        var samples: [(seconds: Double, rss: Int, inputOffset: Int)] = []
        while process.isRunning {
            if let rss = statusField("VmRSS", pid: pid) {
                samples.append((Double(now() - start) / 1e9, rss, inputOffset(pid: pid) ?? samples.last?.inputOffset ?? 0))
            }
            usleep(100_000)
        }
        process.waitUntilExit()
        let seconds = Double(now() - start) / 1e9
        guard process.terminationStatus == 0 else {
            fail("laforge audit emit exited \(process.terminationStatus): \((try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "")")
        }
        let journal = workspace.path("process/journal")
        let journalBytes = ((try? FileManager.default.contentsOfDirectory(atPath: journal)) ?? []).reduce(0) { $0 + fileSize(journal + "/" + $1) }

        print("process: laforge audit emit --stdin --flush-timeout \(flushSeconds), \(format(seconds, 1)) s, \(samples.count) RSS samples every 100 ms")
        // Samples before the child read its first byte show the loader, not the host: left out.
        printDistribution(samples.filter { $0.inputOffset > 0 }.map(\.rss))
        for fraction in [0.1, 0.5, 1.0] {
            let target = Int(Double(inputBytes) * fraction)
            if let sample = samples.first(where: { $0.inputOffset >= target }) {
                print("  RSS when \(Int(fraction * 100)) % of the input was read: \(kib(sample.rss)) (at \(format(sample.seconds, 1)) s)")
            }
        }
        if let lastRead = samples.firstIndex(where: { $0.inputOffset >= inputBytes }) {
            let retrying = samples[lastRead...].map(\.rss)
            print("  after the input was read (recording the tail, then \(flushSeconds) s of retries): max \(kib(retrying.max()!)), last \(kib(retrying.last!))")
        }
        let warnings = ((try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "").split(separator: "\n").filter { $0.contains("retrying") }.count
        print("  backlog held in the journal: \(megabytes(journalBytes)) on disk; \(warnings) retry warnings logged")
    }

    // MARK: in-process, delivery retrying while events are recorded

    private func measureInProcess(_ workspace: BenchWorkspace, config configPath: String, eventsPath: String) {
        let quiet = Logger(minimumLevel: .error) { _, _ in }
        let config: LaForgeConfig
        let log: AuditLog
        let runtime: PluginRuntime
        do {
            config = try LaForgeConfig.load(path: configPath)
            log = try AuditLog.open(config: config, logger: quiet)
            runtime = try PluginRuntime.start(config: config, options: .init(pluginDirectory: workspace.binaryDirectory, logger: quiet))
        } catch {
            fail("in-process set-up: \(error)")
        }
        let engine = DeliveryEngine(log: log, runtime: runtime)
        engine.start(follow: true)

        let sampler = RSSSampler()
        sampler.start()
        let baseline = statusField("VmRSS", pid: getpid()) ?? 0
        var checkpoints: [(percent: Int, rss: Int)] = []
        let start = now()
        guard let input = FileHandle(forReadingAtPath: eventsPath) else { fail("cannot read \(eventsPath)") }
        var group: [AuditEvent] = []
        group.reserveCapacity(1000)
        var recorded = 0
        var pending = Data()
        func flush() {
            guard !group.isEmpty else { return }
            do { recorded += try log.emit(group).count } catch { fail("emit: \(error)") }
            group.removeAll(keepingCapacity: true)
            for percent in [10, 50, 100] where checkpoints.allSatisfy({ $0.percent != percent }) && recorded * 100 >= events * percent {
                checkpoints.append((percent, statusField("VmRSS", pid: getpid()) ?? 0))
            }
        }
        // The lines are read from the file (not held in memory) so RSS reflects the host only.
        while let chunk = try? input.read(upToCount: 1 << 20), !chunk.isEmpty {
            pending.append(chunk)
            while let newline = pending.firstIndex(of: 0x0A) {
                let line = pending[pending.startIndex..<newline]
                pending = pending[(newline + 1)...]
                do { group.append(try AuditEvent(json: JSONParser.parse(Data(line)))) } catch { fail("bad benchmark event: \(error)") }
                if group.count == 1000 { flush() }
            }
            pending = Data(pending)
        }
        flush()
        let recordSeconds = Double(now() - start) / 1e9
        usleep(UInt32(flushSeconds) * 1_000_000)
        engine.stop()
        let caughtUp = engine.wait()
        let samples = sampler.stop()
        runtime.close()
        try? log.close()

        print("in-process: \(recorded) events recorded in \(format(recordSeconds, 1)) s while the sink was retried, then \(flushSeconds) s more of retries; "
            + "\(samples.count) RSS samples every 100 ms (sink caught up: \(caughtUp["down"] == true ? "yes" : "no"))")
        print("  RSS before the first event: \(kib(baseline))")
        printDistribution(samples)
        for checkpoint in checkpoints { print("  RSS at \(checkpoint.percent) % of the events recorded: \(kib(checkpoint.rss))") }
    }

    private func printDistribution(_ values: [Int]) {
        guard !values.isEmpty else { return }
        let sorted = values.sorted()
        print("  RSS min \(kib(sorted.first!)), median \(kib(sorted[sorted.count / 2])), max \(kib(sorted.last!))")
    }

    private func kib(_ value: Int) -> String { format(Double(value) / 1024, 1) + " MiB" }
}

/// A field of /proc/PID/status in kB (VmRSS, VmHWM).
func statusField(_ name: String, pid: pid_t) -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
        let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") })
    else { return nil }
    return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
}

/// How far a process has read its standard input (a regular file): `pos` in /proc/PID/fdinfo/0.
func inputOffset(pid: pid_t) -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/fdinfo/0", encoding: .utf8),
        let line = text.split(separator: "\n").first(where: { $0.hasPrefix("pos:") })
    else { return nil }
    return Int(line.dropFirst(4).trimmingCharacters(in: .whitespaces))
}

/// Samples this process's VmRSS every 100 ms on its own thread.
final class RSSSampler: @unchecked Sendable {
    // @unchecked: `samples` and `running` are only touched under `lock`.
    private let lock = NSLock()
    private var samples: [Int] = []
    private var running = true
    private let done = DispatchSemaphore(value: 0)

    func start() {
        let thread = Thread { [self] in
            while lock.withLock({ running }) {
                if let rss = statusField("VmRSS", pid: getpid()) { lock.withLock { samples.append(rss) } }
                usleep(100_000)
            }
            done.signal()
        }
        thread.start()
    }

    func stop() -> [Int] {
        lock.withLock { running = false }
        done.wait()
        return lock.withLock { samples }
    }
}
