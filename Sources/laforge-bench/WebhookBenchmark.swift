import Foundation
import HTTPClient
import LaForgeHost
import Logging

/// `laforge-bench webhook`: events/s the SIEMWebhook plugin delivers (journal → delivery worker
/// → plugin → HTTP) to a loopback receiver, against raw `curl` POSTing the very same request
/// bodies (captured from the plugin's run) to the same receiver over one keep-alive connection.
/// Then the receiver is down: RSS while events keep being recorded and the sink keeps retrying.
struct WebhookBenchmark {
    var events = 100_000
    var downSeconds = 10
    var rounds = 3

    init(arguments: [String]) {
        let options = integerOptions(arguments, known: ["--events", "--down-seconds", "--rounds"])
        events = options["--events"] ?? events
        rounds = max(1, options["--rounds"] ?? rounds)
        downSeconds = options["--down-seconds"] ?? downSeconds
    }

    func run() {
        let workspace = BenchWorkspace(name: "webhook")
        defer { workspace.remove() }
        workspace.printHeader()
        guard FileManager.default.fileExists(atPath: workspace.binaryDirectory + "/libSIEMWebhook.so") else {
            fail("no libSIEMWebhook.so in \(workspace.binaryDirectory): swift build -c release first")
        }
        let eventsPath = workspace.path("events.ndjson")
        let entryBytes = BenchEvents.write(count: events, to: eventsPath)
        let receiver = LoopbackHTTPReceiver()
        print("\(events) events (entry ≈ \(entryBytes) B); receiver: in-process HTTP/1.1 on 127.0.0.1:\(receiver.port)\n")

        let secret = "whsec_" + Data((0..<32).map { UInt8($0) }).base64EncodedString()
        let sinkURL = "http://127.0.0.1:\(receiver.port)/audit"
        var plainSeconds = Double.infinity
        var bodies: [Data] = []
        // Three rounds each (fresh journal per round), the best one counts: the first round
        // also pays for loading the plugin and warming the receiver's threads.
        // The host's durable cursor costs two fsyncs per write call: the third variant shows
        // what larger host batches (audit.delivery.batch_entries) save.
        for (label, options, batchEntries) in [
            ("ndjson, 500 events per request", "", 2000),
            ("ndjson + v1 signature + gzip", ", gzip: true, signing: {hmac_secrets: [\"\(secret)\"]}", 2000),
            ("ndjson, host batches of 20000 entries", "", 20000),
        ] {
            var best = Double.infinity
            var requests = 0
            for round in 0..<rounds {
                receiver.reset()
                receiver.saveBodies = options.isEmpty && batchEntries == 2000 && round == 0
                let seconds = deliver(workspace, eventsPath: eventsPath, state: "state-\(label.count)-\(round)", batchEntries: batchEntries,
                    sinkConfig: "{url: \"\(sinkURL)\", max_events: 500\(options)}")
                best = min(best, seconds)
                requests = receiver.counts.requests
                if receiver.saveBodies { bodies = receiver.takeBodies() }
            }
            if options.isEmpty && batchEntries == 2000 { plainSeconds = best }
            print("plugin (\(label)): \(requests) requests, best of \(rounds) rounds \(format(best, 2)) s = \(rate(events, best)) events/s")
        }

        // The same bodies with curl: one process, one keep-alive connection, sequential.
        var requests: [String] = []
        for (index, body) in bodies.enumerated() {
            let file = workspace.path("body-\(index).ndjson")
            _ = FileManager.default.createFile(atPath: file, contents: body)
            requests.append("url = \"http://127.0.0.1:\(receiver.port)/audit\"\ndata-binary = \"@\(file)\"\n"
                + "header = \"Content-Type: application/x-ndjson\"\noutput = \"/dev/null\"\n")
        }
        let curlConfig = requests.joined(separator: "next\n")
        let curlConfigPath = workspace.path("curl.config")
        try? curlConfig.write(toFile: curlConfigPath, atomically: true, encoding: .utf8)
        var curlSeconds = Double.infinity
        var curlCounts = (lines: 0, requests: 0)
        for _ in 0..<rounds {
            receiver.reset()
            let start = now()
            ProcessRun.run("/usr/bin/curl", ["-s", "--fail", "-K", curlConfigPath]).checked("curl -K \(curlConfigPath)")
            curlSeconds = min(curlSeconds, Double(now() - start) / 1e9)
            curlCounts = receiver.counts
        }
        print("curl (same \(bodies.count) bodies, one keep-alive connection): \(curlCounts.requests) requests, \(curlCounts.lines) lines, best of \(rounds) rounds \(format(curlSeconds, 2)) s = \(rate(curlCounts.lines, curlSeconds)) lines/s")
        // The plugin's HTTP client alone on the same bodies: what the host pipeline adds is the
        // difference between this and the plugin's line.
        var clientSeconds = Double.infinity
        do {
            let client = try HTTPClient()
            for _ in 0..<rounds {
                let start = now()
                for body in bodies {
                    let response = try client.send(HTTPRequest(
                        method: "POST", url: sinkURL, headers: [HTTPHeader("Content-Type", "application/x-ndjson")], body: [UInt8](body)))
                    guard response.status == 200 else { fail("HTTPClient: HTTP \(response.status)") }
                }
                clientSeconds = min(clientSeconds, Double(now() - start) / 1e9)
            }
        } catch {
            fail("HTTPClient: \(error)")
        }
        print("HTTPClient alone (same bodies, one connection): best of \(rounds) rounds \(format(clientSeconds, 2)) s = \(rate(events, clientSeconds)) events/s")
        print("plugin / curl: \(percent(curlSeconds / plainSeconds)) (goal ≥ 50 %); HTTPClient / curl: \(percent(curlSeconds / clientSeconds))\n")

        measureReceiverDown(workspace, eventsPath: eventsPath)
    }

