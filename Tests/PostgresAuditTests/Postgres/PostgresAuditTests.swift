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

/// PostgresAudit against a real PostgreSQL (scripts/services/postgres): byte-exact storage and
/// verification from the table, the append-only triggers (also under session_replication_role
/// = replica), tampering by a superuser caught by the chain, a server restart in the middle of a
/// long delivery, credential and privilege failures that name the cause and never a secret, and
/// the roles file. Every test has a database of its own; the suite is serialized because one
/// test restarts the shared server.
@Suite(.serialized) struct PostgresAuditTests {
    /// One test's database, sandbox and configuration (`${env:LAFORGE_PG_DSN}` → the database).
    final class Setup {
        let server: PostgresTestServer
        let database: String
        let sandbox: AuditSandbox
        var environment: [String: String]

        init(sinkOptions: String = "", checkpointEvery: Int = 5, delivery: String = "") throws {
            server = try PostgresTestServer.fromEnvironment()
            database = try server.createDatabase()
            sandbox = try AuditSandbox()
            environment = ["LAFORGE_PG_DSN": server.dsn(database: database)]
            try writeConfig(sinkOptions: sinkOptions, checkpointEvery: checkpointEvery, delivery: delivery)
        }

        deinit { server.drop(database) }

        func writeConfig(sinkOptions: String = "", checkpointEvery: Int = 5, delivery: String = "") throws {
            try sandbox.writeConfig(audit: """
                  checkpoints:
                    every_entries: \(checkpointEvery)
                    every_ms: 0
                  delivery:
                    retry_base_ms: 20
                    retry_cap_ms: 500
                \(delivery)
                  sinks:
                    - name: pg
                      library: libPostgresAudit.so
                      config:
                        dsn: ${env:LAFORGE_PG_DSN}
                \(sinkOptions)
                """)
        }

        func laforge(_ arguments: [String], config: String? = nil) throws -> CLIResult {
            try CLIRunner.run(
                arguments + ["--config", config ?? sandbox.configPath, "--plugin-dir", CLIRunner.buildDirectory],
                environment: environment, in: sandbox.root)
        }

        @discardableResult
        func sql(_ statements: String) throws -> String { try server.sql(statements, database: database) }

        /// Records events straight into the journal (no delivery) in groups (a checkpoint is
        /// signed after a group reaches every_entries), and a checkpoint at the end.
        func record(_ events: [AuditEvent], groupSize: Int = 500) throws {
            let config = try LaForgeConfig.load(
                path: sandbox.configPath, environment: ProcessInfo.processInfo.environment.merging(environment) { $1 })
            let log = try AuditLog.open(config: config, logger: CapturedLog().logger)
            for group in stride(from: 0, to: events.count, by: groupSize) {
                _ = try log.emit(Array(events[group..<min(group + groupSize, events.count)]))
            }
            try log.signCheckpoint()
            try log.close()
        }

        func verify() throws -> (status: Int32, report: JSONValue?, result: CLIResult) {
            let result = try laforge(["verify", "chain", "--sink", "pg", "--json"])
            return (result.status, try? JSONParser.parse(result.stdout), result)
        }
    }

    /// Events with what makes byte-exactness hard: non-ASCII, escapes, a tab and a newline, a
    /// NUL (jsonb refuses \u0000, the canonical text keeps it), a quote, a backslash.
    static func awkwardEvents(_ count: Int) -> [AuditEvent] {
        (0..<count).map { index in
            auditEvent(
                "user-\(index < 10 ? "0" : "")\(index)", action: index % 3 == 0 ? "rbac.grant" : "schema.change",
                data: [
                    "text": .string(["plain", "é✓😀 ünïcödé", "tab\tnewline\nreturn\r", "quote\" backslash\\ slash/", "nul\u{0}byte"][index % 5]),
                    "n": .number(Double(index)),
                ])
        }
    }

