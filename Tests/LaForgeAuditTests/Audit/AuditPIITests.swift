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

/// Configured PII never reaches the chain: dropped fields are gone, hashed ones hold a keyed
/// HMAC that `laforge audit hash-value` reproduces from the known value, so they stay searchable.
@Suite struct AuditPIITests {
    @Test func droppedAndHashedFieldsInTheJournal() throws {
        let sandbox = try AuditSandbox()
        try sandbox.writeConfig(audit: """
              pii:
                drop: [data.ssn]
                hash: [actor.user, data.email]
            """)
        let event = JSONCanonicalizer.canonicalString(.object([
            "actor": .object(["user": .string("alice")]), "action": .string("rbac.grant"),
            "data": .object(["ssn": .string("078-05-1120"), "email": .string("alice@example.com"), "role": .string("admin")]),
        ]))
        let emit = try sandbox.laforge(["audit", "emit", "--json", event])
        #expect(emit.status == 0, "\(emit.output)")

        let entries = try sandbox.journalEntries()
        #expect(entries.count == 1)
        let stored = try #require(entries.first?.entry["event"])
        let raw = try sandbox.laforge(["audit", "tail", "--json"]).stdout
        #expect(!raw.contains("078-05-1120") && !raw.contains("alice"), "PII in the journal: \(raw)")
        #expect(stored["data"]?["ssn"] == nil)
        #expect(stored["data"]?["role"]?.stringValue == "admin")
        #expect(stored["pii_key_id"]?.stringValue == "k1")
        let user = try #require(stored["actor"]?["user"]?.stringValue)
        let email = try #require(stored["data"]?["email"]?.stringValue)
        for hashed in [user, email] {
            #expect(hashed.hasPrefix("hmac-sha256:"))
            #expect([UInt8](hexString: String(hashed.dropFirst("hmac-sha256:".count)))?.count == 32)
        }
        #expect(user != email)

        let userHash = try sandbox.laforge(["audit", "hash-value", "alice"])
        #expect(userHash.status == 0, "\(userHash.output)")
        #expect(userHash.stdout == user + "\n")
        #expect(try sandbox.laforge(["audit", "hash-value", "alice@example.com"]).stdout == email + "\n")
        // Searchable by the hashed actor.
        let query = try sandbox.laforge(["audit", "query", "--actor", user, "--json"])
        #expect(query.stdout.split(separator: "\n").count == 1, "\(query.output)")
        #expect(try sandbox.verifyChain().status == 0)
    }
}