    /// Records the events, then times a delivery of all of them through the plugin.
    private func deliver(_ workspace: BenchWorkspace, eventsPath: String, state: String, batchEntries: Int, sinkConfig: String) -> Double {
        let quiet = Logger(minimumLevel: .error) { _, _ in }
        let configPath = workspace.writeConfig("\(state).yaml", stateName: state, audit: """
              checkpoints: { every_entries: 0, every_ms: 0 }
              delivery: { batch_entries: \(batchEntries), batch_bytes: 67108864 }
              sinks:
                - name: siem
                  library: libSIEMWebhook.so
                  config: \(sinkConfig)
            """)
        do {
            let config = try LaForgeConfig.load(path: configPath)
            let log = try AuditLog.open(config: config, logger: quiet)
            try record(eventsPath, into: log)
            let runtime = try PluginRuntime.start(config: config, options: .init(pluginDirectory: workspace.binaryDirectory, logger: quiet))
            let start = now()
            let result = DeliveryEngine.deliverAll(log: log, runtime: runtime, timeoutMilliseconds: 600_000)
            let seconds = Double(now() - start) / 1e9
            guard result["siem"] == true else { fail("the plugin did not deliver everything") }
            runtime.close()
            log.journal.close()
            return seconds
        } catch {
            fail("webhook benchmark set-up: \(error)")
        }
    }

    /// Records the events file in groups of 1000, reading it in 1 MiB chunks (never whole, so
    /// RSS shows the host and the plugin, not the input). `pacing` seconds of sleep per group.
    private func record(_ eventsPath: String, into log: AuditLog, pacing: Double = 0) throws {
        guard let input = FileHandle(forReadingAtPath: eventsPath) else { fail("cannot read \(eventsPath)") }
        defer { try? input.close() }
        var group: [AuditEvent] = []
        group.reserveCapacity(1000)
        var pending = Data()
        func emitGroup() throws {
            guard !group.isEmpty else { return }
            _ = try log.emit(group)
            group.removeAll(keepingCapacity: true)
            if pacing > 0 { usleep(UInt32(pacing * 1_000_000)) }
        }
        while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty {
            pending.append(chunk)
            while let newline = pending.firstIndex(of: 0x0A) {
                group.append(try AuditEvent(json: JSONParser.parse(Data(pending[pending.startIndex..<newline]))))
                pending = pending[(newline + 1)...]
                if group.count == 1000 { try emitGroup() }
            }
            pending = Data(pending)
        }
        try emitGroup()
    }

    /// The receiver's port is closed: the worker keeps retrying while events are recorded at a
    /// steady pace over `downSeconds`; RSS sampled every 100 ms.
    private func measureReceiverDown(_ workspace: BenchWorkspace, eventsPath: String) {
        let quiet = Logger(minimumLevel: .error) { _, _ in }
        let configPath = workspace.writeConfig("down.yaml", stateName: "state-down", audit: """
              delivery: { retry_base_ms: 10, retry_cap_ms: 200 }
              checkpoints: { every_entries: 0, every_ms: 0 }
              sinks:
                - name: siem
                  library: libSIEMWebhook.so
                  config: {url: "http://127.0.0.1:9/audit", max_events: 500, connect_timeout_ms: 200}
            """)
        do {
            let config = try LaForgeConfig.load(path: configPath)
            let log = try AuditLog.open(config: config, logger: quiet)
            let runtime = try PluginRuntime.start(config: config, options: .init(pluginDirectory: workspace.binaryDirectory, logger: quiet))
            let engine = DeliveryEngine(log: log, runtime: runtime)
            engine.start(follow: true)
            let sampler = RSSSampler()
            sampler.start()
            let before = statusField("VmRSS", pid: getpid()) ?? 0
            try record(eventsPath, into: log, pacing: Double(downSeconds) / Double(max(1, events / 1000)))
            let afterRecording = statusField("VmRSS", pid: getpid()) ?? 0
            usleep(2_000_000)
            engine.stop()
            _ = engine.wait()
            let samples = sampler.stop().sorted()
            let retries = log.metrics.sample("laforge_delivery_retries_total", labels: ["sink": "siem"])?.value ?? 0
            runtime.close()
            log.journal.close()
            print("receiver down (connection refused) for \(downSeconds + 2) s while \(events) events were recorded; \(Int(retries)) RETRY answers")
            print("  RSS before: \(mib(before)), after recording: \(mib(afterRecording)); samples min \(mib(samples.first ?? 0)), median \(mib(samples[samples.count / 2])), max \(mib(samples.last ?? 0))")
        } catch {
            fail("receiver-down set-up: \(error)")
        }
    }

    private func mib(_ kib: Int) -> String { format(Double(kib) / 1024, 1) + " MiB" }
}
