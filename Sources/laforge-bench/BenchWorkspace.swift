import Foundation
import LaForgeHost

/// Where a benchmark that drives the real `laforge` binary runs: a fresh scratch folder (under
/// the temporary directory, which on these machines is the same disk as the build directory),
/// the built binaries next to `laforge-bench`, and the helper files in the repository's `bench/`.
struct BenchWorkspace {
    let scratch: String
    /// The folder holding `laforge`, `laforge-bench` and the plugin libraries (`.build/release`).
    let binaryDirectory: String
    /// The repository, for `bench/` and `Sources/PluginABI/include`.
    let packageRoot: String

    var laforge: String { binaryDirectory + "/laforge" }

    let name: String

    init(name: String) {
        self.name = name
        scratch = (NSTemporaryDirectory() as NSString).appendingPathComponent("laforge-bench-\(name)-\(getpid())")
        try? FileManager.default.removeItem(atPath: scratch)
        try? FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        binaryDirectory = PluginPathResolver.defaultDirectory()
        // This file is Sources/laforge-bench/BenchWorkspace.swift; a moved binary falls back
        // to the working directory (run it from the repository).
        let fromSource = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        packageRoot = FileManager.default.fileExists(atPath: fromSource + "/bench/fsync-limit.c")
            ? fromSource : FileManager.default.currentDirectoryPath
        guard FileManager.default.isExecutableFile(atPath: laforge) else {
            fail("no laforge binary in \(binaryDirectory): build everything first (swift build -c release)")
        }
    }

    /// The first lines of every benchmark's output: what ran, when, where.
    func printHeader() {
        print("laforge-bench \(name) — \(ISO8601DateFormatter().string(from: Date())) — \(machineDescription())")
        print("scratch \(scratch) on \(diskDescription(of: scratch))")
    }

    func path(_ name: String) -> String { (scratch as NSString).appendingPathComponent(name) }

    func remove() { try? FileManager.default.removeItem(atPath: scratch) }

    /// A configuration whose state directory is `stateName` inside the scratch folder.
    /// `audit` is YAML for the lines under `audit:` (indented by the caller with 2 spaces).
    func writeConfig(_ name: String, stateName: String, audit: String) -> String {
        let yaml = """
            version: 1
            state_dir: \(path(stateName))
            audit:
            \(audit)
            """
        let configPath = path(name)
        do { try yaml.write(toFile: configPath, atomically: true, encoding: .utf8) } catch {
            fail("cannot write \(configPath): \(error)")
        }
        return configPath
    }

    /// `source device, filesystem, mount point` of the disk holding `path`.
    func diskDescription(of path: String) -> String {
        let run = ProcessRun.shell("df --output=source,fstype,size,target \(shellQuote(path)) | tail -1")
        return run.standardOutput.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
    }
}

/// One finished child process: status, wall time and what it printed.
struct ProcessRun {
    var status: Int32
    var nanoseconds: UInt64
    var standardOutput: String
    var standardError: String

    var seconds: Double { Double(nanoseconds) / 1e9 }

    /// Runs `executable` to completion and times it from spawn to exit. Standard input is the
    /// file at `input` (or nothing); output is collected in files so a chatty child never
    /// blocks on a full pipe.
    static func run(_ executable: String, _ arguments: [String], input: String? = nil) -> ProcessRun {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let outputPath = NSTemporaryDirectory() + "/laforge-bench-out-\(getpid())-\(UUID().uuidString)"
        let errorPath = outputPath + ".err"
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errorPath, contents: nil)
        defer {
            try? FileManager.default.removeItem(atPath: outputPath)
            try? FileManager.default.removeItem(atPath: errorPath)
        }
        process.standardOutput = FileHandle(forWritingAtPath: outputPath)
        process.standardError = FileHandle(forWritingAtPath: errorPath)
        process.standardInput = input.flatMap { FileHandle(forReadingAtPath: $0) } ?? FileHandle.nullDevice
        let start = now()
        do { try process.run() } catch { fail("cannot run \(executable): \(error)") }
        process.waitUntilExit()
        let elapsed = now() - start
        return ProcessRun(
            status: process.terminationStatus, nanoseconds: elapsed,
            standardOutput: (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "",
            standardError: (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "")
    }

    static func shell(_ command: String) -> ProcessRun { run("/bin/bash", ["-c", command]) }

    /// The run, or the end of the benchmark with what the child said.
    @discardableResult
    func checked(_ what: String) -> ProcessRun {
        guard status == 0 else {
            fail("\(what) exited \(status)\n\(standardOutput)\(standardError)")
        }
        return self
    }
}

/// Audit events as a service records them, one NDJSON line each, sized so that the chained
/// entry (the canonical event plus chain, seq and prev_hash) is about `entryBytes` long.
enum BenchEvents {
    static func line(_ index: Int, padding: Int) -> String {
        let id = String(format: "%08d", index)
        return #"{"actor":{"user":"user-\#(id)@example.com","roles":["dba","release"],"claims":{"iss":"https://idp.example.com","sub":"u-\#(id)"}},"#
            + #""action":"schema.change","outcome":"success","timestamp":"2026-11-27T12:00:00.123456Z","tenant":"acme","#
            + #""request_id":"req-\#(id)","target":"db.public.orders","artifact_hash":"sha256:\#(String(repeating: "ab", count: 32))","#
            + #""data":{"statement":"ALTER TABLE orders ADD COLUMN note text","note":"\#(String(repeating: "x", count: padding))"}}"#
    }

