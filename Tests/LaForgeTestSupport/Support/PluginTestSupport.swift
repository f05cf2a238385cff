import Foundation
import Logging
import LaForgeAudit
import LaForgeCore
import LaForgeGovernance
import LaForgeIdentity
import LaForgeJournal
import LaForgePlugins
import LaForgeSecrets

/// A fresh plugin directory holding copies of C fixtures under the names a config refers to.
func makePluginDirectory(_ libraries: [String: String]) throws -> String {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("laforge-plugins-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    for (name, source) in libraries {
        let built = try CPluginBuilder.build(sourceURL(source))
        try FileManager.default.copyItem(atPath: built.path, toPath: directory + "/" + name)
    }
    return directory
}

/// `examples/…` or a fixture under `Tests/LaForgeTestSupport/Fixtures/plugins/`.
func sourceURL(_ source: String) -> URL {
    source.hasPrefix("examples/")
        ? CPluginBuilder.packageRoot.appendingPathComponent(source)
        : fixtureURL("plugins/\(source)")
}

/// Opens a C fixture through the real loader.
func openFixture(_ source: String) throws -> PluginLibrary {
    try PluginLibrary.open(path: CPluginBuilder.build(sourceURL(source)).path)
}

/// The load error a fixture produces, or nil when it loads.
func loadError(_ source: String) throws -> PluginLoadError? {
    let path = try CPluginBuilder.build(sourceURL(source)).path
    do {
        _ = try PluginLibrary.open(path: path)
        return nil
    } catch {
        return error
    }
}

/// Collects host log lines for assertions.
final class CapturedLog: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []

    var logger: Logger {
        Logger(minimumLevel: .debug) { [self] level, message in
            lock.withLock { lines.append("[\(level)] \(message)") }
        }
    }

    var text: String { lock.withLock { lines.joined(separator: "\n") } }
}

/// Starts a runtime from YAML text with plugins from `pluginDirectory`.
func startRuntime(
    _ yaml: String, pluginDirectory: String, log: CapturedLog = CapturedLog(), environment: [String: String] = [:]
) throws(RuntimeStartError) -> PluginRuntime {
    let config: LaForgeConfig
    do {
        config = try LaForgeConfig.parse(text: yaml, sourceName: "test.yaml", baseDirectory: pluginDirectory, environment: environment)
    } catch {
        throw .config([error])
    }
    return try PluginRuntime.start(
        config: config,
        options: .init(pluginDirectory: pluginDirectory, environment: environment, logger: log.logger))
}
