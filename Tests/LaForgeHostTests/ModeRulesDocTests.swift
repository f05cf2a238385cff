import Foundation
import Testing
@testable import LaForgeTestSupport

/// docs/CONFIG.md "Mode-dependent rules" lists every rule that differs between production and
/// development with what the code says, word for word, and the file that says it. Each quote must
/// still be in its file, and every file that decides something by mode must be in the list (or
/// only pass the mode on), so a new production check cannot go undocumented.
@Suite struct ModeRulesDocTests {
    static let root = CPluginBuilder.packageRoot

    /// Files that read the mode only to hand it to the code that decides (listed in the table).
    static let passTheModeOn: Set<String> = [
        "Sources/LaForgePluginKit/HostServices.swift",  // isProduction / isDevelopment for plugins
        "Sources/LaForgePlugins/Loader/PluginHostContext.swift",  // laforge_host_api.mode
        "Plugins/OIDCConnector/OIDCConnectorInstance.swift",  // to OIDCConfig
        "Plugins/PostgresAudit/PostgresAuditInstance.swift",  // to PostgresAuditConfig
        "Plugins/SIEMWebhook/SIEMWebhookInstance.swift",  // to SIEMWebhookConfig
    ]

    struct Rule {
        var name: String
        var quote: String
        var source: String
    }

    /// The table's rows: cells split on unescaped `|`, backticks removed from the last two.
    static func rules() throws -> [Rule] {
        let text = try String(contentsOf: root.appendingPathComponent("docs/CONFIG.md"), encoding: .utf8)
        let section = try #require(text.components(separatedBy: "## Mode-dependent rules").dropFirst().first)
        let table = section.components(separatedBy: "\n## ").first ?? section
        return table.split(separator: "\n").filter { $0.hasPrefix("| ") && !$0.hasPrefix("| Rule") && !$0.hasPrefix("| ---") }.map { row in
            let cells = row.replacingOccurrences(of: #"\|"#, with: "\u{0}").split(separator: "|").map {
                $0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "\u{0}", with: "|")
            }
            func unquoted(_ cell: String) -> String {
                cell.hasPrefix("`") && cell.hasSuffix("`") ? String(cell.dropFirst().dropLast()) : cell
            }
            return Rule(name: cells.first ?? "", quote: unquoted(cells[cells.count - 2]), source: unquoted(cells[cells.count - 1]))
        }
    }

    @Test func everyQuotedMessageIsWhatItsFileSays() throws {
        let rules = try Self.rules()
        #expect(rules.count >= 15)
        for rule in rules {
            let path = Self.root.appendingPathComponent(rule.source).path
            guard let code = try? String(contentsOfFile: path, encoding: .utf8) else {
                Issue.record("\(rule.name): \(rule.source) does not exist")
                continue
            }
            #expect(code.contains(rule.quote), "\(rule.name): \(rule.source) no longer says \(rule.quote)")
        }
    }

    @Test func everyFileThatDecidesByModeIsListed() throws {
        let listed = Set(try Self.rules().map(\.source))
        let decision = try NSRegularExpression(pattern: #"mode == \.production|mode == \.development|isProduction|isDevelopment|\.production\b"#)
        var unlisted: [String] = []
        for folder in ["Sources", "Plugins"] {
            let base = Self.root.appendingPathComponent(folder)
            let walker = FileManager.default.enumerator(atPath: base.path)
            while let relative = walker?.nextObject() as? String {
                guard relative.hasSuffix(".swift") else { continue }
                let path = "\(folder)/\(relative)"
                let code = try String(contentsOf: Self.root.appendingPathComponent(path), encoding: .utf8)
                let found = decision.firstMatch(in: code, range: NSRange(code.startIndex..., in: code)) != nil
                if found && !listed.contains(path) && !Self.passTheModeOn.contains(path) { unlisted.append(path) }
            }
        }
        #expect(unlisted == [], "these files decide by mode but docs/CONFIG.md's Mode-dependent rules do not name them")
    }
}