    @Test func entriesLandByteExactAndVerifyChainPasses() throws {
        let setup = try Setup()
        try setup.record(Self.awkwardEvents(23), groupSize: 5)
        let deliver = try setup.laforge(["audit", "deliver", "--timeout", "60"])
        #expect(deliver.status == 0, "\(deliver.output)")

        let journal = try setup.laforge(["audit", "tail", "-n", "1000", "--json"])
        let stored = try setup.sql("SELECT canonical FROM audit.entries ORDER BY seq")
        #expect(journal.stdout.trimmingCharacters(in: .newlines) == stored)
        #expect(try setup.sql("SELECT count(*), min(seq), max(seq) FROM audit.entries") == "23|0|22")
        // The query columns come from the canonical text; the NUL entry has no jsonb copy.
        #expect(try setup.sql("SELECT actor, action, tenant IS NULL, event_time IS NOT NULL FROM audit.entries WHERE seq = 3") == "user-03|rbac.grant|t|t")
        #expect(try setup.sql("SELECT count(*) FROM audit.entries WHERE entry IS NULL") == "4")
        #expect(try setup.sql("SELECT count(*) FROM audit.entries WHERE entry IS NULL AND actor IS NULL") == "4")
        // Checkpoints every 5 entries and the final one.
        #expect(try setup.sql("SELECT string_agg(tree_size::text, ',' ORDER BY tree_size) FROM audit.entries_checkpoints") == "5,10,15,20,23")

        let (status, report, result) = try setup.verify()
        #expect(status == 0, "\(result.output)")
        #expect(report?["entries"]?.intValue == 23)
        #expect(report?["checkpoints"]?.intValue == 5)

        let query = try setup.laforge(["audit", "query", "--sink", "pg", "--action", "rbac.*", "--json"])
        #expect(query.status == 0, "\(query.output)")
        let seqs = query.stdout.split(separator: "\n").compactMap { try? JSONParser.parse(String($0))["seq"]?.intValue }
        #expect(seqs == [0, 3, 6, 9, 12, 15, 18, 21])
        #expect(try setup.sql("SELECT version FROM audit.entries_schema_version") == "1")
    }

