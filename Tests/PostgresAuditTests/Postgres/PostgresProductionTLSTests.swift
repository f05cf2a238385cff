import Foundation
import Testing
@testable import LaForgeTestSupport

@testable import LaForgeAudit
@testable import LaForgeCore
@testable import LaForgeIdentity
@testable import LaForgeJournal
@testable import LaForgePlugins
@testable import LaForgeSecrets

/// PostgresAudit in mode: production decides on the connection parameters libpq will really use —
/// the DSN (keyword or URI form), the fields, and libpq's defaults from PGHOST, PGHOSTADDR,
/// PGSSLMODE and PGSERVICE's service file — and refuses any connection over the network that is not
/// `sslmode=verify-full`. Run through `laforge config validate`, which starts every plugin, so the
/// environment is the plugin's own.
@Suite(.serialized) struct PostgresProductionTLSTests {
    let server: PostgresTestServer
    let plugins: SignedPluginDirectory
    let directory: String

    init() throws {
        server = try PostgresTestServer.fromEnvironment()
        plugins = try SignedPluginDirectory(["libPostgresAudit.so"])
        directory = try temporaryDirectory("laforge-pg-production")
    }

    /// `laforge config validate` on a production configuration with one PostgresAudit sink.
    func check(_ sinkConfig: String, environment: [String: String] = [:]) throws -> CLIResult {
        let path = directory + "/laforge-\(UUID().uuidString).yaml"
        try """
            version: 1
            mode: production
            state_dir: \(directory)/state
            plugin_dir: \(plugins.path)
            \(plugins.trustedKeysYAML)
            audit:
              sinks:
                - name: pg
                  library: libPostgresAudit.so
                  config:
            \(sinkConfig)
                    connect_timeout: 2
            """.write(toFile: path, atomically: true, encoding: .utf8)
        // config validate also checks that production can record: the checkpoint key must exist.
        if !FileManager.default.fileExists(atPath: directory + "/state/keys/checkpoint") {
            _ = try CLIRunner.run(["keys", "generate", "--out", directory + "/state/keys/checkpoint"])
        }
        // (scripts/test sets no PG* variable; an empty one would count as set for libpq.)
        return try CLIRunner.run(["config", "validate", "--config", path], environment: environment)
    }

    func expectRefused(
        _ sinkConfig: String, environment: [String: String] = [:], saying expected: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let result = try check(sinkConfig, environment: environment)
        #expect(result.status != 0, sourceLocation: sourceLocation)
        #expect(result.stderr.contains(expected), "\(result.stderr)", sourceLocation: sourceLocation)
        #expect(!result.stderr.contains(server.password), sourceLocation: sourceLocation)
    }

    @Test func everyWayToReachTheNetworkWithoutVerifyFullIsRefused() throws {
        // hostaddr alone (no host) used to look like the local socket.
        try expectRefused(
            "        dsn: \"hostaddr=127.0.0.1 port=1 dbname=audit\"\n        sslmode: require",
            saying: "sslmode require (from the field sslmode) does not verify that the server's certificate names hostaddr 127.0.0.1 (from the dsn)")
        // Loopback TCP is network too; a URI DSN is read by libpq's own parser.
        try expectRefused(
            "        dsn: \"postgresql://laforge@127.0.0.1:1/audit?sslmode=verify-ca\"",
            saying: "sslmode verify-ca (from the dsn) does not verify that the server's certificate names host 127.0.0.1 (from the dsn)")
        try expectRefused(
            "        dsn: \"host=127.0.0.1 port=1 dbname=audit\"", saying: "sslmode prefer (from libpq's default)")
        // The environment fills what the configuration leaves out.
        try expectRefused(
            "        dbname: audit", environment: ["PGHOST": "127.0.0.1", "PGPORT": "1"],
            saying: "names host 127.0.0.1 (from environment PGHOST)")
        try expectRefused(
            "        dbname: audit", environment: ["PGHOSTADDR": "127.0.0.1", "PGPORT": "1"],
            saying: "names hostaddr 127.0.0.1 (from environment PGHOSTADDR)")
        try expectRefused(
            "        host: 127.0.0.1\n        port: 1\n        dbname: audit", environment: ["PGSSLMODE": "disable"],
            saying: "sslmode disable (from environment PGSSLMODE)")
        // …and so does a service file named by PGSERVICE.
        let serviceFile = directory + "/pg_service.conf"
        try "[laforge-remote]\nhost=127.0.0.1\nport=1\nsslmode=disable\n".write(toFile: serviceFile, atomically: true, encoding: .utf8)
        try expectRefused(
            "        dbname: audit", environment: ["PGSERVICE": "laforge-remote", "PGSERVICEFILE": serviceFile],
            saying: "sslmode disable (from service laforge-remote (PGSERVICE) or libpq's default) does not verify")
        // A service named in the DSN hides its parameters from the configuration altogether.
        try expectRefused(
            "        dsn: \"service=laforge-remote\"", environment: ["PGSERVICEFILE": serviceFile],
            saying: "dsn: service= is refused in mode: production")
    }

    @Test func verifyFullOverTheNetworkAndAUnixSocketAreAccepted() throws {
        let database = try server.createDatabase()
        defer { server.drop(database) }
        guard let ca = ProcessInfo.processInfo.environment["LAFORGE_TEST_PG_CA"] else {
            throw PostgresTestServer.Failure("LAFORGE_TEST_PG_CA is not set: run the tests with scripts/test")
        }
        let verified = try check(
            "        dsn: \"\(server.dsn(database: database))?sslmode=verify-full&sslrootcert=\(ca)\"")
        #expect(verified.status == 0, "\(verified.output.replacingOccurrences(of: server.password, with: "***"))")
        // The server's own socket directory: no network, no TLS needed.
        let socketDirectory = URL(fileURLWithPath: server.dataDirectory).deletingLastPathComponent().appendingPathComponent("socket").path
        let port = ProcessInfo.processInfo.environment["LAFORGE_TEST_PG_PORT"] ?? "5432"
        let socket = try check(
            "        host: \(socketDirectory)\n        port: \(port)\n        dbname: \(database)\n        user: postgres\n        password: \"\(server.password)\"")
        #expect(socket.status == 0, "\(socket.output.replacingOccurrences(of: server.password, with: "***"))")
    }
}
