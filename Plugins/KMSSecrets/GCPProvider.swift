import HTTPClient

/// Google Cloud: Cloud KMS for key operations (the canonical context is the AAD), Secret Manager
/// for secrets, one token source for both. GCP has no GenerateDataKey: the plugin makes data keys
/// with libsodium and encrypts them.
final class GCPProvider: KMSProvider {
    let kms: GCPKMSClient
    let secrets: GCPSecretManager

    init(config: KMSSecretsConfig, environment: Environment, transport: RetryingTransport) throws(KMSError) {
        let policy = EndpointPolicy(host: transport.host)
        let tokens = try GCPTokenSource(config: config, environment: environment, http: transport.client, policy: policy)
        let kmsEndpoint = config.endpoint.map { ServiceEndpoint(url: $0, origin: "endpoint") }
            ?? ServiceEndpoint(url: "https://cloudkms.googleapis.com", origin: "the Cloud KMS default endpoint")
        let secretsEndpoint = config.secretsEndpoint.map { ServiceEndpoint(url: $0, origin: "secrets_endpoint") }
            ?? ServiceEndpoint(url: "https://secretmanager.googleapis.com", origin: "the Secret Manager default endpoint")
        kms = GCPKMSClient(endpoint: Self.trimmed(try policy.checked(kmsEndpoint)), tokens: tokens, transport: transport)
        secrets = GCPSecretManager(
            endpoint: Self.trimmed(try policy.checked(secretsEndpoint)),
            project: config.project ?? environment["GOOGLE_CLOUD_PROJECT"], tokens: tokens, transport: transport)
    }

    private static func trimmed(_ url: String) -> String {
        var url = url
        while url.hasSuffix("/") { url.removeLast() }
        return url
    }

    func getSecret(_ name: String) throws(KMSError) -> SecretBytes { try secrets.access(name) }

    func encrypt(keyID: String, plaintext: UnsafeRawBufferPointer, context: EncryptionContext) throws(KMSError) -> [UInt8] {
        let key = try Self.keyName(keyID)
        guard plaintext.count > 0 else {
            let ciphertext = try EmptyPlaintext.withSealedByte { (byte) throws(KMSError) -> [UInt8] in
                try kms.encrypt(key: keyID, plaintext: byte, aad: EmptyPlaintext.gcpAADPrefix + context.canonical)
            }
            return ProviderCiphertext(keyName: key, payload: ciphertext, version: EmptyPlaintext.gcpVersion).encoded()
        }
        let ciphertext = try kms.encrypt(key: keyID, plaintext: plaintext, aad: context.canonical)
        return ProviderCiphertext(keyName: key, payload: ciphertext).encoded()
    }

    func decrypt(keyID: String?, ciphertext: [UInt8], context: EncryptionContext) throws(KMSError) -> SecretBytes {
        let envelope = try ProviderCiphertext(decoding: ciphertext, provider: "gcp kms decrypt", versions: [1, EmptyPlaintext.gcpVersion])
        if let keyID, try Self.keyName(keyID) != envelope.keyName {
            throw KMSError(.invalidCiphertext, "gcp kms decrypt: the ciphertext was made with \(envelope.keyName), not \(keyID)")
        }
        if envelope.version == EmptyPlaintext.gcpVersion {
            let opened = try kms.decrypt(key: envelope.keyName, ciphertext: envelope.payload, aad: EmptyPlaintext.gcpAADPrefix + context.canonical)
            return try EmptyPlaintext.opened(opened, provider: "gcp kms decrypt")
        }
        return try kms.decrypt(key: envelope.keyName, ciphertext: envelope.payload, aad: context.canonical)
    }

    func generateDataKey(keyID: String, length: Int, context: EncryptionContext) throws(KMSError) -> (SecretBytes, [UInt8])? { nil }

    /// The CryptoKey of a key or key-version name (decrypt takes the key, not a version).
    static func keyName(_ keyID: String) throws(KMSError) -> String {
        let parts = keyID.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count >= 8, parts[0] == "projects", parts[2] == "locations", parts[4] == "keyRings", parts[6] == "cryptoKeys",
            parts.allSatisfy({ !$0.isEmpty })
        else {
            throw KMSError(.invalidArgument, "gcp kms: \(keyID) is not projects/P/locations/L/keyRings/R/cryptoKeys/K[/cryptoKeyVersions/N]")
        }
        return parts[0..<8].joined(separator: "/")
    }
}
