import Foundation
import Synchronization
import Testing
@testable import LaForgeAudit
@testable import LaForgeCore
@testable import LaForgeGovernance
@testable import LaForgeIdentity
@testable import LaForgeJournal
@testable import LaForgePlugins
@testable import LaForgeSecrets
@testable import LaForgeTestSupport

/// Tokens an attacker would send, forged with joserfc by Tests/LaForgeTestSupport/Fixtures/oidc/issuer.py,
/// each refused by the OIDC connector with a reason that names the problem; and the good tokens
/// (every allowed algorithm) accepted.
@Suite(.serialized) struct OIDCAttackSuiteTests {
    let issuer: ControlledIssuer
    let sandbox: IdentitySandbox
    let runtime: PluginRuntime
    let connector: IdPConnectorInstance

    init() throws {
        issuer = try ControlledIssuer()
        sandbox = try IdentitySandbox()
        try sandbox.writeConfig(connector: """
                    issuer: \(issuer.url)
                    client_id: laforge
                    clock_skew_seconds: 30
                    jwks_refresh_min_interval_seconds: 1
                    tenant_claim: tenant
            """)
        runtime = try sandbox.runtime()
        connector = try #require(runtime.idpConnectors.first)
    }

    /// The refusal message for `token` (fails the test when the token is accepted).
    func refusal(_ token: String, sourceLocation: SourceLocation = #_sourceLocation) -> String {
        do {
            let identity = try connector.validateToken(token)
            Issue.record("accepted a token that must be refused: \(identity)", sourceLocation: sourceLocation)
            return ""
        } catch {
            #expect(error.status == .accessDenied, "\(error)", sourceLocation: sourceLocation)
            #expect(!error.message.contains(token), "the refusal must not echo the token", sourceLocation: sourceLocation)
            return error.message
        }
    }

    @Test func acceptsEveryAllowedAlgorithm() throws {
        for key in ["rsa", "ps", "ec", "ed"] {
            let identity = try connector.validateToken(try issuer.forge(claims: ["tenant": "acme"], key: key))
            #expect(identity["subject"]?.stringValue == "alice", "key \(key)")
            #expect(identity["tenant"]?.stringValue == "acme")
            #expect(identity["issuer"]?.stringValue == issuer.url)
        }
    }

    @Test func refusesAlgNone() throws {
        #expect(refusal(try issuer.forge(attack: "none")).contains("alg \"none\" (an unsigned token) is never accepted"))
    }

    @Test func refusesHS256SignedWithThePublicKey() throws {
        #expect(refusal(try issuer.forge(attack: "hs256-pubkey")).contains("alg HS256 (HMAC) is refused"))
    }

    @Test func refusesAnUnknownKidAfterOneRefresh() throws {
        Thread.sleep(forTimeInterval: 1.1)  // past the refresh rate limit of the create-time fetch
        let before = try issuer.jwksFetches()
        let message = refusal(try issuer.forge(key: "outsider"))
        #expect(message.contains("unknown kid \"outsider-1\""), "\(message)")
        #expect(try issuer.jwksFetches() == before + 1)
        // At once again: the rate limit holds, no second fetch.
        let again = refusal(try issuer.forge(key: "outsider"))
        #expect(again.contains("re-fetched at most every 1 s"), "\(again)")
        #expect(try issuer.jwksFetches() == before + 1)
    }

    @Test func refusesAnExpiredToken() throws {
        let now = Int(Date().timeIntervalSince1970)
        let message = refusal(try issuer.forge(claims: ["exp": .number(Double(now - 120)), "iat": .number(Double(now - 600))]))
        #expect(message.contains("the token expired at \(now - 120)"), "\(message)")
        #expect(message.contains("allowed clock skew 30 s"))
    }

    @Test func acceptsATokenExpiredWithinTheSkew() throws {
        let now = Int(Date().timeIntervalSince1970)
        _ = try connector.validateToken(try issuer.forge(claims: ["exp": .number(Double(now - 5))]))
    }

