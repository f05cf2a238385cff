import Foundation
import Logging

extension LaForgeRuntime {
    /// How an embedder's process differs from what the configuration file says.
    public struct Options: Sendable {
        /// Where plugin libraries are looked up; overrides `$LAFORGE_PLUGIN_DIR` and `plugin_dir`.
        public var pluginDirectory: String?
        /// Overrides `state_dir` of the configuration.
        public var stateDirectory: String?
        /// What `${env:NAME}` in the configuration reads, and `$LAFORGE_PLUGIN_DIR`.
        public var environment: [String: String]
        /// Where the host and its plugins log (swift-log); an embedder passes its own.
        public var logger: Logger
        /// How long `shutdown()` keeps delivering to sinks before it stops the workers; what
        /// they did not get stays in the journal for the next start. Default:
        /// `audit.delivery.flush_timeout_ms` of the configuration.
        public var shutdownTimeoutMilliseconds: Int?

        public init(
            pluginDirectory: String? = nil, stateDirectory: String? = nil,
            environment: [String: String] = ProcessInfo.processInfo.environment, logger: Logger = .host,
            shutdownTimeoutMilliseconds: Int? = nil
        ) {
            self.pluginDirectory = pluginDirectory
            self.stateDirectory = stateDirectory
            self.environment = environment
            self.logger = logger
            self.shutdownTimeoutMilliseconds = shutdownTimeoutMilliseconds
        }
    }
}
