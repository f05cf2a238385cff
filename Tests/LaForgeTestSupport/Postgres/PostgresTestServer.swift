import Foundation
import Testing

import LaForgeAudit
import LaForgeCore
import LaForgeGovernance
import LaForgeIdentity
import LaForgeJournal
import LaForgePlugins
import LaForgeSecrets

#if canImport(Glibc)
    import Glibc
#endif

/// The PostgreSQL server `scripts/services/postgres` started (scripts/test runs it before the
/// tests and exports LAFORGE_TEST_PG_*). Each test gets a database of its own. Nothing here
/// prints the DSN: failure messages carry psql's stderr, scrubbed of the password.
struct PostgresTestServer {
    let dsn: String
    let binDirectory: String
    let dataDirectory: String
    let osUser: String
    let password: String

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// The server, or a failure telling how to start one (a missing server fails, never skips).
    static func fromEnvironment() throws -> PostgresTestServer {
        let environment = ProcessInfo.processInfo.environment
        guard let dsn = environment["LAFORGE_TEST_PG_DSN"], !dsn.isEmpty,
            let bin = environment["LAFORGE_TEST_PG_BIN"], let data = environment["LAFORGE_TEST_PG_DATA"],
            let user = environment["LAFORGE_TEST_PG_OS_USER"]
        else {
            throw Failure(
                "LAFORGE_TEST_PG_DSN (and LAFORGE_TEST_PG_BIN/DATA/OS_USER) are not set: run the tests with `scripts/test`, "
                    + "which starts scripts/services/postgres, or `eval \"$(scripts/services/postgres start)\"` first")
        }
        // postgresql://USER:PASSWORD@HOST:PORT/DB
        let credentials = dsn.split(separator: "@")[0].split(separator: "//").last ?? ""
        let password = credentials.split(separator: ":", maxSplits: 1).dropFirst().first.map(String.init) ?? ""
        return PostgresTestServer(dsn: dsn, binDirectory: bin, dataDirectory: data, osUser: user, password: password)
    }

    /// The same server and credentials, another database.
    func dsn(database: String) -> String {
        let base = dsn.split(separator: "?", maxSplits: 1)[0]
        let slash = base.lastIndex(of: "/")!
        return base[..<slash] + "/" + database
    }

    /// The DSN with other credentials (for roles the test creates).
    func dsn(database: String, user: String, password: String) -> String {
        let host = dsn(database: database).split(separator: "@", maxSplits: 1)[1]
        return "postgresql://\(user):\(password)@\(host)"
    }

    /// A fresh database for one test, dropped by `drop`.
    func createDatabase() throws -> String {
        let name = "laforge_t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        try sql("CREATE DATABASE \(name) ENCODING 'UTF8' TEMPLATE template0")
        return String(name)
    }

    func drop(_ database: String) {
        _ = try? sql("DROP DATABASE IF EXISTS \(database) WITH (FORCE)")
    }

    /// Runs SQL with psql as the superuser (in `database`, default the maintenance database);
    /// the unaligned output. Throws with psql's error text when the statement fails.
    @discardableResult
    func sql(_ statements: String, database: String? = nil, dsn explicit: String? = nil, variables: [String: String] = [:], file: String? = nil) throws -> String {
        let result = try psql(statements, database: database, dsn: explicit, variables: variables, file: file)
        guard result.status == 0 else { throw Failure("psql failed: \(result.stderr)") }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// psql's status, output and error text (scrubbed of the superuser's password).
    func psql(_ statements: String, database: String? = nil, dsn explicit: String? = nil, variables: [String: String] = [:], file: String? = nil) throws
        -> (status: Int32, stdout: String, stderr: String)
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binDirectory + "/psql")
        var arguments = ["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1"]
        for (name, value) in variables.sorted(by: { $0.key < $1.key }) { arguments += ["-v", "\(name)=\(value)"] }
        if let file { arguments += ["-f", file] } else { arguments += ["-c", statements] }
        process.arguments = arguments + [explicit ?? database.map { dsn(database: $0) } ?? dsn]
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, scrub(String(decoding: stdout, as: UTF8.self)), scrub(String(decoding: stderr, as: UTF8.self)))
    }

    /// Text with the superuser's password removed (for messages only).
    func scrub(_ text: String) -> String {
        password.isEmpty ? text : text.replacingOccurrences(of: password, with: "<password>")
    }

    /// Restarts the server (fast shutdown: every connection is cut) with pg_ctl as its OS user.
    /// Spawned and reaped with posix_spawn/waitpid: Foundation's Process sometimes misses the exit
    /// of runuser here (its child daemonizes the new postmaster) and waits forever.
    func restart() throws {
        let pgctl = [binDirectory + "/pg_ctl", "-D", dataDirectory, "-w", "-t", "60", "-m", "fast", "-s", "restart"]
        let command = getuid() == 0 && osUser != "root" ? ["/usr/sbin/runuser", "-u", osUser, "--"] + pgctl : pgctl
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // The new postmaster inherits these; it must not hold the test's pipes open.
        for descriptor: Int32 in [0, 1, 2] { posix_spawn_file_actions_addopen(&actions, descriptor, "/dev/null", O_RDWR, 0) }
        var arguments = command.map { strdup($0) } + [nil]
        defer { for argument in arguments { free(argument) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, command[0], &actions, nil, &arguments, environ)
        guard spawned == 0 else { throw Failure("cannot start pg_ctl: errno \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard status == 0 else { throw Failure("pg_ctl restart failed (wait status \(status))") }
    }
}

/// `libPostgresAudit.so` beside the test binary (as `swift build` leaves it) or in LAFORGE_PLUGIN_DIR.
func postgresAuditLibrary() throws -> PluginLibrary {
    let path = CLIRunner.buildDirectory + "/libPostgresAudit.so"
    guard FileManager.default.fileExists(atPath: path) else {
        throw PostgresTestServer.Failure("\(path) not found: run `swift build` first (scripts/test does)")
    }
    return try PluginLibrary.open(path: path)
}
