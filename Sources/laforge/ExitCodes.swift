import ArgumentParser
import Foundation
import LaForgeHost

/// The CLI's documented exit codes (README.md, docs/CLI.md). Scripts rely on them: never reuse
/// a number for another meaning.
enum LaForgeExit {
    static let verificationFailed = ExitCode(1)
    static let runtimeError = ExitCode(2)
    static let configError = ExitCode(3)
    static let pluginLoadError = ExitCode(4)
    /// An audit event (flags, --json, --stdin) is malformed.
    static let invalidInput = ExitCode(5)
    /// What the command names does not exist: an entry past the journal's end (`audit prove`).
    static let notFound = ExitCode(6)
    /// A usage error: an unknown option, a missing argument (ArgumentParser's validationFailure).
    static let usage = ExitCode.validationFailure
}

/// Prints an error the way every command does and returns the exit code for it.
func fail(_ message: String, _ code: ExitCode) -> ExitCode {
    printError("laforge: error: \(message)")
    return code
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

extension RuntimeStartError {
    var exitCode: ExitCode {
        switch self {
        case .config: return LaForgeExit.configError
        case .plugin: return LaForgeExit.pluginLoadError
        }
    }
}

/// The note an old option spelling prints (docs/CLI.md, Deprecated spellings): it still works
/// for one release.
func warnDeprecated(_ old: String, use new: String) {
    printError("laforge: warning: \(old) is deprecated and will be removed in the next release; use \(new)")
}
