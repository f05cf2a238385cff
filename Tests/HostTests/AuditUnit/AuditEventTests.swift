import Foundation
import Testing
@testable import LaForgeHost

@Suite struct AuditTimestampTests {
    @Test(arguments: [
        ("2026-11-27T04:16:22.123456Z", "2026-11-27T04:16:22.123456Z"),
        ("2026-11-27T04:16:22Z", "2026-11-27T04:16:22.000000Z"),
        ("2026-11-27t05:16:22.5+01:00", "2026-11-27T04:16:22.500000Z"),
        ("2026-11-26T23:16:22.000001-05:00", "2026-11-27T04:16:22.000001Z"),
        ("2026-11-27T04:16:22.123456000Z", "2026-11-27T04:16:22.123456Z"),
        ("1969-12-31T23:59:59.999999Z", "1969-12-31T23:59:59.999999Z"),
    ])
    func normalizesToUTCMicroseconds(input: String, expected: String) throws {
        let timestamp = try #require(AuditTimestamp(rfc3339: input))
        #expect(timestamp.description == expected)
    }

    @Test(arguments: ["2026-02-30T00:00:00Z", "2026-11-27 04:16:22Z", "2026-11-27T04:16:22", "2026-11-27T04:16:22.1234567Z", "yesterday", "2026-11-27T24:00:00Z"])
    func refusesWhatIsNotAnExactRFC3339Instant(input: String) {
        #expect(AuditTimestamp(rfc3339: input) == nil)
    }
}

@Suite struct AuditEventTests {
    @Test func readsAnEventAndRendersItsCanonicalForm() throws {
        let json = try JSONParser.parse(#"""
            {"actor":{"user":"alice","roles":["admin"],"claims":{"org":"acme"}},"action":"schema.change",
             "tenant":"t1","request_id":"r-1","target":"billing","timestamp":"2026-11-27T04:16:22Z",
             "artifact_hash":"sha256:\#(String(repeating: "ab", count: 32))","data":{"n":1}}
            """#)
        let event = try AuditEvent(json: json)
        #expect(event.actor.roles == ["admin"])
        #expect(event.outcome == .success)
        let canonical = JSONCanonicalizer.canonicalString(event.jsonValue())
        #expect(canonical.hasPrefix(#"{"action":"schema.change","actor":{"claims":{"org":"acme"},"roles":["admin"],"user":"alice"},"artifact_hash":"sha256:abab"#))
        #expect(canonical.hasSuffix(#""tenant":"t1","timestamp":"2026-11-27T04:16:22.000000Z"}"#))
        #expect(try AuditEvent(json: event.jsonValue()) == event)
    }

    @Test(arguments: [
        (#"{"action":"schema.change"}"#, "actor: missing (an object with user, roles, claims)"),
        (#"{"actor":{"user":"a"},"action":"Schema Change"}"#, "action: \"Schema Change\" is not a dotted lower-case action"),
        (#"{"actor":{"user":"a"},"action":"schema.change","outcome":"ok"}"#, "outcome: expected one of success, failure, denied"),
        (#"{"actor":{"user":"a"},"action":"schema.change","tennant":"x"}"#, "tennant: unknown field (did you mean \"tenant\"?)"),
        (#"{"actor":{"user":""},"action":"schema.change"}"#, "actor.user: must not be empty"),
        (#"{"actor":{"user":"a"},"action":"schema.change","artifact_hash":"md5:1"}"#, "artifact_hash: expected sha256:<64 lower-case hex digits>"),
        (#"{"actor":{"user":"a"},"action":"schema.change","timestamp":"now"}"#, "timestamp: expected RFC 3339"),
        (#"{"actor":{"user":"a"},"action":"schema.change","data":[1]}"#, "data: expected object"),
    ])
    func refusesMalformedEventsNamingTheField(input: String, message: String) throws {
        let json = try JSONParser.parse(input)
        do throws(AuditEventError) {
            _ = try AuditEvent(json: json, line: 7)
            Issue.record("accepted \(input)")
        } catch {
            #expect(error.description.hasPrefix("line 7: "))
            #expect(error.description.contains(message), "\(error.description)")
        }
    }
}

@Suite struct PIIMinimizerTests {
    let minimizer = PIIMinimizer(
        drop: [AuditFieldPath("data.ssn")!, AuditFieldPath("actor.claims.email")!],
        hash: [AuditFieldPath("actor.user")!, AuditFieldPath("actor.roles")!, AuditFieldPath("data.customer.email")!],
        keyID: "k7", key: SecretValue(bytes: Array(repeating: 0x42, count: 32)))

    @Test func dropsAndHashesConfiguredFieldsAndRecordsTheKeyID() throws {
        let event = AuditEvent(
            actor: AuditActor(user: "alice", roles: ["admin"], claims: ["email": "a@example.com", "org": "acme"]),
            action: "rbac.grant",
            data: ["ssn": "123-45-6789", "customer": ["email": "c@example.com", "id": 7]])
        let minimized = minimizer.apply(to: event.jsonValue())
        let text = JSONCanonicalizer.canonicalString(minimized)
        #expect(!text.contains("123-45-6789"))
        #expect(!text.contains("a@example.com"))
        #expect(!text.contains("c@example.com"))
        #expect(!text.contains("alice"))
        #expect(minimized["pii_key_id"] == "k7")
        #expect(minimized["actor"]?["claims"]?["org"] == "acme")
        #expect(minimized["actor"]?["user"]?.stringValue == minimizer.hashValue("alice"))
        #expect(minimized["actor"]?["roles"] == .array([.string(minimizer.hashValue("admin"))]))
        #expect(minimized["data"]?["customer"]?["id"] == 7)
    }

    @Test func theHMACIsKeyedAndStable() {
        // HMAC-SHA256(key = 32 × 0x42, "alice"), computed independently with Python's hmac module.
        #expect(minimizer.hashValue("alice") == "hmac-sha256:721e95bcbecbe006b47e97ccc68d96e595bd991ccb7141ccda74234ad997c4e1")
        let other = PIIMinimizer(drop: [], hash: [], keyID: "k8", key: SecretValue(bytes: Array(repeating: 0x43, count: 32)))
        #expect(other.hashValue("alice") != minimizer.hashValue("alice"))
        #expect(minimizer.hashValue("alice").hasPrefix("hmac-sha256:"))
    }

    @Test(arguments: ["actor", "action", "timestamp", "data", "actor.claims", "actor.user.x", "data..x", "seq"])
    func refusesPathsThatAreNotCallerFields(path: String) {
        #expect(AuditFieldPath(path) == nil)
    }
}
