import Foundation
import LaForgeHost

/// `laforge-bench postgres`: rows/s the PostgresAudit plugin delivers (`laforge audit deliver`
/// from a filled journal: reading the journal, COPY batches, idempotence check, commit) against
/// raw `psql \copy` of the same rows into the same table (same indexes and triggers) in the same
/// run, and single-row INSERTs in autocommit for contrast.
///
/// The server: `LAFORGE_PG_DSN` (a postgresql:// URI or key=value string of a role that may
/// CREATE DATABASE), else a throwaway cluster from `scripts/services/postgres start`, stopped at
/// the end. Each run works in a database of its own, dropped at the end. The DSN is never printed.
struct PostgresBenchmark {
    var entries = 100_000
    var singleRows = 5_000
    /// Rows per host batch and per COPY transaction (one commit each).
    var batchRows = 5_000

    init(arguments: [String]) {
        let options = integerOptions(arguments, known: ["--entries", "--single-rows", "--batch"])
        batchRows = options["--batch"] ?? batchRows
        entries = options["--entries"] ?? entries
        singleRows = options["--single-rows"] ?? singleRows
    }

    /// How to reach the server and where psql is.
    struct Server {
        var dsn: String
        var psql: String
        var startedHere: Bool

        /// The same server, another database.
        func dsn(database: String) -> String {
            if dsn.hasPrefix("postgres://") || dsn.hasPrefix("postgresql://") {
                let parts = dsn.split(separator: "?", maxSplits: 1)
                let base = parts[0]
                let afterHost = base.range(of: "//").map { base[$0.upperBound...] } ?? base[...]
                let prefix = afterHost.firstIndex(of: "/").map { base[..<$0] } ?? base
                return prefix + "/" + database + (parts.count > 1 ? "?" + parts[1] : "")
            }
            return dsn + " dbname=" + database
        }

        /// Runs psql (the DSN goes in its argument list, never into output); checked.
        @discardableResult
        func run(_ arguments: [String], database: String? = nil, what: String) -> ProcessRun {
            let result = ProcessRun.run(psql, ["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1"] + arguments + [database.map { dsn(database: $0) } ?? dsn])
            guard result.status == 0 else { fail("psql (\(what)) exited \(result.status): \(result.standardError)") }
            return result
        }
    }

