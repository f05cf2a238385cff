import Foundation
import Testing
@testable import LaForgeTestSupport

@testable import LaForgeAudit
@testable import LaForgeCore
@testable import LaForgeIdentity
@testable import LaForgeJournal
@testable import LaForgePlugins
@testable import LaForgeSecrets

/// Every URL discovery names (jwks_uri, token, userinfo, device, introspection endpoints) is held to
/// the issuer's rule: https, plain http only to a loopback host in development, never in production
/// — an https issuer must not be able to send keys or tokens over plain http.
@Suite(.serialized) struct OIDCMetadataURLTests {
    func start(_ mode: String, issuer: ControlledIssuer, caFile: String? = nil) throws -> PluginRuntime {
        let plugins = try SignedPluginDirectory(["libOIDCConnector.so"])
        let yaml = """
            version: 1
            mode: \(mode)
            \(plugins.trustedKeysYAML)
            identity:
              connectors:
                - name: corp
                  library: libOIDCConnector.so
                  config:
                    issuer: \(issuer.url)
                    client_id: laforge
            \(caFile.map { "        ca_file: \($0)" } ?? "")
            """
        return try startRuntime(yaml, pluginDirectory: plugins.path)
    }

    @Test func aPlainHTTPJWKSURIIsRefusedInProductionAndToAnotherHostInDevelopment() throws {
        let pki = try TestPKI(in: try temporaryDirectory("laforge-oidc-pki"))
        let downgraded = try ControlledIssuer(arguments: ["--tls", pki.serverCertificate, pki.serverKey, "--jwks-uri", "http://127.0.0.1:9/jwks"])
        #expect {
            _ = try start("production", issuer: downgraded, caFile: pki.caFile)
        } throws: { error in
            "\(error)".contains("OIDC discovery: jwks_uri \"http://127.0.0.1:9/jwks\" uses plain http, which production mode refuses")
        }
        let elsewhere = try ControlledIssuer(arguments: ["--jwks-uri", "http://keys.example/jwks"])
        #expect {
            _ = try start("development", issuer: elsewhere)
        } throws: { error in
            "\(error)".contains("jwks_uri \"http://keys.example/jwks\" must be an https:// URL (http is allowed only to a loopback host in development mode)")
        }
    }

    @Test func anHTTPSProviderStartsInProduction() throws {
        let pki = try TestPKI(in: try temporaryDirectory("laforge-oidc-pki"))
        let issuer = try ControlledIssuer(arguments: ["--tls", pki.serverCertificate, pki.serverKey])
        // Create discovers and loads the JWKS, both over verified https.
        let runtime = try start("production", issuer: issuer, caFile: pki.caFile)
        defer { runtime.close() }
        #expect(runtime.idpConnectors.count == 1)
    }
}
