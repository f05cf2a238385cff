import Foundation

/// Runs the built `laforge` executable (next to the test binary, as `swift build` leaves it) and
/// captures what a user would see.
struct CLIResult {
    var status: Int32
    var stdout: String
    var stderr: String
    var output: String { stdout + stderr }
}

enum CLIRunner {
    static let buildDirectory: String = {
        if let override = ProcessInfo.processInfo.environment["LAFORGE_PLUGIN_DIR"], !override.isEmpty { return override }
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var directory = URL(fileURLWithPath: executable).deletingLastPathComponent()
        // The test binary may sit inside a bundle folder; walk up to the folder with `laforge`.
        for _ in 0..<4 where !FileManager.default.fileExists(atPath: directory.appendingPathComponent("laforge").path) {
            directory.deleteLastPathComponent()
        }
        return directory.path
    }()

    static func run(_ arguments: [String], environment: [String: String] = [:], in directory: String? = nil) throws -> CLIResult {
        try runExecutable(buildDirectory + "/laforge", arguments, environment: environment, in: directory)
    }

    /// Runs any program (a Python verifier beside laforge) the same way.
    static func runExecutable(
        _ path: String, _ arguments: [String], environment: [String: String] = [:], in directory: String? = nil
    ) throws -> CLIResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "LAFORGE_CONFIG")
        env.merge(environment) { $1 }
        process.environment = env
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
        let stderrData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CLIResult(
            status: process.terminationStatus,
            stdout: String(decoding: stdoutData, as: UTF8.self),
            stderr: String(decoding: stderrData, as: UTF8.self))
    }
}

extension CLIRunner {
    /// Runs `command` through /bin/sh (for redirections such as `< file`).
    static func runShell(_ command: String, environment: [String: String] = [:]) throws -> CLIResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "LAFORGE_CONFIG")
        env.merge(environment) { $1 }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
        let stderrData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CLIResult(
            status: process.terminationStatus, stdout: String(decoding: stdoutData, as: UTF8.self),
            stderr: String(decoding: stderrData, as: UTF8.self))
    }
}
