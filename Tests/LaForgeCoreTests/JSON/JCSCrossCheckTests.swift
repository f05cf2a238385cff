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

/// Cross-checks `JSONCanonicalizer` against an independent RFC 8785 implementation, the PyPI
/// package `rfc8785` (DESIGN.md §4): thousands of random audit-event-like values are written
/// NON-canonically (keys reversed, spaces, escapes where none are needed, `1.0` for `1`), so the
/// Python side really re-canonicalizes, and both outputs must agree byte for byte.
///
/// Python is `$LAFORGE_PYTHON`, else `.build/venv/bin/python`, both set up by `scripts/test`.
/// Without it the test fails rather than passes: a cross-check that silently does not run
/// checks nothing.
@Suite("JCS cross-check against the rfc8785 package")
struct JCSCrossCheckTests {
    static let eventCount = 5000
    static let seed: UInt64 = 0x1A_F0_26_E5

    @Test("random audit events canonicalize exactly as rfc8785 does")
    func crossCheck() throws {
        guard let python = testPythonInterpreter() else {
            let message =
                "no Python with rfc8785 for the cross-check: run `scripts/test` (it creates .build/venv and installs "
                + "scripts/requirements-test.txt), or set LAFORGE_PYTHON to an interpreter that has rfc8785"
            Issue.record(Comment(rawValue: message))
            return
        }

        var random = SplitMix64(seed: Self.seed)  // Tests/LaForgeCoreTests/Chain/MerklePropertyTests.swift
        var generator = RandomAuditJSON()
        var inputLines: [String] = []
        var expected: [[UInt8]] = []
        for index in 0..<Self.eventCount {
            let value = generator.event(&random)
            let canonical = JSONCanonicalizer.canonicalize(value)
            let loose = LooseJSONWriter.write(value, &random)
            // Our own parser must read the loose text back to the same canonical bytes;
            // otherwise a mismatch below would blame the wrong component.
            let reparsed = try JSONParser.parse(loose)
            try #require(
                JSONCanonicalizer.canonicalize(reparsed) == canonical,
                "event \(index): JSONParser reads the loose form back differently\nloose: \(loose)")
            inputLines.append(loose)
            expected.append(canonical)
        }

        let scratch = FileManager.default.temporaryDirectory
            .appendingPathComponent("laforge-jcs-crosscheck-\(getpid())-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let inputPath = scratch.appendingPathComponent("input.ndjson").path
        let outputPath = scratch.appendingPathComponent("output.ndjson").path
        let scriptPath = scratch.appendingPathComponent("canonicalize.py").path
        try Data((inputLines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: inputPath))
        try Data(Self.pythonScript.utf8).write(to: URL(fileURLWithPath: scriptPath))

        let (status, standardError) = try Self.run(python, [scriptPath, inputPath, outputPath])
        if status == 3 {
            Issue.record("\(python) cannot import rfc8785 (\(standardError.trimmingCharacters(in: .whitespacesAndNewlines))): run `scripts/test`")
            return
        }
        try #require(status == 0, "the rfc8785 script exited \(status): \(standardError)")

        let output = try [UInt8](Data(contentsOf: URL(fileURLWithPath: outputPath)))
        var theirs = output.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
        if theirs.last == [] { theirs.removeLast() }
        try #require(theirs.count == expected.count, "rfc8785 returned \(theirs.count) lines for \(expected.count) inputs")

        for index in expected.indices where theirs[index] != expected[index] {
            Issue.record(Comment(rawValue: Self.describeMismatch(
                index: index, input: inputLines[index], ours: expected[index], theirs: theirs[index])))
            return  // the first mismatch, precisely; the rest usually repeat it
        }
    }

    // MARK: Python

