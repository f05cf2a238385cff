import Foundation
import Testing

import LaForgeAudit
import LaForgeCore
import LaForgeGovernance
import LaForgeIdentity
import LaForgeJournal
import LaForgePlugins
import LaForgeSecrets

/// Decodes `yaml` as if it were `config/laforge.yaml` and returns the error it raises, or records
/// an issue when it decodes.
func configError(
    _ yaml: String, environment: [String: String] = [:], baseDirectory: String = ".",
    sourceLocation: SourceLocation = #_sourceLocation
) -> ConfigError? {
    do {
        _ = try LaForgeConfig.parse(
            text: yaml, sourceName: "config/laforge.yaml", baseDirectory: baseDirectory, environment: environment)
        Issue.record("expected a configuration error", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}

/// Decodes `yaml` as `config/laforge.yaml`; a thrown `ConfigError` fails the test with its message.
func decodeConfig(
    _ yaml: String, environment: [String: String] = [:], baseDirectory: String = "."
) throws -> LaForgeConfig {
    try LaForgeConfig.parse(
        text: yaml, sourceName: "config/laforge.yaml", baseDirectory: baseDirectory, environment: environment)
}

/// The JSON a sink named `file` receives when its `config:` is `configYAML` (a flow mapping, or
/// block lines starting with a newline and indented by two spaces).
func fileSinkConfigJSON(
    _ configYAML: String, environment: [String: String] = [:], baseDirectory: String = "."
) throws -> JSONValue {
    let indented = configYAML.replacingOccurrences(of: "\n", with: "\n      ")
    let yaml =
        "version: 1\naudit:\n  sinks:\n    - name: file\n      library: libFileSink.so\n      config: \(indented)\n"
    return try decodeConfig(yaml, environment: environment, baseDirectory: baseDirectory).sinks[0].configJSON
}

/// The folder holding the configuration fixtures, in the source tree.
let configFixtures = fixtureURL("config").path

/// Loads the configuration file at `path` and returns the error it raises, or records an issue
/// when it loads.
func configLoadError(
    path: String, environment: [String: String] = [:], sourceLocation: SourceLocation = #_sourceLocation
) -> ConfigError? {
    do {
        _ = try LaForgeConfig.load(path: path, environment: environment)
        Issue.record("expected a configuration error", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}
