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

/// Host envelope encryption through KMSSecrets and moto: fields sealed under cached data keys,
/// bound to tenant and field, cache bounds (messages, bytes, age, entries), tenant isolation,
/// tamper and wrong-context refusals.
@Suite(.serialized) struct EnvelopeCipherTests {
    func withCipher(_ limits: DataKeyCache.Limits = .init(), now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 },
                    _ body: (EnvelopeCipher, MotoFixture) throws -> Void) throws {
        let moto = try MotoFixture.shared()
        let log = CapturedLog()
        let runtime = try startKMSRuntime(moto.backendConfig(), log: log)
        defer { runtime.close() }
        let cipher = try EnvelopeCipher(backend: runtime.secretBackend(named: "kms"), cache: DataKeyCache(limits: limits, now: now))
        try body(cipher, moto)
        expectNoSecrets(log.text, moto.secrets)
    }

    @Test func fieldsRoundTripWithOneKMSCallPerTenantContext() throws {
        try withCipher { cipher, _ in
            let ssn = try EnvelopeContext(tenant: "acme", fieldPath: "users.ssn")
            let email = try EnvelopeContext(tenant: "acme", fieldPath: "users.email")
            var sealed: [[UInt8]] = []
            for index in 0..<100 {
                sealed.append(try cipher.seal(Array("value-\(index)".utf8), context: index % 2 == 0 ? ssn : email))
            }
            // Every field of a tenant shares the cached data key: one GenerateDataKey in all.
            #expect(cipher.kmsCalls == 1)
            for (index, ciphertext) in sealed.enumerated() {
                #expect(try cipher.open(ciphertext, context: index % 2 == 0 ? ssn : email).unsafeStringValue() == "value-\(index)")
            }
            #expect(cipher.kmsCalls == 1)  // opened with the cached key
            #expect(sealed[0][0] == EnvelopeCiphertext.version)
            // Empty plaintext is a field too.
            #expect(try cipher.open(try cipher.seal([], context: ssn), context: ssn).count == 0)
        }
    }

    @Test func anotherTenantOrFieldCannotOpenAndNeverSharesAKey() throws {
        try withCipher { cipher, _ in
            let acme = try EnvelopeContext(tenant: "acme", fieldPath: "users.ssn")
            let globex = try EnvelopeContext(tenant: "globex", fieldPath: "users.ssn")
            let acmeSealed = try cipher.seal(Array("acme secret".utf8), context: acme)
            let globexSealed = try cipher.seal(Array("globex secret".utf8), context: globex)
            #expect(cipher.kmsCalls == 2)  // one data key per tenant
            let (acmeEnvelope, _) = try EnvelopeCiphertext.decode(acmeSealed)
            let (globexEnvelope, _) = try EnvelopeCiphertext.decode(globexSealed)
            #expect(acmeEnvelope.wrappedKey != globexEnvelope.wrappedKey)
            #expect(throws: EnvelopeError.self) { try cipher.open(acmeSealed, context: globex) }
            let otherField = try EnvelopeContext(tenant: "acme", fieldPath: "users.email")
            do throws(EnvelopeError) {
                _ = try cipher.open(acmeSealed, context: otherField)
                Issue.record("opened under another field path")
            } catch {
                #expect(error.kind == .wrongContext)
            }
            // Splicing globex's wrapped key and digest into acme's field: the tag refuses it.
            var spliced = acmeEnvelope
            spliced.contextDigest = globexEnvelope.contextDigest
            #expect(throws: EnvelopeError.self) { try cipher.open(try spliced.encoded(), context: globex) }
        }
    }

    @Test func tamperedFieldsAreRefused() throws {
        try withCipher { cipher, _ in
            let context = try EnvelopeContext(tenant: "acme", fieldPath: "orders.card", extra: ["table": "orders"])
            let sealed = try cipher.seal(Array("4111 1111 1111 1111".utf8), context: context)
            var flipped = sealed
            flipped[flipped.count - 1] ^= 1
            do throws(EnvelopeError) {
                _ = try cipher.open(flipped, context: context)
                Issue.record("a tampered field opened")
            } catch {
                #expect(error.kind == .tampered)
            }
            var wrongVersion = sealed
            wrongVersion[0] = 9
            #expect(throws: EnvelopeError.self) { try cipher.open(wrongVersion, context: context) }
            #expect(throws: EnvelopeError.self) { try cipher.open(Array(sealed.prefix(40)), context: context) }
            // A forged wrapped key: the KMS refuses it (nothing cached for it).
            var (envelope, _) = try EnvelopeCiphertext.decode(sealed)
            envelope.wrappedKey[envelope.wrappedKey.count / 2] ^= 0x55
            let fresh = try EnvelopeCipher(backend: cipher.backend)
            let forged = try envelope.encoded()
            do throws(EnvelopeError) {
                _ = try fresh.open(forged, context: context)
                Issue.record("a forged wrapped key opened")
            } catch {
                #expect(error.kind == .backend(.permanentError))
            }
            // A fresh cipher (empty cache) opens the genuine field with one unwrap.
            #expect(try fresh.open(sealed, context: context).unsafeStringValue() == "4111 1111 1111 1111")
        }
    }

    @Test func cacheBoundsByMessagesBytesAgeAndEntries() throws {
        try withCipher(.init(maxAgeSeconds: 300, maxMessagesPerKey: 10, maxBytesPerKey: 1 << 20, maxEntries: 1000)) { cipher, _ in
            let context = try EnvelopeContext(tenant: "acme", fieldPath: "f")
            for _ in 0..<25 { _ = try cipher.seal([1, 2, 3], context: context) }
            #expect(cipher.kmsCalls == 3)  // 10 + 10 + 5 messages
        }
        try withCipher(.init(maxAgeSeconds: 300, maxMessagesPerKey: 1000, maxBytesPerKey: 1000, maxEntries: 1000)) { cipher, _ in
            let context = try EnvelopeContext(tenant: "acme", fieldPath: "f")
            for _ in 0..<10 { _ = try cipher.seal([UInt8](repeating: 7, count: 300), context: context) }
            #expect(cipher.kmsCalls == 4)  // 3 × 300 bytes fit in 1000
        }
        let clock = ManualClock()
        try withCipher(.init(maxAgeSeconds: 60, maxMessagesPerKey: 1000, maxBytesPerKey: 1 << 20, maxEntries: 1000), now: clock.read) { cipher, _ in
            let context = try EnvelopeContext(tenant: "acme", fieldPath: "f")
            _ = try cipher.seal([1], context: context)
            clock.advance(59)
            _ = try cipher.seal([1], context: context)
            #expect(cipher.kmsCalls == 1)
            clock.advance(2)
            _ = try cipher.seal([1], context: context)
            #expect(cipher.kmsCalls == 2)
        }
        try withCipher(.init(maxAgeSeconds: 300, maxMessagesPerKey: 1000, maxBytesPerKey: 1 << 20, maxEntries: 2)) { cipher, _ in
            let tenants = try ["a", "b", "c"].map { try EnvelopeContext(tenant: $0, fieldPath: "f") }
            for tenant in tenants { _ = try cipher.seal([1], context: tenant) }
            #expect(cipher.cache.count <= 2)
            _ = try cipher.seal([1], context: tenants[2])  // most recent: still cached
            #expect(cipher.kmsCalls == 3)
            _ = try cipher.seal([1], context: tenants[0])  // evicted: a new data key
            #expect(cipher.kmsCalls == 4)
        }
        try withCipher(.disabled) { cipher, _ in
            let context = try EnvelopeContext(tenant: "acme", fieldPath: "f")
            let sealed = try (0..<3).map { _ in try cipher.seal([1], context: context) }
            for ciphertext in sealed { _ = try cipher.open(ciphertext, context: context) }
            #expect(cipher.kmsCalls == 6)
            #expect(cipher.cache.count == 0)
        }
    }

    @Test func contextsRefuseReservedKeysAndEmptyTenants() throws {
        #expect(throws: EnvelopeError.self) { try EnvelopeContext(tenant: "", fieldPath: "f") }
        #expect(throws: EnvelopeError.self) { try EnvelopeContext(tenant: "t", fieldPath: "f", extra: ["tenant": "x"]) }
        let context = try EnvelopeContext(tenant: "acme", fieldPath: "users.ssn", extra: ["table": "users"])
        #expect(String(decoding: context.keyContext, as: UTF8.self) == #"{"table":"users","tenant":"acme"}"#)
        #expect(String(decoding: context.fieldContext, as: UTF8.self) == #"{"field":"users.ssn","table":"users","tenant":"acme"}"#)
    }
}

/// A clock the test moves by hand.
final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var seconds = 1_000_000.0

    var read: @Sendable () -> Double { { [self] in lock.withLock { seconds } } }
    func advance(_ delta: Double) { lock.withLock { seconds += delta } }
}
