import Foundation

/// Turns the `library:` of a configured plugin into a file path inside the plugin directory.
///
/// A relative name never leaves the directory: `..` components are refused outright, and the
/// fully resolved path (symlinks followed) must still be inside the resolved directory, so a
/// symlink planted in the plugin directory cannot point the host at an arbitrary library.
public struct PluginPathResolver: Sendable {
    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    /// The default plugin directory: `LAFORGE_PLUGIN_DIR` if set, else the folder of the running
    /// executable (so `swift run laforge` finds the plugins built beside it).
    public static func defaultDirectory(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> String {
        if let override = environment["LAFORGE_PLUGIN_DIR"], !override.isEmpty { return override }
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: executable).deletingLastPathComponent().path
    }

    public func resolve(_ library: String) throws(PluginLoadError) -> String {
        guard !library.isEmpty else {
            throw PluginLoadError(.path, library: library, "library name is empty")
        }
        if library.hasPrefix("/") {
            // An absolute path is the operator's explicit choice; signatures still apply.
            return library
        }
        if library.split(separator: "/", omittingEmptySubsequences: false).contains("..") {
            throw PluginLoadError(
                .path, library: library,
                "\"..\" is not allowed in a plugin library name: libraries resolve inside the plugin directory \(directory)")
        }
        let candidate = (directory as NSString).appendingPathComponent(library)
        guard FileManager.default.fileExists(atPath: candidate) else {
            throw PluginLoadError(
                .path, library: library,
                "not found in the plugin directory \(directory) (set plugin_dir in the config or LAFORGE_PLUGIN_DIR)")
        }
        let resolvedDirectory = realPath(directory) ?? directory
        guard let resolved = realPath(candidate) else {
            throw PluginLoadError(.path, library: library, "cannot resolve \(candidate)")
        }
        guard resolved.hasPrefix(resolvedDirectory.hasSuffix("/") ? resolvedDirectory : resolvedDirectory + "/") else {
            throw PluginLoadError(
                .path, library: library,
                "resolves to \(resolved), outside the plugin directory \(resolvedDirectory) (symlinks may not escape it)")
        }
        return resolved
    }
}

func realPath(_ path: String) -> String? {
    guard let resolved = realpath(path, nil) else { return nil }
    defer { free(resolved) }
    return String(cString: resolved)
}
