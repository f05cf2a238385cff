import Foundation
import Testing
@testable import LaForgeTestSupport

@testable import LaForgeAudit
@testable import LaForgeCore

/// #17 Tests section, the PostgreSQL table: a superuser working behind disabled triggers changes,
/// deletes, swaps, cuts or forges rows, edits the columns that copy what `canonical` gives
/// (`hash`, `prev_hash`, a checkpoint's `root_hash` and `tree_size`), or removes or edits a
/// checkpoint row; `verify chain --sink pg --strict` finds every case at the right seq, in JSON
/// and in text, leaves the table as it was, and `contrib/verify.py --table` agrees on the rows
/// exported by FORMATS.md's query. (The table is restored from a copy between cases.)
extension PostgresAuditTests {
    /// A table of 30 delivered entries, checkpoints every 5, and its pristine copy.
    final class TableCorpus {
        let setup: Setup
        static let unlock = "ALTER TABLE audit.entries DISABLE TRIGGER USER; ALTER TABLE audit.entries_checkpoints DISABLE TRIGGER USER;"
        static let lock = """
            ALTER TABLE audit.entries ENABLE ALWAYS TRIGGER laforge_fill_query_columns;
            ALTER TABLE audit.entries ENABLE ALWAYS TRIGGER laforge_refuse_update_delete;
            ALTER TABLE audit.entries ENABLE ALWAYS TRIGGER laforge_refuse_truncate;
            ALTER TABLE audit.entries_checkpoints ENABLE ALWAYS TRIGGER laforge_refuse_update_delete;
            ALTER TABLE audit.entries_checkpoints ENABLE ALWAYS TRIGGER laforge_refuse_truncate;
            """
        static let restore = """
            DELETE FROM audit.entries; DELETE FROM audit.entries_checkpoints;
            INSERT INTO audit.entries SELECT * FROM public.entries_copy;
            INSERT INTO audit.entries_checkpoints SELECT * FROM public.checkpoints_copy;
            """

        init() throws {
            setup = try Setup()
            try setup.record(PostgresAuditTests.awkwardEvents(30), groupSize: 5)
            let deliver = try setup.laforge(["audit", "deliver", "--timeout", "60"])
            guard deliver.status == 0 else { throw AuditTestFailure("deliver: \(deliver.output)") }
            try setup.sql("CREATE TABLE public.entries_copy AS TABLE audit.entries; CREATE TABLE public.checkpoints_copy AS TABLE audit.entries_checkpoints")
        }

        /// Every column of every row, hashed: verification must leave it as it was.
        func digest() throws -> String {
            try setup.sql(
                """
                SELECT md5(coalesce(string_agg(row_text, E'\\n' ORDER BY row_text), '')) FROM (
                    SELECT e::text AS row_text FROM audit.entries e UNION ALL SELECT c::text FROM audit.entries_checkpoints c) AS rows
                """)
        }

        func tamper(_ statements: String) throws { try setup.sql(Self.unlock + statements + ";" + Self.lock) }
        func restore() throws { try setup.sql(Self.unlock + Self.restore + Self.lock) }

        struct Verdict {
            var status: Int32
            var kind: String?
            var seq: Int?
            var text: CLIResult
            var json: CLIResult
        }

        /// `verify chain --sink pg` with `extra`, in JSON and in text, checking the table is unchanged.
        func verify(_ extra: [String] = ["--strict"]) throws -> Verdict {
            let before = try digest()
            let json = try setup.laforge(["verify", "chain", "--sink", "pg", "--json"] + extra)
            let text = try setup.laforge(["verify", "chain", "--sink", "pg"] + extra)
            #expect(try digest() == before, "verify changed the table")
            let report = try? JSONParser.parse(json.stdout)
            return Verdict(
                status: json.status, kind: report?["failure"]?["kind"]?.stringValue, seq: report?["failure"]?["seq"]?.intValue,
                text: text, json: json)
        }

