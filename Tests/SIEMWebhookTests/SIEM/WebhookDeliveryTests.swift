import Foundation
import Testing
@testable import LaForgeTestSupport

@testable import LaForgeAudit
@testable import LaForgeCore
@testable import LaForgeGovernance
@testable import LaForgeIdentity
@testable import LaForgeJournal
@testable import LaForgePlugins
@testable import LaForgeSecrets

/// SIEMWebhook against a real webhook receiver on 127.0.0.1 that verifies every request with
/// the PyPI `standardwebhooks` package (v1 HMAC) and `cryptography` (v1a Ed25519).
@Suite(.serialized) struct WebhookDeliveryTests {
    /// The envelopes of accepted requests, in arrival order, with each request's webhook-id.
    func acceptedEnvelopes(_ requests: [JSONValue]) -> [(id: String, envelope: JSONValue)] {
        var result: [(String, JSONValue)] = []
        for request in requests where request["status"]?.intValue == 200 {
            for envelope in request["events"]?.arrayValue ?? [] {
                result.append((request["id"]?.stringValue ?? "", envelope))
            }
        }
        return result
    }

    /// Each accepted entry envelope carries the canonical entry verbatim: its leaf hash is the
    /// envelope's hash and the journal's.
    func checkEnvelope(_ envelope: JSONValue, journal: [UInt64: String]) {
        guard envelope["kind"]?.stringValue == "entry", let entry = envelope["entry"], let seq = envelope["seq"]?.intValue else { return }
        let canonical = Array(JSONCanonicalizer.canonicalString(entry).utf8)
        #expect(SHA256.leafHash(canonical).hexString == envelope["hash"]?.stringValue)
        #expect(journal[UInt64(seq)] == envelope["hash"]?.stringValue)
        #expect(entry["seq"]?.intValue == seq)
    }

    @Test func signedGzipOverMutualTLSEveryRequestVerifiedDuringKeyRotation() throws {
        let newSecret = "whsec_" + randomBase64(32)
        let oldSecret = "whsec_" + randomBase64(32)
        let ed25519 = try webhookEd25519KeyPair()
        let root = try AuditSandbox()
        let pki = try TestPKI(in: root.root)
        // The receiver still holds only the old secret: rotation means sending both.
        let receiver = try ReceiverProcess(
            "webhook_receiver.py",
            ["--cert", pki.serverCertificate, "--key", pki.serverKey, "--client-ca", pki.caFile, "--secret", oldSecret,
             "--ed25519-public", ed25519.public], in: root.root)
        defer { receiver.stop() }
        let setup = try SIEMSetup(sinkConfig: """
                      url: https://127.0.0.1:\(receiver.port)/audit
                      format: ndjson
                      max_events: 7
                      gzip: true
                      tls: {ca_file: \(pki.caFile), client_certificate: \(pki.clientCertificate), client_key: \(pki.clientKey)}
                      signing: {hmac_secrets: ["\(newSecret)", "\(oldSecret)"], ed25519_keys: ["\(ed25519.secret)"]}
            """, checkpointEvery: 10)
        defer { setup.log.journal.close() }
        for seq in 0..<60 {
            try setup.log.emit(auditEvent("user\(seq)", data: ["note": .string("größe \"\(seq)\" ✓ = | \\ \n")]))
        }
        #expect(try setup.deliver(), "\(setup.captured.text)")

        let requests = try receiver.requests()
        #expect(!requests.isEmpty)
        #expect(requests.allSatisfy { $0["verified"] == .bool(true) }, "\(requests.filter { $0["verified"] != .bool(true) })")
        #expect(requests.allSatisfy { $0["gzip"] == .bool(true) && $0["status"]?.intValue == 200 })
        // Keep-alive: one TLS connection carried every request.
        #expect(Set(requests.compactMap { $0["peer"]?.intValue }).count == 1)

        let accepted = acceptedEnvelopes(requests)
        let journal = try setup.journalHashes()
        let entrySeqs = accepted.filter { $0.envelope["kind"]?.stringValue == "entry" }.compactMap { $0.envelope["seq"]?.intValue }
        #expect(entrySeqs == Array(0..<60))
        let checkpointSizes = accepted.filter { $0.envelope["kind"]?.stringValue == "checkpoint" }.compactMap { $0.envelope["seq"]?.intValue }
        #expect(checkpointSizes == [10, 20, 30, 40, 50, 60])
        for item in accepted { checkEnvelope(item.envelope, journal: journal) }
        // No retries happened, so no webhook-id repeats.
        let ids = requests.compactMap { $0["id"]?.stringValue }
        #expect(Set(ids).count == ids.count)
        #expect(setup.cursor == SinkCursor(nextSeq: 60, checkpointSize: 60))
        // Secrets never reach the log.
        for secret in [newSecret, oldSecret, ed25519.secret, String(newSecret.dropFirst(6)), String(ed25519.secret.dropFirst(5))] {
            #expect(!setup.captured.text.contains(secret))
        }
    }

