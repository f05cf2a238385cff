import Foundation
import LaForgeHost
import PluginABI

/// `laforge-bench abi`: what one batch write costs when it crosses the C ABI through the host
/// wrapper (gate, status mapping, stored-prefix checks), against
///   raw  — the plugin's write function pointer called directly on the same C batch, and
///   peer — the same work behind a Swift protocol call (an in-process Swift sink);
/// and host start-up with every plugin loaded. Goals (issue 2): ≤ 1 µs per call, ≤ 100 ms start-up.
struct ABIBenchmark {
    var iterations = 2_000_000
    var batchSize = 100

    init(arguments: [String]) {
        var index = 0
        while index + 1 < arguments.count {
            if arguments[index] == "--iterations", let value = Int(arguments[index + 1]) { iterations = value }
            if arguments[index] == "--batch", let value = Int(arguments[index + 1]) { batchSize = value }
            index += 2
        }
    }

    func run() {
        let pluginDirectory = PluginPathResolver.defaultDirectory()
        print("laforge-bench abi — \(ISO8601DateFormatter().string(from: Date())) — \(machineDescription())")
        print("plugin directory: \(pluginDirectory); \(iterations) calls, batches of \(batchSize) records\n")
        measureCalls(pluginDirectory: pluginDirectory)
        print("")
        measureStartup(pluginDirectory: pluginDirectory)
    }

    private func makeBatch() -> AuditBatch {
        var previous = [UInt8](repeating: 0, count: 32)
        let records = (0..<batchSize).map { index -> AuditRecord in
            let data = Array(String(repeating: "x", count: 600).utf8)
            let hash = SHA256.hash([0] + data + Array("\(index)".utf8))
            defer { previous = hash }
            return AuditRecord(kind: .entry, seq: UInt64(index), hash: hash, prevHash: previous, data: data)
        }
        return AuditBatch(chainID: "bench", records: records)
    }

    private func startRuntime(_ yaml: String, pluginDirectory: String) -> PluginRuntime {
        do {
            let config = try LaForgeConfig.parse(text: yaml, sourceName: "bench.yaml")
            return try PluginRuntime.start(config: config, options: .init(pluginDirectory: pluginDirectory))
        } catch {
            FileHandle.standardError.write(Data("laforge-bench: set-up failed (build all products first: swift build -c release): \(error)\n".utf8))
            exit(2)
        }
    }

    private func measureCalls(pluginDirectory: String) {
        let runtime = startRuntime(
            """
            version: 1
            audit:
              sinks:
                - name: discard
                  library: libbench_null_sink.so
            """, pluginDirectory: pluginDirectory)
        defer { runtime.close() }
        let sink = runtime.sinks[0]
        let batch = makeBatch()

        // raw: the vtable's write called directly, as a C host would.
        let library = sink.library.path
        let handle = dlopen(library, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE)!
        let entry = unsafeBitCast(dlsym(handle, LAFORGE_PLUGIN_ENTRY_SYMBOL)!, to: laforge_plugin_entry_fn.self)
        var info = laforge_host_info(struct_size: UInt32(MemoryLayout<laforge_host_info>.size), abi_major: 1, abi_minor: 0, host_version: nil)
        var refusal: UnsafePointer<CChar>? = nil
        let vtable = entry(&info, &refusal)!.pointee.audit_sink!.pointee
        var instance: OpaquePointer? = nil
        _ = vtable.create!("{}", 2, nil, &instance)
        defer { vtable.destroy!(instance) }

        let peer = makePeer()
        let rounds = 5
        let perRound = max(iterations / rounds, 1)

        let raw = medianNanoseconds(rounds: rounds) {
            batch.withCBatch { cBatch in
                var stored = 0
                for _ in 0..<perRound { _ = vtable.write!(instance, cBatch, &stored) }
            }
        } / Double(perRound)
        let swiftPeer = medianNanoseconds(rounds: rounds) {
            for _ in 0..<perRound { _ = peer.write(batch) }
        } / Double(perRound)
        var failures = 0
        let host = medianNanoseconds(rounds: rounds) {
            for _ in 0..<perRound {
                if (try? sink.write(batch)) != .stored { failures += 1 }
            }
        } / Double(perRound)
        precondition(failures == 0, "the null sink failed \(failures) writes")
        // Use the peer's count so the optimizer cannot drop its calls.
        precondition(peer.recordsSeen > 0)

        print("batch write (\(batchSize) records), median of \(rounds) rounds × \(perRound) calls:")
        print("  raw C function pointer call         \(format(raw, 1)) ns/call")
        print("  peer: Swift protocol call           \(format(swiftPeer, 1)) ns/call")
        print("  host: AuditSinkInstance.write (ABI) \(format(host, 1)) ns/call")
        print("  ratio host/raw \(format(host / raw, 2))×, host/peer \(format(host / swiftPeer, 2))×; "
            + "ABI overhead over the peer \(format(host - swiftPeer, 1)) ns (goal ≤ 1000 ns)")
    }