    /// The chained entry's size for a line, as `AuditLog` would build it mid-run.
    static func entrySize(_ line: String, seq: UInt64) -> Int {
        guard let event = try? AuditEvent(json: JSONParser.parse(line)) else { fail("a benchmark event is invalid: \(line)") }
        let body = JSONCanonicalizer.canonicalize(event.jsonValue())
        return AuditEntry.bytes(chainID: "default", event: body, seq: seq, prevHash: [UInt8](repeating: 0, count: 32)).count
    }

    /// Writes `count` events to `path`; returns the average entry size they produce.
    @discardableResult
    static func write(count: Int, to path: String, entryBytes: Int = 600) -> Int {
        let base = entrySize(line(0, padding: 0), seq: UInt64(count / 2))
        let padding = max(0, entryBytes - base)
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        guard let file = FileHandle(forWritingAtPath: path) else { fail("cannot write \(path)") }
        defer { try? file.close() }
        var chunk = ""
        for index in 0..<count {
            chunk += line(index, padding: padding)
            chunk += "\n"
            if chunk.utf8.count > 1 << 20 {
                file.write(Data(chunk.utf8))
                chunk = ""
            }
        }
        file.write(Data(chunk.utf8))
        return entrySize(line(count / 2, padding: padding), seq: UInt64(count / 2))
    }
}

/// Counts the entry lines of a FileSink file set (every line but the `{"checkpoint":…}` ones).
func fileSinkEntryCount(_ path: String) -> Int {
    let checkpointPrefix = Array(#"{"checkpoint":"#.utf8)
    var count = 0
    for file in ChainSource.fileSet(for: path) {
        guard let data = FileManager.default.contents(atPath: file) else { continue }
        let bytes = [UInt8](data)
        var lineStart = 0
        while let newline = bytes[lineStart...].firstIndex(of: 0x0A) {
            if !bytes[lineStart..<newline].starts(with: checkpointPrefix) { count += 1 }
            lineStart = newline + 1
        }
    }
    return count
}

/// The first number in `text` after `label` (e.g. `lines_per_s=` or `group=1000: `).
func number(after label: String, in text: String) -> Double? {
    guard let range = text.range(of: label) else { return nil }
    let digits = text[range.upperBound...].prefix { $0.isNumber || $0 == "." }
    return Double(digits)
}

func shellQuote(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }

/// `--name N` pairs of integer options; an unknown option or a non-integer value stops the run.
func integerOptions(_ arguments: [String], known: [String]) -> [String: Int] {
    var options: [String: Int] = [:]
    var index = 0
    while index < arguments.count {
        let name = arguments[index]
        guard known.contains(name) else { fail("unknown option \(name) (known: \(known.joined(separator: ", ")))") }
        guard index + 1 < arguments.count, let value = Int(arguments[index + 1]) else { fail("\(name) needs an integer") }
        options[name] = value
        index += 2
    }
    return options
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("laforge-bench: \(message)\n".utf8))
    exit(2)
}

func rate(_ count: Int, _ seconds: Double) -> String { format(Double(count) / seconds, 0) }

func percent(_ ratio: Double) -> String { format(ratio * 100, 1) + " %" }

func megabytes(_ bytes: Int) -> String { format(Double(bytes) / 1_048_576, 1) + " MiB" }