    @Test func refusesATokenNotYetValid() throws {
        let now = Int(Date().timeIntervalSince1970)
        let message = refusal(try issuer.forge(claims: ["nbf": .number(Double(now + 600))]))
        #expect(message.contains("not valid before \(now + 600)"), "\(message)")
    }

    @Test func refusesATokenIssuedInTheFuture() throws {
        let now = Int(Date().timeIntervalSince1970)
        #expect(refusal(try issuer.forge(claims: ["iat": .number(Double(now + 600))])).contains("issued in the future"))
    }

    @Test func refusesTheWrongAudience() throws {
        let message = refusal(try issuer.forge(claims: ["aud": "another-service"]))
        #expect(message.contains("aud [\"another-service\"] does not contain \"laforge\""), "\(message)")
    }

    @Test func refusesTheWrongIssuer() throws {
        let message = refusal(try issuer.forge(claims: ["iss": "https://evil.example"]))
        #expect(message.contains("iss \"https://evil.example\" is not the configured issuer \"\(issuer.url)\""), "\(message)")
    }

    @Test func refusesATamperedPayload() throws {
        let message = refusal(try issuer.forge(attack: "tamper"))
        #expect(message.contains("signature verification failed (RS256, kid \"rsa-1\")"), "\(message)")
    }

    @Test func ignoresJkuAndNeverFetchesIt() throws {
        // Signed by the attacker's key, which the jku URL publishes; kid names the issuer's key.
        let token = try issuer.forge(
            header: ["jku": .string(issuer.url + "/outsider-jwks"), "kid": "rsa-1"], key: "outsider")
        let message = refusal(token)
        #expect(message.contains("signature verification failed"), "\(message)")
    }

    @Test func ignoresAnEmbeddedJwkHeader() throws {
        let token = try issuer.forge(header: ["jwk": .object(["kty": "RSA", "n": "AQAB", "e": "AQAB"]), "kid": "rsa-1"], key: "outsider")
        #expect(refusal(token).contains("signature verification failed"))
    }

    @Test func refusesAnAccessTokenOfAnotherType() throws {
        let message = refusal(try issuer.forge(header: ["typ": "logout+jwt"]))
        #expect(message.contains("typ \"logout+jwt\" is not an accepted access-token type"), "\(message)")
    }

    @Test func refusesAKeyUsedWithAnotherAlgorithm() throws {
        // The EC key's kid on a token that claims RS256.
        let message = refusal(try issuer.forge(header: ["kid": "ec-1", "alg": "RS256"], key: "rsa"))
        #expect(message.contains("kid \"ec-1\" is a EC key, which cannot verify alg RS256"), "\(message)")
    }

    @Test func refusesGarbageWithAClearReason() throws {
        #expect(refusal("not-a-jwt-at-all").contains("not a JWT"))  // no userinfo endpoint here
        #expect(refusal("a.b.c").contains("header is not base64url-encoded JSON"))
        #expect(refusal("a.b.c.d.e").contains("encrypted tokens (JWE) are not accepted"))
    }

    @Test func acceptsARotatedKeyAfterOneJWKSRefresh() throws {
        let token = try issuer.forge()
        _ = try connector.validateToken(token)
        Thread.sleep(forTimeInterval: 1.1)
        let kid = try issuer.rotate()
        let before = try issuer.jwksFetches()
        let identity = try connector.validateToken(try issuer.forge())
        #expect(identity["subject"]?.stringValue == "alice")
        #expect(try issuer.jwksFetches() == before + 1, "exactly one JWKS refresh for the new kid \(kid)")
        // The old key is gone from the JWKS: its tokens are refused now.
        #expect(refusal(token).contains("unknown kid \"rsa-1\""))
    }

    @Test func refreshesOneAtATimeUnderConcurrentUnknownKids() throws {
        Thread.sleep(forTimeInterval: 1.1)
        let before = try issuer.jwksFetches()
        let token = try issuer.forge(key: "outsider")
        let connector = self.connector
        DispatchQueue.concurrentPerform(iterations: 16) { _ in
            _ = try? connector.validateToken(token)
        }
        #expect(try issuer.jwksFetches() == before + 1)
    }