        /// `contrib/verify.py --strict --table` over the rows exported by FORMATS.md's query, with
        /// the entry count the auditor last saw.
        func pythonVerdict(knownEntries: Int = 30) throws -> (valid: Bool?, seq: Int?) {
            let formats = try String(contentsOf: CPluginBuilder.packageRoot.appendingPathComponent("docs/FORMATS.md"), encoding: .utf8)
            let query = try #require(try GuideCodeBlocks.blocks(in: formats, section: "PostgreSQL table (PostgresAudit)", language: "sql").first)
            let queryFile = setup.sandbox.root + "/export.sql"
            try query.write(toFile: queryFile, atomically: true, encoding: .utf8)
            let rows = try setup.server.sql("", database: setup.database, variables: ["chain": "default"], file: queryFile)
            let path = setup.sandbox.root + "/table.ndjson"
            try (rows + "\n").write(toFile: path, atomically: true, encoding: .utf8)
            guard let python = testPythonInterpreter() else { throw AuditTestFailure("no test Python (run scripts/test)") }
            let result = try CLIRunner.runExecutable(python, [
                CPluginBuilder.packageRoot.appendingPathComponent("contrib/verify.py").path, "--strict", "--known-entries", String(knownEntries),
                "--key", setup.sandbox.stateDirectory + "/keys/checkpoint.pub", "--table", path,
            ])
            let report = try? JSONParser.parse(result.stdout)
            return (report?["valid"]?.boolValue, report?["failure"]?["seq"]?.intValue)
        }