    /// The sink driven through the host API, as the delivery engine does.
    func sink(_ setup: Setup, options: String = "", logs: CapturedLog = CapturedLog()) throws -> AuditSinkInstance {
        let library = try postgresAuditLibrary()
        let check = try PluginSchemaCheck(schemaText: library.descriptor.configSchemaText(for: .auditSink), library: library.path)
        let json = try check.normalize(try JSONParser.parse(#"{"dsn":"\#(setup.environment["LAFORGE_PG_DSN"]!)"\#(options)}"#)).get()
        let context = PluginHostContext(instanceName: "pg", logger: logs.logger, metrics: MetricsRegistry(logger: logs.logger), secrets: nil)
        return try AuditSinkInstance(name: "pg", library: library, configJSON: PluginConfigJSON(text: json), context: context)
    }

    static func record(_ seq: UInt64, user: String, chain: String = "c1") -> AuditRecord {
        let data = Array(#"{"chain":"\#(chain)","event":{"action":"a.b","actor":{"user":"\#(user)"}},"prev_hash":"00","seq":\#(seq),"v":1}"#.utf8)
        return AuditRecord(kind: .entry, seq: seq, hash: SHA256.leafHash(data), prevHash: [UInt8](repeating: 0, count: 32), data: data)
    }

    @Test func aResentBatchStoresEachRowOnceAndADifferentRowAtTheSameSeqIsRefused() throws {
        let setup = try Setup()
        let sink = try sink(setup, options: #","batch_size":3"#)
        defer { sink.close() }
        let records = (0..<10).map { Self.record(UInt64($0), user: "u\($0)") }
        #expect(try sink.write(AuditBatch(chainID: "c1", records: Array(records[0..<6]))) == .stored)
        // Re-sent with more after it (as after a lost acknowledgement): rows 0…5 are not repeated.
        #expect(try sink.write(AuditBatch(chainID: "c1", records: records)) == .stored)
        #expect(try sink.write(AuditBatch(chainID: "c1", records: records), from: 4) == .stored)
        #expect(try setup.sql("SELECT count(*), count(DISTINCT seq) FROM audit.entries") == "10|10")

        // A different entry at seq 7 (another journal under the same chain id): refused, loudly,
        // after storing the new rows before it.
        var forged = (10..<12).map { Self.record(UInt64($0), user: "u\($0)") }
        forged.insert(Self.record(7, user: "mallory"), at: 1)
        let outcome = try sink.write(AuditBatch(chainID: "c1", records: forged))
        guard case .permanentError(let stored, let message) = outcome else {
            Issue.record("expected a permanent error, got \(outcome)")
            return
        }
        #expect(stored == 1)
        #expect(message.contains("entry seq 7 of chain c1: audit.entries already holds a different one there"), "\(message)")
        #expect(try setup.sql("SELECT count(*), max(seq) FROM audit.entries") == "11|10")
        #expect(try setup.sql("SELECT actor FROM audit.entries WHERE seq = 7") == "u7")

        // Bytes the server refuses (invalid UTF-8) fail that record alone: the ones before it
        // are stored, the host dead-letters it and goes on.
        var invalid = Self.record(21, user: "x")
        invalid.data = Array(invalid.data.dropLast(2)) + [0xFF, 0x7D]
        let bad = try sink.write(AuditBatch(chainID: "c1", records: [Self.record(20, user: "u20"), invalid, Self.record(22, user: "u22")]))
        guard case .permanentError(1, let refusal) = bad else {
            Issue.record("expected a permanent error at index 1, got \(bad)")
            return
        }
        #expect(refusal.contains("the server refuses entry seq 21"), "\(refusal)")
        #expect(try setup.sql("SELECT string_agg(seq::text, ',' ORDER BY seq) FROM audit.entries WHERE seq >= 20") == "20")
        #expect(try sink.write(AuditBatch(chainID: "c1", records: [Self.record(22, user: "u22")])) == .stored)

        // Another chain in the same table is independent.
        #expect(try sink.write(AuditBatch(chainID: "c2", records: [Self.record(0, user: "other", chain: "c2")])) == .stored)
        #expect(try setup.sql("SELECT count(*) FROM audit.entries WHERE chain_id = 'c2'") == "1")
    }

    @Test func updateDeleteAndTruncateAreRefusedAlsoAsReplica() throws {
        let setup = try Setup()
        try setup.record(Self.awkwardEvents(6))
        #expect(try setup.laforge(["audit", "deliver", "--timeout", "60"]).status == 0)
        let attempts = [
            "UPDATE audit.entries SET actor = 'x' WHERE seq = 1",
            "DELETE FROM audit.entries WHERE seq = 1",
            "TRUNCATE audit.entries",
            "UPDATE audit.entries_checkpoints SET note = 'x'",
            "DELETE FROM audit.entries_checkpoints",
            "TRUNCATE audit.entries_checkpoints",
        ]
        for replica in [false, true] {
            for statement in attempts {
                let script = (replica ? "SET session_replication_role = replica; " : "") + statement
                let result = try setup.server.psql(script, database: setup.database)
                #expect(result.status != 0, "\(script) was not refused")
                #expect(result.stderr.contains("is refused: the LaForge audit trail is append-only"), "\(script): \(result.stderr)")
            }
        }
        #expect(try setup.sql("SELECT count(*) FROM audit.entries") == "6")
        #expect(try setup.verify().status == 0)
    }

    @Test func aSuperuserEditBehindDisabledTriggersIsCaughtByVerifyNamingTheSeq() throws {
        let setup = try Setup()
        try setup.record(Self.awkwardEvents(20))
        #expect(try setup.laforge(["audit", "deliver", "--timeout", "60"]).status == 0)
        #expect(try setup.verify().status == 0)
        try setup.sql(
            """
            ALTER TABLE audit.entries DISABLE TRIGGER laforge_refuse_update_delete;
            UPDATE audit.entries SET canonical = replace(canonical, 'user-07', 'user-0X') WHERE seq = 7;
            ALTER TABLE audit.entries ENABLE ALWAYS TRIGGER laforge_refuse_update_delete;
            """)
        let (status, report, result) = try setup.verify()
        #expect(status == 1, "\(result.output)")
        #expect(report?["failure"]?["seq"]?.intValue == 7, "\(result.output)")
        #expect(report?["failure"]?["kind"]?.stringValue == "content changed")
        #expect(report?["failure"]?["location"]?.stringValue?.contains("table audit.entries, chain default, seq") == true, "\(result.output)")
        let text = try setup.laforge(["verify", "chain", "--sink", "pg"])
        #expect(text.status == 1)
        #expect(text.stderr.contains("FAILED"), "\(text.output)")

        // A deleted row (the edit undone) is an entry missing.
        try setup.sql(
            """
            ALTER TABLE audit.entries DISABLE TRIGGER USER;
            UPDATE audit.entries SET canonical = replace(canonical, 'user-0X', 'user-07') WHERE seq = 7;
            DELETE FROM audit.entries WHERE seq = 12;
            ALTER TABLE audit.entries ENABLE ALWAYS TRIGGER laforge_refuse_update_delete;
            ALTER TABLE audit.entries ENABLE ALWAYS TRIGGER laforge_fill_query_columns;
            """)
        let deleted = try setup.verify()
        #expect(deleted.status == 1, "\(deleted.result.output)")
        #expect(deleted.report?["failure"]?["seq"]?.intValue == 12, "\(deleted.result.output)")
        #expect(deleted.report?["failure"]?["kind"]?.stringValue == "entry missing", "\(deleted.result.output)")
    }

    @Test func aServerRestartInTheMiddleOfALongDeliveryLosesAndDuplicatesNothing() throws {
        let total = 20_000
        let setup = try Setup(
            sinkOptions: "        batch_size: 100", checkpointEvery: 500, delivery: "    batch_entries: 100")
        try setup.record((0..<total).map { auditEvent("u\($0 % 97)", data: ["n": .number(Double($0))]) })

        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLIRunner.buildDirectory + "/laforge")
        process.arguments = [
            "audit", "deliver", "--timeout", "300", "--config", setup.sandbox.configPath, "--plugin-dir", CLIRunner.buildDirectory,
        ]
        var environment = ProcessInfo.processInfo.environment
        environment.merge(setup.environment) { $1 }
        process.environment = environment
        let errorPath = setup.sandbox.root + "/deliver.err"
        _ = FileManager.default.createFile(atPath: errorPath, contents: nil)
        process.standardError = FileHandle(forWritingAtPath: errorPath)
        process.standardOutput = FileHandle.nullDevice
        try process.run()

        // Restart once some rows, but not all, are in.
        var before = 0
        for _ in 0..<6000 {
            before = Int((try? setup.sql("SELECT count(*) FROM audit.entries")) ?? "0") ?? 0
            if before > 0 { break }
            usleep(5_000)
        }
        try setup.server.restart()
        process.waitUntilExit()
        let errors = (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? ""
        #expect(process.terminationStatus == 0, "\(setup.server.scrub(errors))")
        #expect(before > 0 && before < total, "the restart came at \(before) of \(total) rows; it must come in the middle")

        #expect(try setup.sql("SELECT count(*), count(DISTINCT seq), min(seq), max(seq) FROM audit.entries") == "\(total)|\(total)|0|\(total - 1)")
        #expect(try setup.sql("SELECT count(*) FROM audit.entries_checkpoints") == "\(total / 500)")
        let (status, report, result) = try setup.verify()
        #expect(status == 0, "\(result.output)")
        #expect(report?["entries"]?.intValue == total)
        #expect(!errors.contains(setup.server.password))
    }

    @Test func wrongPasswordUnknownDatabaseAndMissingPrivilegeFailClearlyWithoutSecrets() throws {
        let setup = try Setup()
        let role = "nopriv_" + setup.database.suffix(8)
        let rolePassword = "Rp-" + UUID().uuidString
        try setup.sql("CREATE ROLE \(role) LOGIN PASSWORD '\(rolePassword)'; REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        defer { _ = try? setup.server.sql("DROP OWNED BY \(role) CASCADE", database: setup.database); _ = try? setup.server.sql("DROP ROLE IF EXISTS \(role)") }
        try setup.record(Self.awkwardEvents(3))
        let wrongPassword = "Wrong-" + UUID().uuidString
        let cases: [(dsn: String, expected: String, secrets: [String])] = [
            (setup.server.dsn(database: setup.database, user: "postgres", password: wrongPassword),
             "password authentication failed for user \"postgres\"", [wrongPassword, setup.server.password]),
            (setup.server.dsn(database: "no_such_db_\(setup.database.suffix(6))"),
             "database \"no_such_db_\(setup.database.suffix(6))\" does not exist", [setup.server.password]),
            (setup.server.dsn(database: setup.database, user: role, password: rolePassword),
             "permission denied for database", [rolePassword, setup.server.password]),
        ]
        for (dsn, expected, secrets) in cases {
            var failing = setup.environment
            failing["LAFORGE_PG_DSN"] = dsn
            // `audit deliver` retries the sink's create meanwhile and exits 4 when it never started.
            for arguments in [["audit", "deliver", "--timeout", "2"], ["verify", "chain", "--sink", "pg"], ["config", "validate"]] {
                let result = try CLIRunner.run(
                    arguments + ["--config", setup.sandbox.configPath, "--plugin-dir", CLIRunner.buildDirectory], environment: failing,
                    in: setup.sandbox.root)
                let output = result.output
                #expect(result.status == 4, "\(arguments): \(secrets.reduce(output) { $0.replacingOccurrences(of: $1, with: "<secret>") })")
                #expect(output.contains(expected), "\(arguments): \(secrets.reduce(output) { $0.replacingOccurrences(of: $1, with: "<secret>") })")
                for secret in secrets { #expect(!output.contains(secret), "\(arguments): a secret appeared in the output") }
            }
        }
        #expect(try setup.sql("SELECT to_regclass('audit.entries') IS NULL") == "t")
    }

    /// Refused credentials are the sink's problem, not a record's: ACCESS_DENIED, so the host
    /// keeps every record (nothing dead-lettered) until an operator fixes the password.
    @Test func aPasswordChangedWhileRunningIsRefusedAccessNamingTheCause() throws {
        let setup = try Setup()
        let role = "writer_" + setup.database.suffix(8)
        let password = "Pw-" + UUID().uuidString
        try setup.sql("CREATE ROLE \(role) LOGIN PASSWORD '\(password)'; GRANT CREATE ON DATABASE \(setup.database) TO \(role)")
        defer { _ = try? setup.server.sql("DROP OWNED BY \(role) CASCADE", database: setup.database); _ = try? setup.server.sql("DROP ROLE IF EXISTS \(role)") }
        setup.environment["LAFORGE_PG_DSN"] = setup.server.dsn(database: setup.database, user: role, password: password)
        let sink = try sink(setup)
        defer { sink.close() }
        #expect(try sink.write(AuditBatch(chainID: "c1", records: [Self.record(0, user: "a")])) == .stored)

        // The server restarts connections of this role with a new password in place.
        try setup.sql("ALTER ROLE \(role) PASSWORD 'changed-\(UUID().uuidString)'; SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '\(role)'")
        usleep(200_000)
        // The first write finds the connection cut (RETRY); the next one cannot log in again.
        let cut = try sink.write(AuditBatch(chainID: "c1", records: [Self.record(1, user: "b")]))
        guard case .retry(0, _) = cut else {
            Issue.record("expected RETRY for the cut connection, got \(cut)")
            return
        }
        let outcome = try sink.write(AuditBatch(chainID: "c1", records: [Self.record(1, user: "b")]))
        guard case .refused(let stored, let message) = outcome else {
            Issue.record("expected ACCESS_DENIED, got \(outcome)")
            return
        }
        #expect(stored == 0)
        #expect(message.contains("password authentication failed for user \"\(role)\""), "\(message)")
        #expect(!message.contains(password))
        #expect(throws: PluginCallError.self) { try sink.health() }

        // With the password back, the next write reconnects and stores.
        try setup.sql("ALTER ROLE \(role) PASSWORD '\(password)'")
        #expect(try sink.write(AuditBatch(chainID: "c1", records: [Self.record(1, user: "b")])) == .stored)
    }

    @Test func theRolesFileGivesAWriterThatInsertsButCannotChangeRows() throws {
        let setup = try Setup()
        let suffix = String(setup.database.suffix(8))
        let (owner, writer, reader) = ("owner_\(suffix)", "writer_\(suffix)", "reader_\(suffix)")
        let passwords = (owner: "O-" + UUID().uuidString, writer: "W-" + UUID().uuidString, reader: "R-" + UUID().uuidString)
        defer {
            for role in [writer, reader, owner] {
                _ = try? setup.server.sql("DROP OWNED BY \(role) CASCADE", database: setup.database)
                _ = try? setup.server.sql("DROP ROLE IF EXISTS \(role)")
            }
        }
        let rolesFile = CPluginBuilder.packageRoot.appendingPathComponent("config/examples/postgres-roles.sql").path
        let variables = [
            "schema": "audit", "owner": owner, "writer": writer, "reader": reader, "owner_password": passwords.owner,
            "writer_password": passwords.writer, "reader_password": passwords.reader,
        ]
        try setup.server.sql("", database: setup.database, variables: variables, file: rolesFile)
        try setup.server.sql("", database: setup.database, variables: variables, file: rolesFile)  // idempotent

        // The owner creates the tables once; the writer (manage_schema: false) delivers.
        setup.environment["LAFORGE_PG_DSN"] = setup.server.dsn(database: setup.database, user: owner, password: passwords.owner)
        #expect(try setup.laforge(["config", "validate"]).status == 0)
        setup.environment["LAFORGE_PG_DSN"] = setup.server.dsn(database: setup.database, user: writer, password: passwords.writer)
        try setup.writeConfig(sinkOptions: "        manage_schema: false")
        try setup.record(Self.awkwardEvents(7))
        let deliver = try setup.laforge(["audit", "deliver", "--timeout", "60"])
        #expect(deliver.status == 0, "\(deliver.output)")
        #expect(try setup.sql("SELECT count(*) FROM audit.entries") == "7")

        let writerDSN = setup.server.dsn(database: setup.database, user: writer, password: passwords.writer)
        for statement in ["UPDATE audit.entries SET actor = 'x'", "DELETE FROM audit.entries", "TRUNCATE audit.entries"] {
            let result = try setup.server.psql(statement, dsn: writerDSN)
            #expect(result.status != 0)
            #expect(result.stderr.contains("permission denied for table entries"), "\(statement): \(result.stderr)")
        }
        // The reader verifies and queries, and cannot insert.
        setup.environment["LAFORGE_PG_DSN"] = setup.server.dsn(database: setup.database, user: reader, password: passwords.reader)
        #expect(try setup.verify().status == 0)
        let insert = try setup.server.psql(
            "INSERT INTO audit.entries (chain_id, seq, hash, prev_hash, canonical) VALUES ('x', 99, '\\x00', '\\x00', '{}')",
            dsn: setup.server.dsn(database: setup.database, user: reader, password: passwords.reader))
        #expect(insert.stderr.contains("permission denied"), "\(insert.stderr)")
    }

    @Test func theConformanceKitPassesAgainstTheServer() throws {
        let setup = try Setup()
        let config = #"{"dsn":"\#(setup.environment["LAFORGE_PG_DSN"]!)"}"#
        let result = try CLIRunner.run(
            ["plugins", "check", CLIRunner.buildDirectory + "/libPostgresAudit.so", "--sink-config", config], in: setup.sandbox.root)
        #expect(result.status == 0, "\(setup.server.scrub(result.output))")
        #expect(result.stdout.contains(" passed, 0 failed"), "\(setup.server.scrub(result.output))")
        #expect(result.stdout.contains("PASS audit_sink idempotent-resend"))
        #expect(!result.output.contains(setup.server.password))
    }

    @Test func theExampleConfigurationValidatesAgainstTheServer() throws {
        let setup = try Setup()
        let example = CPluginBuilder.packageRoot.appendingPathComponent("config/examples/postgres.yaml").path
        let result = try CLIRunner.run(
            ["config", "validate", "--config", example, "--plugin-dir", CLIRunner.buildDirectory], environment: setup.environment,
            in: setup.sandbox.root)
        #expect(result.status == 0, "\(setup.server.scrub(result.output))")
        #expect(!result.output.contains(setup.server.password))
        #expect(try setup.sql("SELECT to_regclass('audit.entries') IS NOT NULL") == "t")
    }
}
