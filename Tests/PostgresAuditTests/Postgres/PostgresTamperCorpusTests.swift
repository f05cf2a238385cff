import Foundation
import Testing
@testable import LaForgeTestSupport

@testable import LaForgeAudit
@testable import LaForgeCore

/// #17 Tests section, the PostgreSQL table: a superuser working behind disabled triggers changes,
/// deletes, swaps, cuts or forges rows, or removes or edits a checkpoint row; `verify chain
/// --sink pg --strict` finds every case at the right seq, in JSON and in text, and
/// `contrib/verify.py` agrees on the table's rows laid out as FileSink lines (entries by seq, each
/// checkpoint after the entry that completes it). (The table is restored from a copy between
/// cases.)
extension PostgresAuditTests {
    @Test func everyTamperOfTheTableIsFoundAtTheRightSeq() throws {
        let setup = try Setup()
        try setup.record(Self.awkwardEvents(30), groupSize: 5)
        #expect(try setup.laforge(["audit", "deliver", "--timeout", "60"]).status == 0)
        try setup.sql("CREATE TABLE public.entries_copy AS TABLE audit.entries; CREATE TABLE public.checkpoints_copy AS TABLE audit.entries_checkpoints")
        let unlock = "ALTER TABLE audit.entries DISABLE TRIGGER USER; ALTER TABLE audit.entries_checkpoints DISABLE TRIGGER USER;"
        let lock = """
            ALTER TABLE audit.entries ENABLE ALWAYS TRIGGER laforge_fill_query_columns;
            ALTER TABLE audit.entries ENABLE ALWAYS TRIGGER laforge_refuse_update_delete;
            ALTER TABLE audit.entries ENABLE ALWAYS TRIGGER laforge_refuse_truncate;
            ALTER TABLE audit.entries_checkpoints ENABLE ALWAYS TRIGGER laforge_refuse_update_delete;
            ALTER TABLE audit.entries_checkpoints ENABLE ALWAYS TRIGGER laforge_refuse_truncate;
            """
        let restore = """
            DELETE FROM audit.entries; DELETE FROM audit.entries_checkpoints;
            INSERT INTO audit.entries SELECT * FROM public.entries_copy;
            INSERT INTO audit.entries_checkpoints SELECT * FROM public.checkpoints_copy;
            """
        let pristine = try setup.laforge(["verify", "chain", "--sink", "pg", "--strict", "--json"])
        #expect(pristine.status == 0, "\(pristine.output)")

        // A forged entry after the last one, linked to it (what a superuser could insert).
        let last = try setup.sql("SELECT canonical FROM audit.entries WHERE seq = 29")
        let forged = AuditEntry.bytes(
            chainID: "default", event: auditEvent("mallory").canonicalBytes(), seq: 30, prevHash: SHA256.leafHash(Array(last.utf8)))
        let forgedText = String(decoding: forged, as: UTF8.self).replacingOccurrences(of: "'", with: "''")
        let cases: [(name: String, sql: String, seq: Int)] = [
            ("edit entry 0", "UPDATE audit.entries SET canonical = replace(canonical, 'user-00', 'user-0X') WHERE seq = 0", 0),
            ("edit entry 7", "UPDATE audit.entries SET canonical = replace(canonical, 'user-07', 'user-0X') WHERE seq = 7", 7),
            ("edit the last entry", "UPDATE audit.entries SET canonical = replace(canonical, 'user-29', 'user-2X') WHERE seq = 29", 29),
            ("delete entry 0", "DELETE FROM audit.entries WHERE seq = 0", 0),
            ("delete entry 12", "DELETE FROM audit.entries WHERE seq = 12", 12),
            ("delete the last entry", "DELETE FROM audit.entries WHERE seq = 29", 29),
            ("swap entries 5 and 6", "UPDATE audit.entries SET seq = 1005 WHERE seq = 5; UPDATE audit.entries SET seq = 5 WHERE seq = 6; UPDATE audit.entries SET seq = 6 WHERE seq = 1005", 5),
            ("cut entries 20… with their checkpoints", "DELETE FROM audit.entries WHERE seq >= 20; DELETE FROM audit.entries_checkpoints WHERE tree_size > 20", 20),
            ("delete the newest checkpoint", "DELETE FROM audit.entries_checkpoints WHERE tree_size = 30", 25),
            ("edit a checkpoint's signature", "UPDATE audit.entries_checkpoints SET note = regexp_replace(note, '(— [^ ]+ )(.)', '\\1A') WHERE tree_size = 15", 15),
            ("forged append", "INSERT INTO audit.entries (chain_id, seq, hash, prev_hash, canonical) VALUES ('default', 30, '\\x\(SHA256.leafHash(forged).hexString)', '\\x\(SHA256.leafHash(Array(last.utf8)).hexString)', '\(forgedText)')", 30),
        ]
        for (name, statements, seq) in cases {
            try setup.sql(unlock + statements + ";" + lock)
            let json = try setup.laforge(["verify", "chain", "--sink", "pg", "--strict", "--json"])
            let report = try? JSONParser.parse(json.stdout)
            #expect(json.status == 1, "\(name): \(json.output)")
            #expect(report?["failure"]?["seq"]?.intValue == seq, "\(name): \(json.stdout)")
            let text = try setup.laforge(["verify", "chain", "--sink", "pg", "--strict"])
            #expect(text.status == 1 && text.stderr.contains("at seq \(seq) "), "\(name): \(text.output)")
            // The cut is caught by the host's delivery cursor, which only laforge knows; the
            // table alone is a shorter, fully signed chain.
            if !name.hasPrefix("cut") {
                let peer = try pythonVerdict(setup)
                #expect(peer.valid == false && peer.seq == seq, "\(name): verify.py \(peer)")
            }
            try setup.sql(unlock + restore + lock)
        }
        let restored = try setup.laforge(["verify", "chain", "--sink", "pg", "--strict", "--json"])
        #expect(restored.status == 0, "\(restored.output)")
        #expect(try pythonVerdict(setup).valid == true)
    }

    /// `contrib/verify.py --strict --file` over the table exported as FileSink lines.
    func pythonVerdict(_ setup: Setup) throws -> (valid: Bool?, seq: Int?) {
        let lines = try setup.sql(
            """
            SELECT line FROM (
                SELECT seq AS position, 0 AS kind, canonical AS line FROM audit.entries
                UNION ALL
                SELECT tree_size - 1, 1, '{"checkpoint":' || to_json(note)::text || '}' FROM audit.entries_checkpoints
            ) AS records ORDER BY position, kind
            """)
        let path = setup.sandbox.root + "/table.ndjson"
        try (lines + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        guard let python = testPythonInterpreter() else { throw AuditTestFailure("no test Python (run scripts/test)") }
        let result = try CLIRunner.runExecutable(python, [
            CPluginBuilder.packageRoot.appendingPathComponent("contrib/verify.py").path, "--strict",
            "--key", setup.sandbox.stateDirectory + "/keys/checkpoint.pub", "--file", path,
        ])
        let report = try? JSONParser.parse(result.stdout)
        return (report?["valid"]?.boolValue, report?["failure"]?["seq"]?.intValue)
    }
}