        /// Applies `statements`, expects both verifiers to fail at `seq` (and laforge with `kind`
        /// when given), restores the table.
        func expectFound(_ name: String, _ statements: String, seq: Int, kind: String? = nil, message: String? = nil) throws {
            try tamper(statements)
            let verdict = try verify()
            #expect(verdict.status == 1 && verdict.seq == seq, "\(name): \(verdict.json.output)")
            if let kind { #expect(verdict.kind == kind, "\(name): \(verdict.json.stdout)") }
            if let message { #expect(verdict.json.stdout.contains(message), "\(name): \(verdict.json.stdout)") }
            #expect(verdict.text.status == 1 && verdict.text.stderr.contains("at seq \(seq) "), "\(name): \(verdict.text.output)")
            let peer = try pythonVerdict()
            #expect(peer.valid == false && peer.seq == seq, "\(name): verify.py \(peer)")
            try restore()
        }
    }

    @Test func everyTamperOfTheTableIsFoundAtTheRightSeq() throws {
        let corpus = try TableCorpus()
        let setup = corpus.setup
        let pristine = try corpus.verify()
        #expect(pristine.status == 0, "\(pristine.json.output)")
        #expect(try corpus.pythonVerdict().valid == true)

        // A forged entry after the last one, linked to it (what a superuser could insert).
        let last = try setup.sql("SELECT canonical FROM audit.entries WHERE seq = 29")
        let forged = AuditEntry.bytes(
            chainID: "default", event: auditEvent("mallory").canonicalBytes(), seq: 30, prevHash: SHA256.leafHash(Array(last.utf8)))
        let forgedText = String(decoding: forged, as: UTF8.self).replacingOccurrences(of: "'", with: "''")
        let otherHash = "'\\x" + String(repeating: "ab", count: 32) + "'"
        let cases: [(name: String, sql: String, seq: Int, message: String?)] = [
            ("edit entry 0", "UPDATE audit.entries SET canonical = replace(canonical, 'user-00', 'user-0X') WHERE seq = 0", 0, nil),
            ("edit entry 7", "UPDATE audit.entries SET canonical = replace(canonical, 'user-07', 'user-0X') WHERE seq = 7", 7, nil),
            ("edit the last entry", "UPDATE audit.entries SET canonical = replace(canonical, 'user-29', 'user-2X') WHERE seq = 29", 29, nil),
            ("delete entry 0", "DELETE FROM audit.entries WHERE seq = 0", 0, nil),
            ("delete entry 12", "DELETE FROM audit.entries WHERE seq = 12", 12, nil),
            ("delete the last entry", "DELETE FROM audit.entries WHERE seq = 29", 29, nil),
            ("swap entries 5 and 6", "UPDATE audit.entries SET seq = 1005 WHERE seq = 5; UPDATE audit.entries SET seq = 5 WHERE seq = 6; UPDATE audit.entries SET seq = 6 WHERE seq = 1005", 5, nil),
            ("cut entries 20… with their checkpoints", "DELETE FROM audit.entries WHERE seq >= 20; DELETE FROM audit.entries_checkpoints WHERE tree_size > 20", 20, nil),
            ("delete the newest checkpoint", "DELETE FROM audit.entries_checkpoints WHERE tree_size = 30", 25, nil),
            ("edit a checkpoint's signature", "UPDATE audit.entries_checkpoints SET note = regexp_replace(note, '(— [^ ]+ )(.)', '\\1A') WHERE tree_size = 15", 15, nil),
            ("forged append", "INSERT INTO audit.entries (chain_id, seq, hash, prev_hash, canonical) VALUES ('default', 30, '\\x\(SHA256.leafHash(forged).hexString)', '\\x\(SHA256.leafHash(Array(last.utf8)).hexString)', '\(forgedText)')", 30, nil),
            // The copies queries read: each edited column is named at its row.
            ("edit entry 9's hash column", "UPDATE audit.entries SET hash = \(otherHash) WHERE seq = 9", 9, "hash column"),
            ("edit the last entry's hash column", "UPDATE audit.entries SET hash = \(otherHash) WHERE seq = 29", 29, "hash column"),
            ("edit entry 9's prev_hash column", "UPDATE audit.entries SET prev_hash = \(otherHash) WHERE seq = 9", 9, "prev_hash column"),
            ("edit entry 0's prev_hash column", "UPDATE audit.entries SET prev_hash = \(otherHash) WHERE seq = 0", 0, "prev_hash column"),
            ("edit a checkpoint's root_hash column", "UPDATE audit.entries_checkpoints SET root_hash = \(otherHash) WHERE tree_size = 15", 15, "root_hash column"),
            ("move a checkpoint's tree_size", "UPDATE audit.entries_checkpoints SET tree_size = 16 WHERE tree_size = 15", 15, nil),
        ]
        for (name, statements, seq, message) in cases {
            try corpus.expectFound(name, statements, seq: seq, message: message)
        }
        let restored = try corpus.verify()
        #expect(restored.status == 0, "\(restored.json.output)")
        #expect(try corpus.pythonVerdict().valid == true)
    }

    /// A checkpoint row deleted between two others: no entry is lost and nothing left in the
    /// table records it (the documented limit of the table alone); `--against-journal` names it,
    /// as it names the newest one deleted.
    @Test func aDeletedCheckpointRowIsFoundAgainstTheJournal() throws {
        let corpus = try TableCorpus()
        #expect(try corpus.verify(["--strict", "--against-journal"]).status == 0)
        try corpus.tamper("DELETE FROM audit.entries_checkpoints WHERE tree_size = 15")
        let alone = try corpus.verify()
        #expect(alone.status == 0, "the table alone cannot show it (FORMATS.md): \(alone.json.output)")
        #expect(try corpus.pythonVerdict().valid == true)
        for (extra, what) in [(["--against-journal"], "plain"), (["--against-journal", "--strict"], "strict")] {
            let compared = try corpus.verify(extra)
            #expect(compared.status == 1 && compared.kind == "checkpoint missing" && compared.seq == 15, "\(what): \(compared.json.output)")
            #expect(compared.text.stderr.contains("checkpoint missing at seq 15 "), "\(what): \(compared.text.output)")
        }
        try corpus.restore()

        try corpus.tamper("DELETE FROM audit.entries_checkpoints WHERE tree_size = 30")
        let newest = try corpus.verify(["--no-strict", "--against-journal"])
        #expect(newest.status == 1 && newest.kind == "checkpoint missing" && newest.seq == 30, "\(newest.json.output)")
        #expect(newest.text.stderr.contains("checkpoint missing at seq 30 "), "\(newest.text.output)")
        try corpus.restore()
    }

    /// Rows deleted from the end at every boundary, with the checkpoints over them: the table is a
    /// shorter, fully signed chain, caught by the host's delivery cursor (laforge) and the last
    /// known entry count (verify.py); checkpoint rows alone cut from the end leave entries no
    /// signature covers (--strict).
    @Test func rowsCutFromTheEndAreFoundAtEveryBoundary() throws {
        let corpus = try TableCorpus()
        for cut in 0..<30 {
            try corpus.expectFound(
                "entries \(cut)… cut", "DELETE FROM audit.entries WHERE seq >= \(cut); DELETE FROM audit.entries_checkpoints WHERE tree_size > \(cut)",
                seq: cut, kind: "entry missing")
        }
        for size in stride(from: 0, to: 30, by: 5) {
            try corpus.expectFound(
                "checkpoints above \(size) cut", "DELETE FROM audit.entries_checkpoints WHERE tree_size > \(size)", seq: size, kind: "not covered")
        }
    }
}