    private func measureStartup(pluginDirectory: String) {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("laforge-bench-\(getpid())").path
        try? FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        try? "sink_token=bench\n".write(toFile: scratch + "/secrets.env", atomically: true, encoding: .utf8)
        let yaml = """
            version: 1
            secret_backends:
              - name: dev
                library: libexample_plugin.so
                config: { secrets_file: \(scratch)/secrets.env }
            audit:
              sinks:
                - name: file
                  library: libFileSink.so
                  config: { path: \(scratch)/audit.ndjson }
                - name: example
                  library: libexample_plugin.so
                  config: { path: \(scratch)/example.log, token: "${secret:dev/sink_token}" }
                - name: discard
                  library: libbench_null_sink.so
            """
        let configPath = scratch + "/laforge.yaml"
        try? yaml.write(toFile: configPath, atomically: true, encoding: .utf8)

        let inProcess = medianNanoseconds(rounds: 21) {
            startRuntime(yaml, pluginDirectory: pluginDirectory).close()
        }
        // Peer: the process start-up floor, `/bin/true` spawned the same way.
        let laforge = pluginDirectory + "/laforge"
        let spawnTrue = medianNanoseconds(rounds: 11) { spawn("/bin/true", []) }
        let cli = medianNanoseconds(rounds: 11) {
            spawn(laforge, ["config", "validate", "--config", configPath, "--plugin-dir", pluginDirectory])
        }
        print("start-up with every plugin loaded (secret backend + 3 sinks, one via ${secret:}):")
        print("  in-process PluginRuntime.start + close  \(format(inProcess / 1e6, 2)) ms (median of 21; first load included once)")
        print("  `laforge config validate` process       \(format(cli / 1e6, 2)) ms (median of 11; goal ≤ 100 ms)")
        print("  raw: spawn /bin/true                    \(format(spawnTrue / 1e6, 2)) ms; ratio \(format(cli / spawnTrue, 1))×")
    }

    private func spawn(_ path: String, _ arguments: [String]) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { fatalError("cannot run \(path): \(error)") }
        process.waitUntilExit()
        precondition(process.terminationStatus == 0, "\(path) \(arguments.joined(separator: " ")) exited \(process.terminationStatus)")
    }
}

/// The peer: a sink written in Swift and called in-process through a protocol existential.
protocol SwiftSink: AnyObject {
    func write(_ batch: AuditBatch) -> SinkWriteOutcome
    var recordsSeen: Int { get }
}

/// Opaque to the optimizer, so the peer is a real dynamic call (as a loaded Swift plugin
/// would be), not one inlined into the benchmark loop.
@inline(never) @_optimize(none)
func makePeer() -> any SwiftSink { CountingSwiftSink() }

final class CountingSwiftSink: SwiftSink {
    var recordsSeen = 0
    func write(_ batch: AuditBatch) -> SinkWriteOutcome {
        recordsSeen += batch.count
        return .stored
    }
}
