import Foundation
import Logging
import Testing
@testable import LaForgeAudit
@testable import LaForgeCore
@testable import LaForgeGovernance
@testable import LaForgeIdentity
@testable import LaForgeJournal
@testable import LaForgePlugins
@testable import LaForgeSecrets
@testable import LaForgeTestSupport

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

/// The hand-written fast paths agree with the general ones on random input.
@Suite struct AuditFastPathTests {
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test func timestampFormattingMatchesTheCLibrary() throws {
        var random = Generator(state: 1)
        for _ in 0..<20_000 {
            // 1900 … 2200, microseconds.
            let micros = Int64.random(in: -2_208_988_800_000_000...7_258_118_400_000_000, using: &random)
            let timestamp = AuditTimestamp(microseconds: micros)
            let seconds = micros >= 0 ? micros / 1_000_000 : (micros - 999_999) / 1_000_000
            var time = time_t(seconds)
            var parts = tm()
            gmtime_r(&time, &parts)
            let expected = String(
                format: "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(micros - seconds * 1_000_000))
            #expect(timestamp.description == expected)
            #expect(AuditTimestamp(rfc3339: expected) == timestamp)
        }
    }

    @Test func canonicalBytesMatchTheGeneralCanonicalizer() throws {
        var random = Generator(state: 7)
        let words = ["a", "é", "\u{1F600}", "x\"y", "tab\tz", "\u{7F}", "\u{E000}", "line\nbreak", "ZZ", "_"]
        func word() -> String { (0..<Int.random(in: 1...3, using: &random)).map { _ in words.randomElement(using: &random)! }.joined() }
        func value(_ depth: Int) -> JSONValue {
            switch Int.random(in: 0..<(depth > 2 ? 4 : 6), using: &random) {
            case 0: return .string(word())
            case 1: return .number(Double(Int.random(in: -1_000_000...1_000_000, using: &random)) / 8)
            case 2: return .bool(Bool.random(using: &random))
            case 3: return .null
            case 4: return .array((0..<Int.random(in: 0...3, using: &random)).map { _ in value(depth + 1) })
            default: return .object(Dictionary((0..<Int.random(in: 0...3, using: &random)).map { _ in (word(), value(depth + 1)) }) { a, _ in a })
            }
        }
        for _ in 0..<2000 {
            let event = AuditEvent(
                actor: AuditActor(
                    user: word(), roles: (0..<Int.random(in: 0...2, using: &random)).map { _ in "r" + word() },
                    claims: Dictionary((0..<Int.random(in: 0...3, using: &random)).map { _ in (word(), value(1)) }) { a, _ in a }),
                action: "schema.change", outcome: AuditOutcome.allCases.randomElement(using: &random)!,
                timestamp: AuditTimestamp(microseconds: Int64.random(in: 0...4_000_000_000_000_000, using: &random)),
                tenant: Bool.random(using: &random) ? word() : nil, requestID: Bool.random(using: &random) ? word() : nil,
                target: Bool.random(using: &random) ? word() : nil,
                artifactHash: Bool.random(using: &random) ? "sha256:" + String(repeating: "0f", count: 32) : nil,
                data: Dictionary((0..<Int.random(in: 0...4, using: &random)).map { _ in (word(), value(1)) }) { a, _ in a })
            #expect(event.canonicalBytes() == JSONCanonicalizer.canonicalize(event.jsonValue()))
        }
    }

    @Test(arguments: ["schema.change", "rbac.grant", "a.b", "timeline.branch-merge", "x1.y_2.z-3"])
    func validActions(action: String) { #expect(AuditEvent.isValidAction(action)) }

    @Test(arguments: ["schema", ".a", "a.", "a..b", "A.b", "a.B", "1a.b", "a.b c", "a.1b", ""])
    func invalidActions(action: String) { #expect(!AuditEvent.isValidAction(action)) }
}

@Suite struct PeriodicCheckpointTests {
    @Test func aQuietLogGetsItsLastEntriesSignedOnTime() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("laforge-periodic-\(UUID().uuidString)").path
        let config = try LaForgeConfig.parse(
            text: "version: 1\nstate_dir: \(directory)\naudit:\n  checkpoints: {every_entries: 1000, every_ms: 100}\n",
            sourceName: "periodic.yaml")
        let log = try AuditLog.open(config: config, logger: Logger(minimumLevel: .error) { _, _ in })
        try log.emit(AuditEvent(actor: AuditActor(user: "a"), action: "schema.change"))
        let timer = PeriodicCheckpoints(log: log)
        defer { timer.stop() }
        var covered = false
        for _ in 0..<100 where !covered {
            usleep(20_000)
            covered = (try log.journal.checkpoints().last?.size ?? 0) >= 1
        }
        #expect(covered, "no checkpoint within 2 s with every_ms 100")
    }
}

/// The NDJSON fast decoder accepts only what the general path accepts, and then yields the
/// same event; on anything else it steps aside (nil) so the general path reports the error.
@Suite struct AuditEventDecoderTests {
    func general(_ line: String) -> AuditEvent? {
        guard let value = try? JSONParser.parse(line) else { return nil }
        return try? AuditEvent(json: value)
    }

    func fast(_ line: String) -> AuditEvent? { AuditEventDecoder.decode(Array(line.utf8)[...]) }

    @Test func agreesWithTheGeneralPathOnRandomAndMangledLines() throws {
        var random = AuditFastPathTests.Generator(state: 42)
        let pieces: [(String, String)] = [
            ("actor", #"{"user":"alice","roles":["admin","dev"],"claims":{"org":"acme","n":[1,2.5,null]}}"#),
            ("action", #""schema.change""#), ("outcome", #""denied""#), ("timestamp", #""2026-11-27T05:00:00.5+01:00""#),
            ("tenant", #""t-1""#), ("request_id", "null"), ("target", #""billing \"main\"""#),
            ("artifact_hash", "\"sha256:" + String(repeating: "ab", count: 32) + "\""),
            ("data", #"{"k":{"deep":[true,false]},"s":"\u00e9\n"}"#),
        ]
        var accepted = 0
        for round in 0..<3000 {
            var members = pieces.shuffled(using: &random).filter { $0.0 == "actor" || $0.0 == "action" || $0.0 == "timestamp" || Bool.random(using: &random) }
            if round % 7 == 0 { members.append(("tennant", #""x""#)) }
            let space = [" ", "", "\t", "\n  "]
            var line = "{" + members.map { "\(space.randomElement(using: &random)!)\"\($0.0)\"\(space.randomElement(using: &random)!):\($0.1)" }.joined(separator: ",") + "}"
            if round % 3 == 0 {
                // Mangle one byte: the result is usually invalid, sometimes still valid.
                var bytes = Array(line.utf8)
                let at = Int.random(in: 0..<bytes.count, using: &random)
                if Bool.random(using: &random) { bytes.remove(at: at) } else { bytes[at] = Array(#"{}[],:"\ a1n"#.utf8).randomElement(using: &random)! }
                line = String(decoding: bytes, as: UTF8.self)
            }
            let expected = general(line)
            let decoded = fast(line)
            if let decoded {
                accepted += 1
                #expect(decoded == expected, "\(line)")
            } else if round % 3 != 0 && round % 7 != 0 {
                Issue.record("the fast path stepped aside on a valid line: \(line)")
            }
        }
        #expect(accepted > 1000)
    }

    @Test(arguments: [
        #"{"actor":{"user":"a","roles":"x,y"},"action":"a.b","timestamp":"2026-01-01T00:00:00Z"}"#,
        #"{"actor":{"user":"a"},"action":"a.b","action":"c.d","timestamp":"2026-01-01T00:00:00Z"}"#,
        #"{"actor":{"user":"a"},"action":"A","timestamp":"2026-01-01T00:00:00Z"}"#,
        "\u{FEFF}{}",
        #"{"actor":{"user":"a"},"action":"a.b","data":[1]}"#,
    ])
    func stepsAsideOnWhatOnlyTheGeneralPathDecides(line: String) {
        #expect(fast(line) == nil)
    }
}
