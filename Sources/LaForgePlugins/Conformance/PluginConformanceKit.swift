import Foundation
import LaForgeCore
import Logging
import PluginABI

/// Loads a plugin library and exercises every capability it offers the way the host will,
/// reporting each way it departs from the ABI (`laforge plugins check LIB`).
///
/// Every call goes through the host's own instance wrappers, so the threading and lifecycle
/// rules are the ones production enforces, and a protocol violation is reported with the same
/// message the host would log. The kit never traps on plugin behaviour; a plugin that crashes
/// or hangs takes the checking process with it, as it would the host.
public struct PluginConformanceKit: Sendable {
    public var libraryPath: String
    /// Configuration per capability; a capability without one gets a configuration synthesized
    /// from its schema (see `ConformanceConfigSynthesizer`).
    public var configs: [PluginCapability: JSONValue]
    /// A secret the backend is expected to hold; only its length is ever reported.
    public var secretName: String?
    /// Where synthesized scratch files go; nil: a fresh temporary directory, removed afterwards.
    public var scratchDirectory: String?
    /// Receives the plugins' own log lines during the run.
    public var logger: Logger

    public init(
        libraryPath: String, configs: [PluginCapability: JSONValue] = [:], secretName: String? = nil,
        scratchDirectory: String? = nil, logger: Logger = .host
    ) {
        self.libraryPath = libraryPath
        self.configs = configs
        self.secretName = secretName
        self.scratchDirectory = scratchDirectory
        self.logger = logger
    }

    /// The malformed configuration handed straight to create(), bypassing the host's validation.
    static let malformedConfig = "{not json"

    public func run() -> ConformanceReport {
        var log = ConformanceLog()
        let library: PluginLibrary
        do {
            library = try PluginLibrary.open(path: libraryPath)
        } catch {
            log.fail(nil, "load", error.description)
            return ConformanceReport(library: libraryPath, results: log.results)
        }
        checkDescriptor(library.descriptor, log: &log)

        let scratch: String
        let ownsScratch = scratchDirectory == nil
        if let scratchDirectory {
            scratch = scratchDirectory
        } else if let created = Self.makeTemporaryDirectory() {
            scratch = created
        } else {
            log.fail(
                nil, "scratch",
                "could not create a temporary directory for scratch files: \(String(cString: strerror(errno))); pass one explicitly"
            )
            return ConformanceReport(library: library.path, results: log.results)
        }
        defer { if ownsScratch { try? FileManager.default.removeItem(atPath: scratch) } }

        let run = ConformanceRun(kit: self, library: library, scratch: scratch)
        for capability in library.descriptor.capabilities {
            run.checkCapability(capability, log: &log)
        }
        return ConformanceReport(library: library.path, results: log.results)
    }

    private func checkDescriptor(_ descriptor: PluginDescriptor, log: inout ConformanceLog) {
        let offered = descriptor.capabilities.map(\.rawValue).joined(separator: " and ")
        log.pass(
            nil, "load",
            "loaded plugin \(descriptor.name) \(descriptor.version) built for ABI \(descriptor.abi), offering \(offered)"
        )
        if descriptor.description.trimmingCharacters(in: .whitespaces).isEmpty {
            log.warn(
                nil, "description",
                "the descriptor's description is empty; `laforge plugins list` will show nothing about what the plugin does"
            )
        } else {
            log.pass(nil, "description", "the descriptor describes the plugin as \"\(descriptor.description)\"")
        }
        if descriptor.license.trimmingCharacters(in: .whitespaces).isEmpty {
            log.warn(
                nil, "license",
                "the descriptor's license is empty; give an SPDX expression such as \"Apache-2.0\" so operators can vet the plugin"
            )
        } else {
            log.pass(nil, "license", "the descriptor declares the license \"\(descriptor.license)\"")
        }
        if Self.isSemanticVersion(descriptor.version) {
            log.pass(nil, "version", "the plugin version \"\(descriptor.version)\" is a semantic version")
        } else {
            log.warn(
                nil, "version",
                "the plugin version \"\(descriptor.version)\" is not a semantic version (MAJOR.MINOR.PATCH such as \"1.0.0\")"
            )
        }
        if descriptor.unknownCapabilityBits != 0 {
            log.warn(
                nil, "capability-bits",
                "the descriptor sets capability bits 0x\(String(descriptor.unknownCapabilityBits, radix: 16)) that ABI \(ABIVersion.host) does not define; this host ignores them"
            )
        } else {
            log.pass(
                nil, "capability-bits", "every capability bit the descriptor sets is one ABI \(ABIVersion.host) defines"
            )
        }
    }

    /// SemVer 2.0.0 §2, §9, §10: MAJOR.MINOR.PATCH without leading zeros, then an optional
    /// `-prerelease` and `+build` of dot-separated [0-9A-Za-z-] identifiers.
    static func isSemanticVersion(_ version: String) -> Bool {
        let pattern =
            #"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)"#
            + #"(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$"#
        guard let expression = try? NSRegularExpression(pattern: pattern) else { return false }
        return expression.firstMatch(in: version, range: NSRange(location: 0, length: version.utf16.count)) != nil
    }

    private static func makeTemporaryDirectory() -> String? {
        let path = (NSTemporaryDirectory() as NSString).appendingPathComponent("laforge-check-XXXXXX")
        var template = Array(path.utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else { return nil }
        return String(cString: made)
    }
}
