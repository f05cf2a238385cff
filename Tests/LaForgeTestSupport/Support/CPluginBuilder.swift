import Foundation

/// Compiles C plugin sources into shared libraries for tests, once per source per test process.
///
/// Loader tests need real `.so` files built against the real header; building them in the test
/// process (rather than checking binaries in) keeps the fixtures honest when the header changes.
/// The flags are the ones a plugin author is told to use in docs/ABI.md, so a fixture that
/// compiles here compiles for them.
///
/// Thread-safe: Swift Testing runs tests in parallel, and two tests asking for the same fixture
/// get the same library, compiled once.
enum CPluginBuilder {
    /// The package root, found from this file's location (`Tests/Support/…`).
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Support
        .deletingLastPathComponent()  // LaForgeTestSupport
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()

    /// The C compiler. Fixed, not looked up in PATH, so a test run uses the system toolchain.
    static let compiler = URL(fileURLWithPath: "/usr/bin/cc")

    /// The flags every plugin in this repository must compile cleanly with.
    static let strictFlags = ["-std=c99", "-pedantic", "-Wall", "-Wextra", "-Werror", "-fPIC", "-shared"]

    /// One directory per test process, so parallel `swift test` runs never share outputs.
    private static let outputDirectory: URL = {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("laforge-cplugins-\(getpid())-\(UUID().uuidString)", isDirectory: true)
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }()

    /// Built libraries (or the failure) by the source's standardized path, under `cacheLock`.
    /// An NSLock (a pthread mutex), not Synchronization's Mutex: ThreadSanitizer sees pthread
    /// locking but not Mutex's futex on Linux, and reported every use from two test threads as a
    /// race (scripts/sanitize runs these tests under TSan).
    nonisolated(unsafe) private static var cache: [String: Result<URL, CPluginBuildError>] = [:]
    private static let cacheLock = NSLock()

    /// Returns the path of a shared library compiled from `source`, compiling it on first use.
    ///
    /// The lock is held while the compiler runs: a second caller for the same source waits for
    /// the first build instead of starting its own, and a failed build is not retried.
    static func build(_ source: URL) throws(CPluginBuildError) -> URL {
        let key = source.standardizedFileURL.path
        let result = cacheLock.withLock { () -> Result<URL, CPluginBuildError> in
            if let existing = cache[key] { return existing }
            let outcome = Result { () throws(CPluginBuildError) -> URL in try compile(source) }
            cache[key] = outcome
            return outcome
        }
        return try result.get()
    }

    private static func compile(_ source: URL) throws(CPluginBuildError) -> URL {
        // Named after the source's path in the package, so two fixtures never share a name.
        let relative = source.standardizedFileURL.deletingPathExtension().path
            .replacingOccurrences(of: packageRoot.standardizedFileURL.path + "/", with: "")
        let libraryName = "lib" + relative.replacingOccurrences(of: "/", with: "_") + ".so"
        let output = outputDirectory.appendingPathComponent(libraryName)
        let includeDirectory = packageRoot.appendingPathComponent("Sources/PluginABI/include").path
        let arguments = strictFlags + ["-I", includeDirectory, "-o", output.path, source.path]

        let process = Process()
        process.executableURL = compiler
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do {
            try process.run()
        } catch {
            throw .compilerDidNotStart(compiler: compiler.path, reason: "\(error)")
        }
        // Read before waiting: a compiler with much to say would block on a full pipe.
        let transcript = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            throw .compilationFailed(
                command: ([compiler.path] + arguments).joined(separator: " "),
                status: process.terminationStatus,
                output: transcript)
        }
        return output
    }
}

/// Why a C plugin could not be built, with everything needed to reproduce it by hand.
enum CPluginBuildError: Error, CustomStringConvertible {
    case compilerDidNotStart(compiler: String, reason: String)
    case compilationFailed(command: String, status: Int32, output: String)

    var description: String {
        switch self {
        case .compilerDidNotStart(let compiler, let reason):
            return "could not run \(compiler): \(reason)"
        case .compilationFailed(let command, let status, let output):
            return "compiler exited with status \(status):\n$ \(command)\n\(output)"
        }
    }
}

/// A file under `Tests/LaForgeTestSupport/Fixtures/`, e.g. `fixtureURL("plugins/abi_1_0_sink.c")`.
///
/// Points into the source tree rather than the copied test bundle, so compiler messages name
/// the file a developer edits.
func fixtureURL(_ relative: String) -> URL {
    CPluginBuilder.packageRoot
        .appendingPathComponent("Tests/LaForgeTestSupport/Fixtures")
        .appendingPathComponent(relative)
}
