import Foundation
import Testing
@testable import LaForgeCore
@testable import LaForgeTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Secrets over the API: only the names a client's patterns cover, and the value nowhere but
/// in the answer to that client (not in the log, the metrics, an error body or the trail).
@Suite struct ServeSecretsTests {
    @Test func aSecretReachesItsClientAndNothingElse() throws {
        let sandbox = try AuditSandbox()
        let value = "correct horse battery staple"
        try "db-password=\(value)\napi-key=\(value)-2\n".write(toFile: sandbox.root + "/secrets.env", atomically: true, encoding: .utf8)
        let clients = """
              - name: billing
                uid: \(getuid())
                allow: [emit, read]
                secrets: ["dev/db-*"]
            """
        let backends = """
            secret_backends:
              - name: dev
                library: libexample_plugin.so
                config: {secrets_file: \(sandbox.root)/secrets.env}

            """
        let server = try RunningServer(sandbox: sandbox, serve: backends + RunningServer.serveSection(clients: clients))

        let allowed = try server.request("GET", "/v1/secrets/dev/db-password")
        #expect(allowed.status == 200, "\(allowed.body)")
        #expect(allowed.json?["value"]?.stringValue == value)
        #expect(allowed.json?["name"]?.stringValue == "dev/db-password")
        #expect(allowed.headers.lowercased().contains("cache-control: no-store"))

        let refused = try server.request("GET", "/v1/secrets/dev/api-key")
        #expect(refused.status == 403)
        #expect(refused.json?["error"]?["reason"]?.stringValue == "client billing may not read secret dev/api-key (serve.clients secrets)")
        let missing = try server.request("GET", "/v1/secrets/dev/db-other")
        #expect(missing.status == 404, "\(missing.body)")

        let metrics = try server.request("GET", "/metrics")
        #expect(metrics.body.contains(#"route="/v1/secrets/{backend}/{name}""#), "\(metrics.body)")
        #expect(server.stop() == 0)

        let trail = try sandbox.journalEntries().map { String(decoding: JSONCanonicalizer.canonicalize($0.entry), as: UTF8.self) }
        #expect(trail.contains { $0.contains("serve.refuse") && $0.contains("dev/api-key") })
        for (place, text) in [("refusal", refused.body), ("not found", missing.body), ("metrics", metrics.body), ("log", server.child.stderr + server.child.stdout)] + trail.map({ ("trail", $0) }) {
            #expect(!text.contains("correct horse"), "the secret appears in the \(place)")
        }
    }
}
