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

@Suite("JSONParser")
struct JSONParserTests {
    @Test("parses every JSON type")
    func parsesValues() throws {
        let value = try JSONParser.parse(#" {"a": [1, -2.5e3, true, false, null, "x\u00e9\ud83d\ude02\n"], "b": {}} "#)
        #expect(value == ["a": [1, -2500, true, false, nil, "xé😂\n"], "b": [:]])
        #expect(value["a"]?[5]?.stringValue == "xé😂\n")
        #expect(value["a"]?[0]?.intValue == 1)
        #expect(value["b"]?.objectValue == [:])
        #expect(value["missing"] == nil)
    }

    @Test("parses Data and byte input the same as String")
    func inputForms() throws {
        let text = #"{"k":[0.1,1e2]}"#
        let expected = try JSONParser.parse(text)
        #expect(try JSONParser.parse(Data(text.utf8)) == expected)
        #expect(try JSONParser.parse(Array(text.utf8)) == expected)
    }

    @Test("numbers convert with correct rounding")
    func numbers() throws {
        #expect(try JSONParser.parse("333333333.33333329") == .number(333333333.3333333))
        #expect(try JSONParser.parse("-0") == .number(-0.0))
        #expect(try JSONParser.parse("1.7976931348623157e308") == .number(.greatestFiniteMagnitude))
        #expect(try JSONParser.parse("5e-324") == .number(.leastNonzeroMagnitude))
        #expect(try JSONParser.parse("0e10") == .number(0))
        #expect(try JSONParser.parse("123456789012345678901234567890") == .number(1.2345678901234568e29))
    }

    @Test(
        "rejects invalid documents with a position",
        arguments: [
            ("", 0, 1, 1, "unexpected end of input"),
            ("{\"a\":1,}", 7, 1, 8, "trailing comma"),
            ("[1,]", 3, 1, 4, "trailing comma"),
            ("{\"a\":1,\n \"a\":2}", 9, 2, 2, "duplicate key \"a\""),
            ("[1] x", 4, 1, 5, "after the JSON value"),
            ("01", 0, 1, 1, "leading zeros"),
            ("1.", 2, 1, 3, "decimal point"),
            ("1e", 2, 1, 3, "exponent"),
            ("-", 1, 1, 2, "digit"),
            ("+1", 0, 1, 1, "unexpected character '+'"),
            ("1e400", 0, 1, 1, "outside the range"),
            ("-1e400", 0, 1, 1, "outside the range"),
            ("1e-400", 0, 1, 1, "too small"),
            ("\"\\ud83d\"", 1, 1, 2, "lone high surrogate"),
            ("\"\\ud83dx\"", 1, 1, 2, "lone high surrogate"),
            ("\"\\ud83d\\u0041\"", 1, 1, 2, "not a low surrogate"),
            ("\"\\ude02\"", 1, 1, 2, "lone low surrogate"),
            ("\"a\tb\"", 2, 1, 3, "control character U+0009"),
            ("\"\\x\"", 1, 1, 2, "invalid escape"),
            ("\"\\u12\"", 1, 1, 2, "four hexadecimal digits"),
            ("\"abc", 4, 1, 5, "missing closing quote"),
            ("'a'", 0, 1, 1, "double quotes"),
            ("[tru]", 1, 1, 2, "expected \"true\""),
            ("NaN", 0, 1, 1, "unexpected character 'N'"),
            ("{a:1}", 1, 1, 2, "expected a string key"),
            ("{\"a\" 1}", 5, 1, 6, "expected \":\""),
            ("[1 2]", 3, 1, 4, "expected \",\" or \"]\""),
            ("\"é\" x", 5, 1, 5, "after the JSON value"),
        ] as [(String, Int, Int, Int, String)])
    func rejects(input: String, offset: Int, line: Int, column: Int, message: String) {
        #expect {
            try JSONParser.parse(input)
        } throws: { error in
            guard let error = error as? JSONParseError else { return false }
            #expect(error.offset == offset, "\(error)")
            #expect(error.line == line, "\(error)")
            #expect(error.column == column, "\(error)")
            #expect(error.message.contains(message), "\(error)")
            return true
        }
    }

    @Test(
        "rejects invalid UTF-8",
        arguments: [
            [0x22, 0xFF, 0x22],  // never valid
            [0x22, 0xC0, 0xAF, 0x22],  // overlong "/"
            [0x22, 0xE0, 0x80, 0xAF, 0x22],  // overlong
            [0x22, 0xED, 0xA0, 0x80, 0x22],  // encoded surrogate U+D800
            [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22],  // above U+10FFFF
            [0x22, 0xC3, 0x22],  // truncated sequence
            [0x22, 0xE2, 0x82],  // truncated at end
            [0x80],  // stray continuation byte outside a string
        ] as [[UInt8]])
    func rejectsInvalidUTF8(bytes: [UInt8]) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(bytes) }
    }

    @Test("rejects a byte order mark and excessive nesting")
    func rejectsBOMAndDepth() {
        #expect(throws: JSONParseError.self) { try JSONParser.parse([0xEF, 0xBB, 0xBF, 0x31]) }
        let deep =
            String(repeating: "[", count: JSONParser.maximumDepth + 1)
            + String(repeating: "]", count: JSONParser.maximumDepth + 1)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(deep) }
        let allowed =
            String(repeating: "[", count: JSONParser.maximumDepth)
            + String(repeating: "]", count: JSONParser.maximumDepth)
        #expect(throws: Never.self) { try JSONParser.parse(allowed) }
    }

    @Test("error description names line and column")
    func errorDescription() {
        let error = JSONParseError(offset: 9, line: 2, column: 2, message: "duplicate key \"a\" in object")
        #expect(error.description == "line 2, column 2 (byte 9): duplicate key \"a\" in object")
    }
}
