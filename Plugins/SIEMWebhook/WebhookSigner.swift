#if canImport(Glibc)
    import Glibc
#endif

import CSodium
import HTTPClient

/// Standard Webhooks signatures (standardwebhooks.com): the signed content is
/// `<webhook-id>.<webhook-timestamp>.<body>`; `v1,<base64 HMAC-SHA256>` per `whsec_` secret and
/// `v1a,<base64 Ed25519>` per `whsk_` key, space-separated, so a receiver accepts the request
/// while it holds any one of the keys (key rotation: configure the new and the old key).
struct WebhookSigner {
    let hmacSecrets: [[UInt8]]
    let ed25519Keys: [[UInt8]]

    var isEnabled: Bool { !hmacSecrets.isEmpty || !ed25519Keys.isEmpty }

    /// The three headers for one request. `body` is the payload before any Content-Encoding.
    func headers(id: String, timestamp: Int64, body: [UInt8]) -> [HTTPHeader] {
        var content = Array("\(id).\(timestamp).".utf8)
        content.append(contentsOf: body)
        var signatures: [String] = []
        for secret in hmacSecrets {
            var mac = [UInt8](repeating: 0, count: Int(crypto_auth_hmacsha256_BYTES))
            var state = crypto_auth_hmacsha256_state()
            crypto_auth_hmacsha256_init(&state, secret, secret.count)
            crypto_auth_hmacsha256_update(&state, content, UInt64(content.count))
            crypto_auth_hmacsha256_final(&state, &mac)
            signatures.append("v1," + Base64.encode(mac))
        }
        for key in ed25519Keys {
            var signature = [UInt8](repeating: 0, count: Int(crypto_sign_BYTES))
            crypto_sign_detached(&signature, nil, content, UInt64(content.count), key)
            signatures.append("v1a," + Base64.encode(signature))
        }
        return [
            HTTPHeader("webhook-id", id),
            HTTPHeader("webhook-timestamp", String(timestamp)),
            HTTPHeader("webhook-signature", signatures.joined(separator: " ")),
        ]
    }
}

/// Parses the configured keys; messages name the field, never the value.
enum SigningKeys {
    static func hmacSecret(_ text: String, field: String) throws(SIEMError) -> [UInt8] {
        guard text.hasPrefix("whsec_"), let secret = Base64.decode(String(text.dropFirst(6)), .standard), !secret.isEmpty else {
            throw .invalidConfig("\(field): expected whsec_ followed by base64 (as Standard Webhooks libraries generate)")
        }
        guard secret.count >= 24 else { throw .invalidConfig("\(field): the secret is shorter than 24 bytes") }
        return secret
    }

    /// `whsk_<base64>` of a 32-byte Ed25519 seed or a 64-byte libsodium secret key.
    static func ed25519SecretKey(_ text: String, field: String) throws(SIEMError) -> [UInt8] {
        guard sodiumReady, text.hasPrefix("whsk_"), let raw = Base64.decode(String(text.dropFirst(5)), .standard) else {
            throw .invalidConfig("\(field): expected whsk_ followed by the base64 of an Ed25519 seed (32 bytes) or secret key (64 bytes)")
        }
        var publicKey = [UInt8](repeating: 0, count: Int(crypto_sign_PUBLICKEYBYTES))
        var secretKey = [UInt8](repeating: 0, count: Int(crypto_sign_SECRETKEYBYTES))
        switch raw.count {
        case Int(crypto_sign_SEEDBYTES):
            crypto_sign_seed_keypair(&publicKey, &secretKey, raw)
        case Int(crypto_sign_SECRETKEYBYTES):
            // Check that the embedded public half belongs to the seed half.
            crypto_sign_seed_keypair(&publicKey, &secretKey, Array(raw.prefix(32)))
            guard secretKey == raw else { throw .invalidConfig("\(field): the 64-byte key's public half does not match its seed") }
        default:
            throw .invalidConfig("\(field): an Ed25519 key is 32 (seed) or 64 (secret key) bytes, not \(raw.count)")
        }
        return secretKey
    }

    static let sodiumReady: Bool = sodium_init() >= 0
}