    // Each key verifies through a context prepared once and copied per call
    // (OpenSSLCrypto.PreparedVerification): a copy must still refuse, for every algorithm.
    @Test func refusesATamperedPayloadForEveryAlgorithm() throws {
        for (key, algorithm) in [("rsa", "RS256"), ("ps", "PS256"), ("ec", "ES256"), ("ed", "EdDSA")] {
            let message = refusal(try issuer.forge(key: key, attack: "tamper"))
            #expect(message.contains("signature verification failed (\(algorithm)"), "key \(key): \(message)")
        }
    }

    @Test func validatesConcurrentlyWithSharedKeys() throws {
        var forged: [(token: String, good: Bool)] = []
        for key in ["rsa", "ps", "ec", "ed"] {
            forged.append((try issuer.forge(claims: ["tenant": "acme"], key: key), true))
            forged.append((try issuer.forge(key: key, attack: "tamper"), false))
        }
        let tokens = forged
        let connector = self.connector
        let wrong = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 8) { thread in
            for round in 0..<50 {
                let (token, good) = tokens[(thread + round) % tokens.count]
                let identity = try? connector.validateToken(token)
                if good != (identity?["subject"]?.stringValue == "alice") {
                    wrong.withLock { $0.append("\(good ? "good" : "tampered") token #\((thread + round) % tokens.count)") }
                }
            }
        }
        #expect(wrong.withLock { $0 }.isEmpty, "\(wrong.withLock { $0 })")
    }

    // The identity's `claims` are the token's payload as sent (not written again): every JSON
    // kind, escapes and non-ASCII text must reach the host exactly.
    @Test func handsTheHostEveryClaimExactly() throws {
        let claims: [String: JSONValue] = [
            "tenant": "acme", "note": "quote \" backslash \\ tab \t é 漢 \u{2028} 😀", "nested": .object(["list": [1, 2.5, true, .null]]),
            "groups": ["a", "b"],
        ]
        // Once with non-ASCII as \u escapes (surrogate pairs for the emoji), once as raw UTF-8.
        for utf8 in [false, true] {
            let identity = try connector.validateToken(try issuer.forge(claims: claims, utf8: utf8))
            let received = try #require(identity["claims"])
            for (name, value) in claims { #expect(received[name] == value, "claim \(name), utf8 \(utf8)") }
            #expect(received["sub"]?.stringValue == "alice")
            #expect(received["aud"]?.stringValue == "laforge")
            #expect(identity["groups"] == ["a", "b"])
            #expect(identity["tenant"]?.stringValue == "acme")
        }
    }
}

/// The device authorization grant (RFC 8628) against issuer.py's device and token endpoints
/// (oidc-provider-mock has none): pending, then slow_down, then a session whose id_token is
/// validated like any token.
@Suite struct OIDCDeviceFlowTests {
    @Test func logsInWithTheDeviceCodeAfterPendingAndSlowDown() throws {
        let issuer = try ControlledIssuer()
        let sandbox = try IdentitySandbox()
        try sandbox.writeConfig(
            connector: """
                        issuer: \(issuer.url)
                        client_id: laforge
                """,
            rest: """
                  claims_to_roles:
                    - claim: groups
                      value: "^laforge-(.*)$"
                      roles: ["$1"]
                """)
        let runtime = try sandbox.runtime()
        defer { runtime.close() }
        let identity = IdentityService(runtime: runtime, auditLog: nil)
        var shown: (String, String)?
        let started = Date()
        let principal = try identity.loginWithDevice { code, uri, _ in shown = (code, uri) }
        #expect(shown?.0 == "WDJB-MJHT")
        #expect(shown?.1 == issuer.url + "/activate")
        #expect(principal.subject == "device-user")
        #expect(principal.roles == ["admins"])
        // interval 1 s, then +5 s after slow_down (RFC 8628 §3.5): three polls take ≥ 8 s.
        #expect(Date().timeIntervalSince(started) >= 8)
        #expect(try httpJSON("GET", issuer.url + "/stats").json?["device_polls"]?.intValue == 3)
        #expect(try TokenCache(stateDir: sandbox.stateDirectory).load()?.connectorData != nil)
    }
}
