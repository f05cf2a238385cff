import Foundation
import LaForgeCore
import LaForgePlugins

/// Where a command takes a bearer token from. A token given as an argument sits in
/// `/proc/PID/cmdline`, which every local user can read while the command runs (and in shell
/// history): production refuses it; development accepts it with a warning. A file (`-`: standard
/// input) or the environment (`LAFORGE_TOKEN`, readable only by the same user and root) are the
/// ways that keep it private.
public enum BearerTokenInput: Sendable, Equatable {
    case argument
    case file(String)
    case environment(String)

    /// The variable `auth check` reads when no option names a token.
    public static let environmentVariable = "LAFORGE_TOKEN"

    /// Refuses an argument-borne token in production. Returns the warning to print in development.
    public static func checkArgument(mode: LaForgeConfig.Mode) throws(IdentityError) -> String {
        guard mode == .development else {
            throw IdentityError(
                .insecureInput,
                "--token is refused in mode: production (a command-line argument is readable by every local user in /proc/PID/cmdline); give the token with --token-file PATH, --token-file - (standard input) or \(environmentVariable)")
        }
        return "warning: --token puts the token where every local user can read it (/proc/PID/cmdline); use --token-file - or \(environmentVariable) (--token is refused in mode: production)"
    }

    /// Reads the token from a file or standard input: one line, surrounding white space dropped.
    /// Messages name the file, never its content.
    public static func read(file path: String) throws(IdentityError) -> SecretValue {
        let descriptor = path == "-" ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw IdentityError(.io, "cannot read the token from \(path): \(String(cString: strerror(errno)))")
        }
        defer { if descriptor != STDIN_FILENO { close(descriptor) } }
        // Read into locked memory and trimmed from there: no Data or array copy of the token.
        let content: SecretValue
        do throws(SecretValue.ReadError) {
            content = try SecretValue.readingAll(from: descriptor)
        } catch {
            throw IdentityError(.io, "cannot read the token from \(path): \(error)")
        }
        let token = content.withUnsafeBytes { bytes in SecretValue(bytes: trimmed(bytes)) }
        guard token.count > 0 else { throw IdentityError(.io, "\(path == "-" ? "standard input" : path) holds no token") }
        return token
    }

    private static func trimmed(_ bytes: UnsafeRawBufferPointer) -> Slice<UnsafeRawBufferPointer> {
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
        guard let first = bytes.firstIndex(where: { !isSpace($0) }), let last = bytes.lastIndex(where: { !isSpace($0) }) else { return bytes[0..<0] }
        return bytes[first...last]
    }
}