    @Test func faultsAreRetriedUntilEverythingIsDeliveredInOrderAndOnlyThe4xxIsDeadLettered() throws {
        let secret = "whsec_" + randomBase64(32)
        let root = try AuditSandbox()
        let receiver = try ReceiverProcess(
            "webhook_receiver.py", ["--faults", "--reject-user", "mallory", "--secret", secret, "--hang-seconds", "2.5"],
            in: root.root)
        defer { receiver.stop() }
        let setup = try SIEMSetup(sinkConfig: """
                      url: http://127.0.0.1:\(receiver.port)/audit
                      format: json_array
                      max_events: 5
                      timeout_ms: 1000
                      signing: {hmac_secrets: ["\(secret)"]}
            """, batchEntries: 20)
        defer { setup.log.journal.close() }
        let rejected: Set<Int> = [17, 77]
        for seq in 0..<120 {
            try setup.log.emit(auditEvent(rejected.contains(seq) ? "mallory" : "user\(seq)"))
        }
        #expect(try setup.deliver(within: 300), "\(setup.captured.text.suffix(3000))")

        let requests = try receiver.requests()
        let statuses = requests.map { $0["status"] }
        // Every kind of fault happened at least once.
        for fault: JSONValue in [.string("hang"), .string("reset"), .number(429), .number(400)] {
            #expect(statuses.contains(fault), "no \(fault) among \(requests.count) requests")
        }
        #expect(statuses.contains { ($0?.intValue ?? 0) >= 500 })
        #expect(requests.allSatisfy { $0["verified"] == .bool(true) })

        // Everything but mallory's entries arrived exactly once, in seq order; the two
        // dead-letter events the refusals added to the chain arrived too.
        let journal = try setup.journalHashes()
        let accepted = acceptedEnvelopes(requests)
        let seqs = accepted.compactMap { $0.envelope["seq"]?.intValue }
        let expected = journal.keys.map { Int($0) }.filter { !rejected.contains($0) }.sorted()
        #expect(seqs == expected)
        #expect(journal.count == 122)
        for item in accepted { checkEnvelope(item.envelope, journal: journal) }
        let acceptedIDs = requests.filter { $0["status"]?.intValue == 200 }.compactMap { $0["id"]?.stringValue }
        #expect(Set(acceptedIDs).count == acceptedIDs.count, "a webhook-id was accepted twice")

        // Dead letters: exactly the refused entries, with the receiver's answer.
        let deadLetters = setup.deadLetters()
        #expect(deadLetters.compactMap { $0["seq"]?.intValue }.sorted() == rejected.sorted())
        #expect(deadLetters.allSatisfy { $0["error"]?.stringValue?.contains("HTTP 400") == true })
        #expect(deadLetters.allSatisfy { $0["error"]?.stringValue?.contains("not accepted") == true })

        // Retry-After: 1 was honoured: nothing reached the receiver within a second of a 429.
        for (index, request) in requests.enumerated() where request["status"]?.intValue == 429 && index + 1 < requests.count {
            let answeredAt = request["t"]?.numberValue ?? 0
            let next = requests[index + 1]["t"]?.numberValue ?? 0
            #expect(next - answeredAt >= 0.95, "request \(index + 1) came \(next - answeredAt) s after a 429 with Retry-After: 1")
        }
        #expect(setup.cursor?.nextSeq == 122)
    }

