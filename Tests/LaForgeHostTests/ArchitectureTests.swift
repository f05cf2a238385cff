import Foundation
import Testing
@testable import LaForgeTestSupport

/// The module map of docs/ARCHITECTURE.md, checked: every host module may import only modules of
/// a lower layer, every import is a declared dependency in Package.swift (SwiftPM would let a file
/// import a module that merely happens to be built), and plugins never import the host.
@Suite struct ArchitectureTests {
    /// Bottom to top. A module may depend on modules of lower layers only; modules of one layer do
    /// not know each other.
    static let layers: [[String]] = [
        ["LaForgeABI"],
        ["LaForgeCore"],
        ["LaForgeJournal"],
        ["LaForgePlugins"],
        ["LaForgeAudit", "LaForgeSecrets"],
        ["LaForgeIdentity", "LaForgeGovernance"],
        ["LaForgeHost"],
        // `laforge serve`'s API: serves the runtime the umbrella assembles.
        ["LaForgeServer"],
    ]

    static func layer(of module: String) -> Int? { layers.firstIndex { $0.contains(module) } }

    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// `import X`, `@testable import X`, `@_exported import X`, `public import X` … in a file.
    static func imports(in file: URL) throws -> [(module: String, line: Int)] {
        let text = try String(contentsOf: file, encoding: .utf8)
        var found: [(String, Int)] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let words = line.split(separator: " ").map(String.init)
            guard let at = words.firstIndex(of: "import"), at + 1 < words.count,
                  words[..<at].allSatisfy({ $0.hasPrefix("@") || ["public", "package", "internal"].contains($0) })
            else { continue }
            found.append((words[at + 1].split(separator: ".").first.map(String.init) ?? words[at + 1], index + 1))
        }
        return found
    }

    static func swiftFiles(under folder: String) -> [URL] {
        let root = packageRoot.appendingPathComponent(folder)
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else { return [] }
        return walker.compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" }
    }

    /// Target name → the names of the targets it depends on, read from Package.swift's
    /// `.target(name: "…", dependencies: […]` entries. (Not `swift package dump-package`: it
    /// waits for the build lock that the running `swift test` holds.)
    static func declaredDependencies() throws -> [String: Set<String>] {
        let manifest = try String(contentsOf: packageRoot.appendingPathComponent("Package.swift"), encoding: .utf8)
        var result: [String: Set<String>] = [:]
        let target = /\.(?:target|executableTarget|testTarget)\(\s*name:\s*"(\w+)"\s*,\s*dependencies:\s*\[([^\]]*)\]/
        for match in manifest.matches(of: target) {
            let names = match.2.matches(of: /"(\w+)"/).map { String($0.1) }
            result[String(match.1)] = Set(names)
        }
        return result
    }

    @Test func everyHostModuleDependsOnLowerLayersOnly() throws {
        let declared = try Self.declaredDependencies()
        var problems: [String] = []
        for module in Self.layers.joined() {
            let dependencies = try #require(declared[module], "Package.swift has no target \(module)")
            let own = try #require(Self.layer(of: module))
            for dependency in dependencies {
                if let other = Self.layer(of: dependency), other >= own {
                    problems.append("\(module) (layer \(own)) depends on \(dependency) (layer \(other))")
                }
            }
        }
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    @Test func everyImportOfAHostModuleIsADeclaredLowerDependency() throws {
        let declared = try Self.declaredDependencies()
        var problems: [String] = []
        for module in Self.layers.joined() {
            let allowed = declared[module] ?? []
            let own = Self.layer(of: module)!
            for file in Self.swiftFiles(under: "Sources/\(module)") {
                for (imported, line) in try Self.imports(in: file) where Self.layer(of: imported) != nil {
                    if imported == module { continue }
                    if Self.layer(of: imported)! >= own {
                        problems.append("\(file.path):\(line): \(module) imports \(imported), a module of the same or a higher layer")
                    } else if !allowed.contains(imported) {
                        problems.append("\(file.path):\(line): \(module) imports \(imported), which Package.swift does not list as its dependency")
                    }
                }
            }
        }
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    /// What the host shares with the plugins: the ABI helpers below every host layer.
    static let sharedWithPlugins: Set<String> = ["LaForgeABI"]

    /// Plugins are loaded by the host through the C ABI only: linking a host module into one
    /// would give it a second copy of host state and a way around the ABI. The plugin kit is
    /// linked into every Swift plugin, so the same holds for it.
    @Test func pluginsNeverImportTheHost() throws {
        var problems: [String] = []
        for file in Self.swiftFiles(under: "Plugins") + Self.swiftFiles(under: "Sources/LaForgePluginKit") {
            for (imported, line) in try Self.imports(in: file)
            where Self.layer(of: imported) != nil && !Self.sharedWithPlugins.contains(imported) {
                problems.append("\(file.path):\(line): a plugin imports the host module \(imported)")
            }
        }
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    /// `swift build -c release` builds every regular target, and a release module is not compiled
    /// for testing: a `@testable import` outside the test targets breaks the release build that
    /// the benchmarks and packagers run.
    @Test func onlyTestTargetsUseTestableImports() throws {
        var problems: [String] = []
        for file in Self.swiftFiles(under: "Sources") + Self.swiftFiles(under: "Plugins")
            + Self.swiftFiles(under: "Tests/LaForgeTestSupport")
        {
            let text = try String(contentsOf: file, encoding: .utf8)
            for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            where line.hasPrefix("@testable import") {
                problems.append("\(file.path):\(index + 1): \(line) (a regular target; use `package` declarations)")
            }
        }
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    /// The test must see the modules it checks (a renamed folder would make it pass vacuously).
    @Test func everyLayeredModuleHasSources() {
        for module in Self.layers.joined() {
            #expect(!Self.swiftFiles(under: "Sources/\(module)").isEmpty, "Sources/\(module) has no Swift files")
        }
    }
}
