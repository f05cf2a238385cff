import Testing
@testable import LaForgeTestSupport

@testable import LaForgeAudit
@testable import LaForgeCore
@testable import LaForgeGovernance
@testable import LaForgeIdentity
@testable import LaForgeJournal
@testable import LaForgePlugins
@testable import LaForgeSecrets

/// The NDJSON transcoder yields, for every line it accepts, exactly the canonical bytes of the
/// general path (parse, `AuditEvent(json:)`, `canonicalBytes()`); on anything else it steps
/// aside (nil) so the general path reports the error.
@Suite struct AuditEventTranscoderTests {
    func general(_ line: String) -> [UInt8]? {
        guard let value = try? JSONParser.parse(line), let event = try? AuditEvent(json: value) else { return nil }
        return event.canonicalBytes()
    }

    func fast(_ line: String) -> [UInt8]? { AuditEventTranscoder.canonicalBody(Array(line.utf8)[...]) }

    /// A random free-form value: nested objects with keys in any order, numbers in every form.
    func randomValue(depth: Int, using random: inout AuditFastPathTests.Generator) -> String {
        let numbers = ["0", "-0", "1", "-17", "3.25", "1e3", "1E-7", "0.1", "123456789012345678901", "2.5e+20", "1e21", "-0.0"]
        let strings = [#""plain""#, #""é ü 中""#, #""emoji 😀""#, #""del\#u{7F}ok""#, #""""#]
        let keys = ["b", "a", "A", "é", "z9", "_", "aa", "中", "", "key with space"]
        switch depth > 2 ? Int.random(in: 0..<3, using: &random) : Int.random(in: 0..<5, using: &random) {
        case 0: return numbers.randomElement(using: &random)!
        case 1: return strings.randomElement(using: &random)!
        case 2: return ["true", "false", "null"].randomElement(using: &random)!
        case 3:
            let count = Int.random(in: 0..<4, using: &random)
            return "[" + (0..<count).map { _ in randomValue(depth: depth + 1, using: &random) }.joined(separator: " , ") + "]"
        default:
            let chosen = keys.shuffled(using: &random).prefix(Int.random(in: 0..<5, using: &random))
            return "{" + chosen.map { "\"\($0)\": \(randomValue(depth: depth + 1, using: &random))" }.joined(separator: ",") + "}"
        }
    }

    func randomObject(using random: inout AuditFastPathTests.Generator) -> String {
        "{" + (0..<Int.random(in: 0..<4, using: &random)).map { index in
            "\"k\(index)\":\(randomValue(depth: 2, using: &random))"
        }.joined(separator: ",") + "}"
    }

    /// Canonical ones (copied as they are) and near misses that must take the parsing path.
    let timestamps = [
        "2026-11-27T05:00:00.5+01:00", "2026-11-27T05:00:00.123456Z", "2024-02-29T23:59:59.999999Z",
        "2023-02-29T00:00:00.000000Z", "2026-04-31T00:00:00.000000Z", "2026-12-31T23:59:60.000000Z",
        "2026-11-27t05:00:00.123456Z", "2026-11-27T05:00:00.123456z", "2026-11-27T24:00:00.000000Z",
        "2000-02-29T12:00:00.000000Z", "1900-02-29T12:00:00.000000Z", "0999-01-01T00:00:00.000000Z",
        "1969-12-31T23:59:59.999999Z", "2026-13-01T00:00:00.000000Z", "2026-00-10T00:00:00.000000Z",
        "2026-11-00T00:00:00.000000Z", "2026-11-27T05:60:00.000000Z", "2026-11-27T05:00:00.12345Z",
    ]

    @Test(arguments: AuditOutcome.allCases)
    func everyOutcomeIsTranscoded(outcome: AuditOutcome) {
        let line = #"{"actor":{"user":"a"},"action":"a.b","outcome":"\#(outcome.rawValue)","timestamp":"2026-01-01T00:00:00.000000Z"}"#
        #expect(fast(line) != nil)
        #expect(fast(line) == general(line))
    }

    @Test func agreesWithTheGeneralPathOnRandomAndMangledLines() throws {
        var random = AuditFastPathTests.Generator(state: 7)
        var accepted = 0
        for round in 0..<4000 {
            var members: [(String, String)] = [
                ("actor", #"{"user":"alice","roles":["admin","dev"],"claims":\#(randomObject(using: &random))}"#),
                ("action", #""schema.change""#),
                ("timestamp", "\"" + timestamps.randomElement(using: &random)! + "\""),
            ]
            let optional: [(String, String)] = [
                ("outcome", #""denied""#), ("tenant", #""t-1""#), ("request_id", "null"), ("target", #""billing""#),
                ("artifact_hash", "\"sha256:" + String(repeating: "ab", count: 32) + "\""),
                    ("data", randomObject(using: &random)),
            ]
            members += optional.filter { _ in Bool.random(using: &random) }
            members.shuffle(using: &random)
            var line = "{" + members.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ",") + "}"
            if round % 3 == 0 {
                // Mangle one byte: the result is usually invalid, sometimes still valid.
                var bytes = Array(line.utf8)
                let at = Int.random(in: 0..<bytes.count, using: &random)
                if Bool.random(using: &random) {
                    bytes.remove(at: at)
                } else {
                    bytes[at] = Array(#"{}[],:"\ a1n-e."#.utf8).randomElement(using: &random)!
                }
                line = String(decoding: bytes, as: UTF8.self)
            }
            let expected = general(line)
            if let transcoded = fast(line) {
                accepted += 1
                #expect(transcoded == expected, "\(line)")
            }
        }
        #expect(accepted > 1200)
    }

    @Test(arguments: [
        // What only the general path decides (errors) or what the transcoder leaves to it.
        #"{"actor":{"user":"a","roles":"x,y"},"action":"a.b","timestamp":"2026-01-01T00:00:00Z"}"#,
        #"{"actor":{"user":"a"},"action":"a.b","action":"c.d","timestamp":"2026-01-01T00:00:00Z"}"#,
        #"{"actor":{"user":"a"},"action":"A","timestamp":"2026-01-01T00:00:00Z"}"#,
        #"{"actor":{"user":"a"},"action":"a.b","data":{"k":1,"k":2},"timestamp":"2026-01-01T00:00:00Z"}"#,
        #"{"actor":{"user":"a\u00e9"},"action":"a.b","timestamp":"2026-01-01T00:00:00Z"}"#,
        #"{"actor":{"user":"a"},"action":"a.b","data":{"😀":1,"\u{E000}":2},"timestamp":"2026-01-01T00:00:00Z"}"#,
        #"{"actor":{"user":""},"action":"a.b","timestamp":"2026-01-01T00:00:00Z"}"#,
        #"{"actor":{"user":"a"},"action":"a.b","data":{"n":1e400},"timestamp":"2026-01-01T00:00:00Z"}"#,
        "\u{FEFF}{}",
        #"{"actor":{"user":"a"},"action":"a.b","data":[1]}"#,
    ])
    func stepsAsideOnWhatOnlyTheGeneralPathDecides(line: String) {
        #expect(fast(line) == nil)
    }

    @Test func keysSortByUTF16InsideTheBasicMultilingualPlane() throws {
        let line = #"{"actor":{"user":"a"},"action":"a.b","data":{"é":1,"z":2,"中":3,"A":4,"\#u{E000}":5},"timestamp":"2026-01-01T00:00:00Z"}"#
        let transcoded = try #require(fast(line))
        #expect(transcoded == general(line))
        #expect(String(decoding: transcoded, as: UTF8.self).contains(#""data":{"A":4,"z":2,"é":1,"中":3,"\#u{E000}":5}"#))
    }
}