    @Test func tlsIsVerifiedByDefaultAndAWrongCAIsRefused() throws {
        let root = try AuditSandbox()
        let pki = try TestPKI(in: root.root)
        let receiver = try ReceiverProcess("webhook_receiver.py", ["--cert", pki.serverCertificate, "--key", pki.serverKey], in: root.root)
        defer { receiver.stop() }
        for tls in ["{}", "{ca_file: \(pki.otherCAFile)}"] {
            let setup = try SIEMSetup(sinkConfig: """
                          url: https://127.0.0.1:\(receiver.port)/audit
                          tls: \(tls)
                """)
            defer { setup.log.journal.close() }
            try setup.log.emit(auditEvent("alice"))
            #expect(try setup.deliver(within: 2) == false)
            #expect(setup.captured.text.contains("tls"), "\(setup.captured.text)")
            #expect(setup.cursor?.nextSeq ?? 0 == 0)
        }
        #expect(try receiver.requests().isEmpty)

        let trusted = try SIEMSetup(sinkConfig: """
                      url: https://127.0.0.1:\(receiver.port)/audit
                      tls: {ca_file: \(pki.caFile)}
            """)
        defer { trusted.log.journal.close() }
        try trusted.log.emit(auditEvent("alice"))
        #expect(try trusted.deliver(), "\(trusted.captured.text)")
        #expect(try receiver.requests().count == 1)
    }

    @Test func productionModeRefusesInsecureSkipVerifyButDevelopmentWarns() throws {
        let sandbox = try AuditSandbox()
        // Production loads only signed plugins: sign a copy of the built library.
        let plugins = sandbox.root + "/plugins"
        try FileManager.default.createDirectory(atPath: plugins, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: CLIRunner.buildDirectory + "/libSIEMWebhook.so", toPath: plugins + "/libSIEMWebhook.so")
        let key = try Ed25519SigningKey.generate(name: "test-release")
        _ = try PluginSignature.sign(libraryAt: plugins + "/libSIEMWebhook.so", with: key)
        func yaml(_ mode: String, insecure: Bool) -> String {
            """
            version: 1
            mode: \(mode)
            state_dir: \(sandbox.stateDirectory)
            trusted_keys:
              - name: test-release
                public_key: \(Data(key.verifierKey.publicKey).base64EncodedString())
            audit:
              sinks:
                - name: siem
                  library: libSIEMWebhook.so
                  config:
                    url: https://siem.example:8443/audit
                    tls: {insecure_skip_verify: \(insecure)}
            """
        }
        let refused = CapturedLog()
        #expect {
            _ = try startRuntime(yaml("production", insecure: true), pluginDirectory: plugins, log: refused)
        } throws: { error in
            "\(error)".contains("tls.insecure_skip_verify is refused in mode: production")
        }
        let production = try startRuntime(yaml("production", insecure: false), pluginDirectory: plugins)
        production.close()

        let warned = CapturedLog()
        let development = try startRuntime(yaml("development", insecure: true), pluginDirectory: plugins, log: warned)
        development.close()
        #expect(warned.text.contains("insecure_skip_verify is on"))
    }

    @Test func credentialsOverPlainHTTPAreRefusedInProduction() throws {
        let sandbox = try AuditSandbox()
        let plugins = sandbox.root + "/plugins"
        try FileManager.default.createDirectory(atPath: plugins, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: CLIRunner.buildDirectory + "/libSIEMWebhook.so", toPath: plugins + "/libSIEMWebhook.so")
        let key = try Ed25519SigningKey.generate(name: "test-release")
        _ = try PluginSignature.sign(libraryAt: plugins + "/libSIEMWebhook.so", with: key)
        let token = "tok-" + randomBase64(12)
        let yaml = """
            version: 1
            mode: production
            state_dir: \(sandbox.stateDirectory)
            trusted_keys:
              - name: test-release
                public_key: \(Data(key.verifierKey.publicKey).base64EncodedString())
            audit:
              sinks:
                - name: siem
                  library: libSIEMWebhook.so
                  config:
                    url: http://splunk.example:8088
                    format: splunk_hec
                    splunk: {token: "\(token)"}
            """
        #expect {
            _ = try startRuntime(yaml, pluginDirectory: plugins)
        } throws: { error in
            let text = "\(error)"
            return text.contains("credentials over plaintext http are refused in mode: production") && !text.contains(token)
        }
    }
}