    func run() {
        let workspace = BenchWorkspace(name: "postgres")
        defer { workspace.remove() }
        workspace.printHeader()
        let server = connect(workspace)
        defer {
            if server.startedHere { _ = Self.runService(workspace, "stop", standardOutput: "/dev/null") }
        }
        let database = "laforge_bench_\(getpid())"
        server.run(["-c", "CREATE DATABASE \(database) ENCODING 'UTF8' TEMPLATE template0"], what: "create database")
        defer { server.run(["-c", "DROP DATABASE IF EXISTS \(database) WITH (FORCE)"], what: "drop database") }
        let version = server.run(["-c", "SELECT current_setting('server_version')"], what: "version").standardOutput
        print("PostgreSQL \(version.trimmingCharacters(in: .whitespacesAndNewlines)) on \(server.startedHere ? "a throwaway cluster (scripts/services/postgres)" : "LAFORGE_PG_DSN"), fsync on, synchronous_commit on")

        // The journal, filled without sinks (not timed).
        let eventsPath = workspace.path("events.ndjson")
        let entryBytes = BenchEvents.write(count: entries, to: eventsPath)
        let fill = workspace.writeConfig("fill.yaml", stateName: "state", audit: "  checkpoints: { every_entries: 1000, every_ms: 0 }")
        ProcessRun.run(workspace.laforge, ["audit", "emit", "--stdin", "--config", fill], input: eventsPath).checked("laforge audit emit --stdin")
        let deliverConfig = workspace.writeConfig("deliver.yaml", stateName: "state", audit: """
              checkpoints: { every_entries: 1000, every_ms: 0 }
              delivery: { batch_entries: \(batchRows), batch_bytes: 67108864 }
              sinks:
                - name: pg
                  library: libPostgresAudit.so
                  config: { dsn: "${env:LAFORGE_BENCH_PG_DSN}", batch_size: \(batchRows) }
            """)
        setenv("LAFORGE_BENCH_PG_DSN", server.dsn(database: database), 1)
        // Creates the tables (not timed).
        ProcessRun.run(workspace.laforge, ["config", "validate", "--config", deliverConfig]).checked("laforge config validate")

        let copyFile = workspace.path("rows.copy")
        let insertFile = workspace.path("rows.sql")
        writeRows(config: deliverConfig, copyFile: copyFile, insertFile: insertFile)
        print("\(entries) entries (≈ \(entryBytes) B each) into audit.entries: primary key (chain_id, seq), 4 query indexes, the fill trigger (jsonb, time, actor, tenant, action)\n")

        let columns = "audit.entries (chain_id, seq, hash, prev_hash, canonical)"
        func rawCopy(_ chain: String) -> Double {
            let file = workspace.path("rows-\(chain).copy")
            ProcessRun.shell("sed 's/^default\t/\(chain)\t/' \(shellQuote(copyFile)) > \(shellQuote(file))").checked("sed")
            let run = server.run(["-c", "\\copy \(columns) FROM '\(file)'"], database: database, what: "\\copy")
            try? FileManager.default.removeItem(atPath: file)
            return Double(entries) / run.seconds
        }

        let rawBefore = rawCopy("raw-a")
        print("raw psql \\copy, chain raw-a            \(format(rawBefore, 0)) rows/s")
        let deliver = ProcessRun.run(workspace.laforge, ["audit", "deliver", "--config", deliverConfig]).checked("laforge audit deliver")
        let plugin = Double(entries) / deliver.seconds
        print("PostgresAudit (laforge audit deliver)   \(format(plugin, 0)) rows/s  (\(format(deliver.seconds, 2)) s, one COPY transaction per host batch of \(batchRows) rows, checkpoints every 1000)")
        let rawAfter = rawCopy("raw-b")
        print("raw psql \\copy, chain raw-b            \(format(rawAfter, 0)) rows/s")

        let insertRun = ProcessRun.run(server.psql, ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", insertFile, server.dsn(database: database)])
        guard insertRun.status == 0 else { fail("psql -f (single-row INSERT) exited \(insertRun.status): \(insertRun.standardError)") }
        let single = Double(singleRows) / insertRun.seconds
        print("single-row INSERT, autocommit (\(singleRows) rows) \(format(single, 0)) rows/s")

        let counted = server.run(["-c", "SELECT count(*) FROM audit.entries WHERE chain_id = 'default'"], database: database, what: "count")
            .standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        guard counted == String(entries) else { fail("the table holds \(counted) plugin rows, expected \(entries)") }
        let raw = (rawBefore + rawAfter) / 2
        print("")
        print("plugin / raw \\copy (mean of both)      \(format(100 * plugin / raw, 0)) %   (goal ≥ 70 %)")
        print("plugin / single-row INSERT             \(format(plugin / single, 1)) ×")
    }

    /// LAFORGE_PG_DSN, or a cluster started by scripts/services/postgres.
    private func connect(_ workspace: BenchWorkspace) -> Server {
        let environment = ProcessInfo.processInfo.environment
        let bin = environment["LAFORGE_TEST_PG_BIN"].map { $0 + "/psql" }
        let psql = bin.flatMap { FileManager.default.isExecutableFile(atPath: $0) ? $0 : nil } ?? "/usr/bin/psql"
        if let dsn = environment["LAFORGE_PG_DSN"], !dsn.isEmpty {
            return Server(dsn: dsn, psql: psql, startedHere: false)
        }
        let exportsPath = workspace.path("postgres.env")
        guard Self.runService(workspace, "start", standardOutput: exportsPath) == 0 else { fail("scripts/services/postgres start failed") }
        let printed = (try? String(contentsOfFile: exportsPath, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(atPath: exportsPath)
        var exports: [String: String] = [:]
        for line in printed.split(separator: "\n") where line.hasPrefix("export ") {
            let pair = line.dropFirst("export ".count).split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { continue }
            exports[String(pair[0])] = String(pair[1]).trimmingCharacters(in: CharacterSet(charactersIn: "'"))
        }
        guard let dsn = exports["LAFORGE_TEST_PG_DSN"], let bin = exports["LAFORGE_TEST_PG_BIN"] else {
            fail("scripts/services/postgres start printed no LAFORGE_TEST_PG_DSN")
        }
        return Server(dsn: dsn, psql: bin + "/psql", startedHere: true)
    }

    /// Runs `scripts/services/postgres ACTION` with posix_spawn and waitpid: Foundation's Process
    /// can miss the exit of a script whose child daemonizes (the postmaster) and wait forever.
    /// Standard error stays the benchmark's (the script's progress lines).
    static func runService(_ workspace: BenchWorkspace, _ action: String, standardOutput: String) -> Int32 {
        let command = [workspace.packageRoot + "/scripts/services/postgres", action]
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, standardOutput, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        var arguments = command.map { strdup($0) } + [nil]
        defer { for argument in arguments { free(argument) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, command[0], &actions, nil, &arguments, environ) == 0 else { return -1 }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return status
    }

    /// The journal's entries as the rows the plugin writes: a COPY text file (for \copy) and a
    /// file of single-row INSERTs (the first `singleRows`, chain `single`).
    private func writeRows(config: String, copyFile: String, insertFile: String) {
        let loaded: LaForgeConfig
        do { loaded = try LaForgeConfig.load(path: config) } catch { fail("\(error)") }
        let reader: AuditReader
        do { reader = try AuditReader.open(config: loaded) } catch { fail("\(error)") }
        _ = FileManager.default.createFile(atPath: copyFile, contents: nil)
        _ = FileManager.default.createFile(atPath: insertFile, contents: nil)
        guard let copy = FileHandle(forWritingAtPath: copyFile), let insert = FileHandle(forWritingAtPath: insertFile) else {
            fail("cannot write \(copyFile)")
        }
        defer {
            try? copy.close()
            try? insert.close()
        }
        var next: UInt64 = 0
        while next < UInt64(entries) {
            let batch: [JournalEntry]
            do { batch = try reader.scan(from: next, limit: 4096) } catch { fail("\(error)") }
            guard let last = batch.last else { break }
            var copyText = ""
            var insertText = ""
            for entry in batch {
                let canonical = String(decoding: entry.payload, as: UTF8.self)
                let escaped = canonical.replacingOccurrences(of: "\\", with: "\\\\")
                copyText += "default\t\(entry.seq)\t\\\\x\(entry.hash.hexString)\t\\\\x\(entry.prevHash.hexString)\t\(escaped)\n"
                if entry.seq < UInt64(singleRows) {
                    insertText += "INSERT INTO audit.entries (chain_id, seq, hash, prev_hash, canonical) VALUES ('single', \(entry.seq), "
                        + "'\\x\(entry.hash.hexString)', '\\x\(entry.prevHash.hexString)', '\(canonical.replacingOccurrences(of: "'", with: "''"))');\n"
                }
            }
            copy.write(Data(copyText.utf8))
            insert.write(Data(insertText.utf8))
            next = last.seq + 1
        }
    }
}
