import Foundation
import Testing
@testable import LaForgeTestSupport

@testable import LaForgeAudit
@testable import LaForgeCore
@testable import LaForgeJournal
@testable import LaForgePlugins

#if canImport(Glibc)
    import Glibc
#endif

/// #17 item 9: PostgreSQL down or its password wrong when the host starts must not stop the
/// other sinks. The FileSink beside it delivers, `audit emit` exits 0 with its receipts, the
/// status names the sink that did not start and why, and the PostgreSQL sink's own worker keeps
/// retrying create until it starts, then gets everything from the journal.
extension PostgresAuditTests {
    struct TwoSinks {
        let setup: Setup
        let role: String
        let password: String
        var fileSink: String { setup.sandbox.root + "/audit.ndjson" }

        init() throws {
            setup = try Setup()
            role = "late_" + setup.database.suffix(8)
            password = "Pw-" + UUID().uuidString
            // The role exists with another password: the sink's DSN is refused until an
            // operator sets the one it carries.
            try setup.sql(
                "CREATE ROLE \(role) LOGIN PASSWORD 'other-\(UUID().uuidString)'; GRANT CREATE ON DATABASE \(setup.database) TO \(role)")
        }

        func drop() {
            _ = try? setup.server.sql("DROP OWNED BY \(role) CASCADE", database: setup.database)
            _ = try? setup.server.sql("DROP ROLE IF EXISTS \(role)")
        }

        /// Both sinks, PostgreSQL reached through `dsn` (written into the file: a child process
        /// started by the test gets no environment of its own).
        func writeConfig(dsn: String) throws {
            try setup.sandbox.writeConfig(audit: """
                  checkpoints:
                    every_entries: 0
                    every_ms: 0
                  delivery:
                    retry_base_ms: 20
                    retry_cap_ms: 200
                  sinks:
                    - name: file
                      library: libFileSink.so
                      config: {path: \(fileSink)}
                    - name: pg
                      library: libPostgresAudit.so
                      config:
                        dsn: "\(dsn)"
                """)
        }

        var dsn: String { setup.server.dsn(database: setup.database, user: role, password: password) }

        func fileSeqs() -> [Int] {
            ((try? setup.sandbox.read(fileSink)) ?? "").split(separator: "\n").compactMap { line in
                guard let json = try? JSONParser.parse(String(line)), json["checkpoint"] == nil else { return nil }
                return json["seq"]?.intValue
            }
        }

        func status() throws -> JSONValue {
            let result = try setup.sandbox.laforge(["audit", "status", "--json"])
            guard result.status == 0 else { throw AuditTestFailure("audit status failed: \(result.output)") }
            return try JSONParser.parse(result.stdout)
        }

        func sinkStatus(_ name: String) throws -> JSONValue? {
            guard case .array(let sinks)? = try status()["sinks"] else { return nil }
            return sinks.first { $0["name"] == .string(name) }
        }
    }

    @Test func aSinkDownOrRefusedAtStartLeavesTheOtherSinksDeliveringAndEmitSucceeding() throws {
        let sinks = try TwoSinks()
        defer { sinks.drop() }
        // A closed port: bind a socket, note its port, close it.
        let closedPort = try closedLoopbackPort()
        let downDSN = "postgresql://\(sinks.role):\(sinks.password)@127.0.0.1:\(closedPort)/\(sinks.setup.database)?connect_timeout=2"
        let cases: [(dsn: String, expected: String)] = [
            (sinks.dsn, "password authentication failed for user \"\(sinks.role)\""),
            (downDSN, "127.0.0.1"),
        ]
        var recorded = 0
        for (dsn, expected) in cases {
            try sinks.writeConfig(dsn: dsn)
            // Emit does not sit out its flush timeout for a sink that cannot start once the
            // FileSink has everything.
            let started = Date()
            let emit = try sinks.setup.sandbox.laforge(
                ["audit", "emit", "--actor", "alice\(recorded)", "--action", "schema.change", "--flush-timeout", "60", "--json-output"])
            #expect(Date().timeIntervalSince(started) < 30, "emit waited for the sink that cannot start")
            #expect(emit.status == 0, "\(emit.output.replacingOccurrences(of: sinks.password, with: "<secret>"))")
            #expect(!emit.output.contains(sinks.password), "the password appeared in emit's output")
            #expect(try parseReceipts(emit.stdout).map(\.seq) == [UInt64(recorded)], "\(emit.output)")
            recorded += 1
            #expect(emit.stderr.contains("sink pg is not started"), "\(emit.stderr)")
            #expect(emit.stderr.contains(expected), "\(emit.stderr)")
            // The FileSink got the entry although PostgreSQL never started.
            #expect(sinks.fileSeqs() == Array(0..<recorded))
            let pg = try sinks.sinkStatus("pg")
            #expect(pg?["started"] == .bool(false))
            let reason = pg?["not_started"]?.stringValue ?? ""
            #expect(reason.contains(expected), "\(reason)")
            #expect(!reason.contains(sinks.password))
            #expect(pg?["lag"]?.intValue == recorded)
            #expect(try sinks.sinkStatus("file")?["lag"]?.intValue == 0)
        }
        #expect(try sinks.setup.sql("SELECT to_regclass('audit.entries') IS NULL") == "t")

        // `audit deliver --follow` with the password still refused: the FileSink follows, the
        // PostgreSQL worker retries create with backoff; once the operator sets the password,
        // it starts and receives everything the journal holds.
        try sinks.writeConfig(dsn: sinks.dsn)
        let follow = try LaForgeChild(
            ["audit", "deliver", "--follow", "--config", sinks.setup.sandbox.configPath, "--plugin-dir", CLIRunner.buildDirectory],
            in: sinks.setup.sandbox.root, tag: "follow")
        defer {
            if follow.process.isRunning { follow.kill() }
            follow.wait()
        }
        for index in 0..<3 {
            let emit = try sinks.setup.sandbox.laforge(["audit", "emit", "--actor", "bob\(index)", "--action", "schema.change", "--flush-timeout", "0"])
            #expect(emit.status == 0, "\(emit.output.replacingOccurrences(of: sinks.password, with: "<secret>"))")
            recorded += 1
        }
        #expect(eventually(within: 30) { sinks.fileSeqs() == Array(0..<recorded) }, "\(sinks.fileSeqs())")
        #expect(eventually(within: 30) { follow.stderr.contains("sink pg is not started (attempt 3)") }, "\(follow.stderr)")
        #expect(try sinks.setup.sql("SELECT to_regclass('audit.entries') IS NULL") == "t")

        try sinks.setup.sql("ALTER ROLE \(sinks.role) PASSWORD '\(sinks.password)'")
        let delivered = eventually(within: 30) {
            (try? sinks.setup.sql("SELECT count(*) FROM audit.entries")) == "\(recorded)"
        }
        #expect(delivered, "\(follow.stderr.replacingOccurrences(of: sinks.password, with: "<secret>"))")
        #expect(!follow.stderr.contains(sinks.password))
        #expect(try sinks.setup.sql("SELECT string_agg(seq::text, ',' ORDER BY seq) FROM audit.entries")
            == (0..<recorded).map(String.init).joined(separator: ","))
        #expect(eventually(within: 10) { (try? sinks.sinkStatus("pg")?["started"]) == .bool(true) })
        kill(follow.process.processIdentifier, SIGTERM)
        #expect(follow.wait() == 0, "\(follow.stderr)")
    }
}
