import Foundation
import Testing
@testable import LaForgeTestSupport

@testable import LaForgeAudit
@testable import LaForgeCore
@testable import LaForgeJournal
@testable import LaForgePlugins

/// An audit trail stores what it was given or refuses it (#17 item 4): numbers a double cannot
/// hold as written, a leap second, and roles given as a string are refused with the field (and,
/// for --stdin, the line) named and exit 5, on every decoding path; the normalizations that remain
/// keep the value (`1.0` is `1`).
@Suite struct AuditInputFidelityTests {
    static let refusedLines: [(line: String, field: String)] = [
        (#"{"actor":{"user":"a"},"action":"a.b","data":{"n":-9007199254740993}}"#, "data.n"),
        (#"{"actor":{"user":"a"},"action":"a.b","data":{"list":[1,12345678901234567890123]}}"#, "data.list[1]"),
        (#"{"actor":{"user":"a","claims":{"id":0.10000000000000000000001}},"action":"a.b"}"#, "actor.claims.id"),
        (#"{"actor":{"user":"a"},"action":"a.b","timestamp":"2016-12-31T23:59:60Z"}"#, "timestamp"),
        (#"{"actor":{"user":"a","roles":"admin"},"action":"a.b"}"#, "actor.roles"),
    ]

    func generalPath(_ line: String) -> AuditEventError? {
        do {
            let value = try JSONParser.parse(Array(line.utf8)[...], exactNumbers: true)
            _ = try AuditEvent(json: value, line: 1)
            return nil
        } catch let error as JSONParseError {
            return AuditEventError(field: error.field ?? "?", error.message)
        } catch let error as AuditEventError {
            return error
        } catch {
            return AuditEventError(field: "?", "\(error)")
        }
    }

    @Test(arguments: refusedLines.indices)
    func refusedOnEveryPath(index: Int) {
        let (line, field) = Self.refusedLines[index]
        let bytes = Array(line.utf8)[...]
        #expect(AuditEventDecoder.decode(bytes) == nil, "the fast decoder accepted \(line)")
        #expect(AuditEventTranscoder.canonicalBody(bytes) == nil, "the transcoder accepted \(line)")
        let error = generalPath(line)
        #expect(error?.field == field, "\(String(describing: error))")
    }

    @Test func valuesThatSurviveAreKeptAndNormalizedAsDocumented() throws {
        let line = #"{"actor":{"user":"a"},"action":"a.b","timestamp":"2026-01-01T01:00:00+01:00","data":{"a":1.0,"b":1e2,"c":0.1,"d":9007199254740992,"e":-0,"f":1.5e300}}"#
        #expect(generalPath(line) == nil)
        let body = try #require(AuditEventTranscoder.canonicalBody(Array(line.utf8)[...]))
        let text = String(decoding: body, as: UTF8.self)
        #expect(text.contains(#""data":{"a":1,"b":100,"c":0.1,"d":9007199254740992,"e":0,"f":1.5e+300}"#), "\(text)")
        #expect(text.contains(#""timestamp":"2026-01-01T00:00:00.000000Z""#), "\(text)")
    }

    /// Through the CLI: exit 5, the line and the field named, the lines before it recorded.
    @Test func theCLIRefusesWithTheLineAndField() throws {
        let sandbox = try AuditSandbox()
        try sandbox.writeConfig(audit: "  checkpoints: { every_entries: 10 }\n")
        for (line, field) in Self.refusedLines {
            let input = sandbox.root + "/input.ndjson"
            try (auditEventLine(user: "before") + "\n" + line + "\n").write(toFile: input, atomically: true, encoding: .utf8)
            let result = try CLIRunner.runShell(
                "'\(CLIRunner.buildDirectory)/laforge' audit emit --stdin --config '\(sandbox.configPath)' --plugin-dir '\(CLIRunner.buildDirectory)' < '\(input)'")
            #expect(result.status == 5, "\(line): \(result.output)")
            #expect(result.stderr.contains("line 2: \(field):"), "\(line): \(result.stderr)")
        }
        let flags = try sandbox.laforge(["audit", "emit", "--action", "a.b", "--actor", "a", "--data", #"{"n":12345678901234567890123}"#])
        #expect(flags.status == 5, "\(flags.output)")
        #expect(flags.stderr.contains("data.n:"), "\(flags.stderr)")
        let json = try sandbox.laforge(["audit", "emit", "--json", #"{"actor":{"user":"a"},"action":"a.b","data":{"n":-9007199254740993}}"#])
        #expect(json.status == 5, "\(json.output)")
        #expect(json.stderr.contains("data.n:"), "\(json.stderr)")
        let users = try sandbox.journalEntries().compactMap { $0.entry["event"]?["actor"]?["user"]?.stringValue }
        #expect(users == Array(repeating: "before", count: Self.refusedLines.count))
    }
}