    /// Reads NDJSON as bytes (so U+2028 or a raw CR inside a string never splits a line) and
    /// writes one canonical line per input, or `!<exception>` for an input it refused.
    static let pythonScript = #"""
        import sys, json
        try:
            import rfc8785
        except ImportError as error:
            sys.stderr.write(f"import rfc8785 failed: {error}\n")
            sys.exit(3)
        source, destination = sys.argv[1], sys.argv[2]
        with open(source, "rb") as f:
            lines = f.read().split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        with open(destination, "wb") as out:
            for line in lines:
                try:
                    out.write(rfc8785.dumps(json.loads(line.decode("utf-8"))))
                except Exception as error:
                    out.write(b"!" + repr(error).encode("ascii", "backslashreplace"))
                out.write(b"\n")
        """#

    static func run(_ executable: String, _ arguments: [String]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let errorPipe = Pipe()
        process.standardError = errorPipe
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let errorData = errorPipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: errorData, as: UTF8.self))
    }

    static func describeMismatch(index: Int, input: String, ours: [UInt8], theirs: [UInt8]) -> String {
        let offset = zip(ours, theirs).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(ours.count, theirs.count)
        func around(_ bytes: [UInt8]) -> String {
            let start = max(0, offset - 40)
            let end = min(bytes.count, offset + 40)
            return String(decoding: bytes[start..<end], as: UTF8.self).debugDescription
                + " (bytes \(bytes[start..<end].map { String(format: "%02x", $0) }.joined(separator: " ")))"
        }
        return """
            event \(index) (seed \(seed)): canonical forms differ at byte \(offset) \
            (ours \(ours.count) bytes, rfc8785 \(theirs.count) bytes)
            ours    near the difference: \(around(ours))
            rfc8785 near the difference: \(around(theirs))
            ours:    \(String(decoding: ours, as: UTF8.self))
            rfc8785: \(String(decoding: theirs, as: UTF8.self))
            input:   \(input)
            """
    }
}

/// Random values shaped like audit events, biased towards what canonicalizers get wrong.
struct RandomAuditJSON {
    /// Keys whose order differs between UTF-16 code units and scalar (UTF-8) order: U+E000…U+FFFF
    /// sort after U+10000… by scalar but before them by UTF-16 (surrogates are 0xD800…).
    static let trickyKeys: [String] = [
        "\u{E000}", "\u{1F600}", "\u{FFFD}", "\u{10000}", "\u{FB33}", "\u{10FFFF}", "\u{FFFF}", "\u{D7FF}",
        "a", "A", "aa", "a\u{0}", "", " ", "\u{7F}", "\u{80}", "é", "e\u{301}x", "\u{2028}", "\"", "\\", "/",
        "seq", "prev_hash", "actor", "data", "1", "10", "2",
    ]
    static let pieces: [String] = [
        "alice", "schema.change", "ünïcødé", "日本語", "😀", "👩‍💻", "\u{10FFFF}", "\u{E000}", "\u{FFFF}",
        "\u{2028}\u{2029}", "\u{FEFF}", "\"", "\\", "/", "\\u0000", "\u{0}", "\u{1}", "\u{8}", "\t", "\n", "\r",
        "\u{C}", "\u{B}", "\u{1F}", "\u{7F}", "\u{80}", "\u{9F}", "é", "e\u{301}", "𝄞", "\u{1D11E}\u{1D11E}", " ",
        "<script>", "&amp;", "'", "%s", "{}", "[]", "null", "1e21",
    ]
    static let specialNumbers: [Double] = [
        0, -0.0, 1, -1, 1e21, 1e20, Double(bitPattern: 0x444B_1AE4_D6E2_EF4F), 1e-7, 1e-6, 0.000001,
        Double.leastNonzeroMagnitude, -Double.leastNonzeroMagnitude, Double(bitPattern: 0x4430_0000_0000_0000),
        0.1 + 0.2, 0.1, 0.3, 1.0 / 3.0, 2.0 / 3.0, 100, 1e23,
        9_007_199_254_740_991, -9_007_199_254_740_991, 9_007_199_254_740_992, 18_014_398_509_481_984, 4.35, 0.5,
        123_456_789.123_456_79, 333_333_333.333_333_3, 1_424_953_923_781_206.2, -0.000_003_333_333_333_333_333_3,
        1e-300, 1.5e300, Double.greatestFiniteMagnitude, Double.leastNormalMagnitude,
    ]
    static let maximumSafeInteger: Int64 = 9_007_199_254_740_991  // 2^53 - 1: rfc8785 refuses larger ints

    mutating func event(_ random: inout SplitMix64) -> JSONValue {
        var object: [String: JSONValue] = [
            "actor": .object([
                "user": .string(string(&random)),
                "roles": .array((0..<Int.random(in: 0...3, using: &random)).map { _ in .string(string(&random)) }),
                "claims": object(&random, depth: 1),
            ]),
            "action": .string(["schema.change", "rbac.grant", "policy.edit", "approval.\(string(&random))"].randomElement(using: &random)!),
            "timestamp": .string("2026-11-27T12:34:56.\(Int.random(in: 100_000...999_999, using: &random))Z"),
            "outcome": .string(["success", "failure", "denied"].randomElement(using: &random)!),
            "seq": .number(Double(Int64.random(in: 0...Self.maximumSafeInteger, using: &random))),
            "data": object(&random, depth: 3),
        ]
        if Bool.random(using: &random) { object["tenant"] = .string(string(&random)) }
        if Bool.random(using: &random) { object["target"] = .string(string(&random)) }
        for _ in 0..<Int.random(in: 0...3, using: &random) { object[key(&random)] = value(&random, depth: 2) }
        return .object(object)
    }

    func value(_ random: inout SplitMix64, depth: Int) -> JSONValue {
        switch Int.random(in: 0..<(depth > 0 ? 9 : 7), using: &random) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &random))
        case 2, 3: return .number(number(&random))
        case 4, 5, 6: return .string(string(&random))
        case 7: return .array((0..<Int.random(in: 0...4, using: &random)).map { _ in value(&random, depth: depth - 1) })
        default: return object(&random, depth: depth - 1)
        }
    }

    func object(_ random: inout SplitMix64, depth: Int) -> JSONValue {
        var members: [String: JSONValue] = [:]
        for _ in 0..<Int.random(in: 0...6, using: &random) { members[key(&random)] = value(&random, depth: depth) }
        return .object(members)
    }

    func key(_ random: inout SplitMix64) -> String {
        switch Int.random(in: 0..<4, using: &random) {
        case 0, 1: return Self.trickyKeys.randomElement(using: &random)!
        case 2: return Self.trickyKeys.randomElement(using: &random)! + Self.trickyKeys.randomElement(using: &random)!
        default: return string(&random)
        }
    }

    func string(_ random: inout SplitMix64) -> String {
        var result = ""
        for _ in 0..<Int.random(in: 0...5, using: &random) {
            switch Int.random(in: 0..<4, using: &random) {
            case 0: result += Self.pieces.randomElement(using: &random)!
            case 1: result.unicodeScalars.append(Self.randomScalar(&random))
            default: result += String(Int.random(in: 0...99_999, using: &random), radix: 36)
            }
        }
        return result
    }

    /// Any Unicode scalar, weighted towards the plane boundaries and the controls.
    static func randomScalar(_ random: inout SplitMix64) -> Unicode.Scalar {
        let ranges: [ClosedRange<UInt32>] = [
            0...0x1F, 0x20...0x7F, 0x80...0x7FF, 0x800...0xD7FF, 0xE000...0xFFFF, 0x10000...0x1FFFF, 0x20000...0x10FFFF,
        ]
        let range = ranges.randomElement(using: &random)!
        return Unicode.Scalar(UInt32.random(in: range, using: &random))!
    }

    func number(_ random: inout SplitMix64) -> Double {
        switch Int.random(in: 0..<6, using: &random) {
        case 0: return Self.specialNumbers.randomElement(using: &random)!
        case 1: return Double(Int64.random(in: -Self.maximumSafeInteger...Self.maximumSafeInteger, using: &random))
        case 2: return Double(Int.random(in: -1000...1000, using: &random))
        case 3: return Double(Int.random(in: -100_000...100_000, using: &random)) / [10, 100, 1000, 3, 7].randomElement(using: &random)!
        case 4: return Double(Int.random(in: 1...9, using: &random)) * pow(10, Double(Int.random(in: -30...30, using: &random)))
        default:
            // A random finite bit pattern: every exponent, subnormals included.
            while true {
                let candidate = Double(bitPattern: random.next())
                if candidate.isFinite { return candidate }
            }
        }
    }
}

/// Writes valid but deliberately non-canonical JSON on one line: members in reverse order with
/// spaces and tabs around the punctuation, optional escapes (`\/`, `\uXXXX` in upper case,
/// surrogate pairs for astral scalars), and integers sometimes as `1.0` or `1E0`.
enum LooseJSONWriter {
    static func write(_ value: JSONValue, _ random: inout SplitMix64) -> String {
        var output = ""
        write(value, into: &output, &random)
        return output
    }

    private static func space(_ random: inout SplitMix64) -> String {
        [" ", "", "  ", "\t", " \t "].randomElement(using: &random)!
    }

    private static func write(_ value: JSONValue, into output: inout String, _ random: inout SplitMix64) {
        switch value {
        case .null: output += "null"
        case .bool(let flag): output += flag ? "true" : "false"
        case .number(let number): output += numberText(number, &random)
        case .string(let string): writeString(string, into: &output, &random)
        case .array(let elements):
            output += "[" + space(&random)
            for (position, element) in elements.enumerated() {
                if position > 0 { output += space(&random) + "," + space(&random) }
                write(element, into: &output, &random)
            }
            output += space(&random) + "]"
        case .object(let members):
            output += "{" + space(&random)
            let keys = members.keys.sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }.reversed()
            for (position, key) in keys.enumerated() {
                if position > 0 { output += space(&random) + "," + space(&random) }
                writeString(key, into: &output, &random)
                output += space(&random) + ":" + space(&random)
                write(members[key]!, into: &output, &random)
            }
            output += space(&random) + "}"
        }
    }

    /// Python's json reads an integer token as `int` and anything with `.` or `e` as `float`;
    /// both must come out the same, so integers appear in all three spellings.
    private static func numberText(_ number: Double, _ random: inout SplitMix64) -> String {
        if number == 0 && number.sign == .minus { return ["-0.0", "-0", "-0E0"].randomElement(using: &random)! }
        if number.rounded(.towardZero) == number, abs(number) <= Double(RandomAuditJSON.maximumSafeInteger) {
            let integer = String(Int64(number))
            return [integer, integer, integer + ".0", integer + "E0", integer + ".000e+0"].randomElement(using: &random)!
        }
        return "\(number)"  // Swift's shortest round-trip form, e.g. 1e-07, 1e+21, 0.30000000000000004
    }

    private static func writeString(_ string: String, into output: inout String, _ random: inout SplitMix64) {
        output += "\""
        for scalar in string.unicodeScalars {
            let escape = Int.random(in: 0..<4, using: &random) == 0
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "/": output += escape ? "\\/" : "/"
            case "\u{8}" where !escape: output += "\\b"
            case "\u{C}" where !escape: output += "\\f"
            case "\n" where !escape: output += "\\n"
            case "\r" where !escape: output += "\\r"
            case "\t" where !escape: output += "\\t"
            case _ where scalar.value < 0x20 || (escape && scalar.value > 0x7E):
                if scalar.value > 0xFFFF {
                    let offset = scalar.value - 0x10000
                    output += unicodeEscape(0xD800 + (offset >> 10)) + unicodeEscape(0xDC00 + (offset & 0x3FF))
                } else {
                    output += unicodeEscape(scalar.value)
                }
            default: output.unicodeScalars.append(scalar)
            }
        }
        output += "\""
    }

    private static func unicodeEscape(_ unit: UInt32) -> String {
        let hex = String(unit, radix: 16, uppercase: true)
        return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
    }
}
