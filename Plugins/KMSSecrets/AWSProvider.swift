import HTTPClient
import PluginABI

/// AWS: KMS for key operations, Secrets Manager for secrets, one credential chain for both.
/// Ciphertexts are KMS's own CiphertextBlob bytes, so any AWS SDK decrypts them with the same
/// encryption context (and the plugin decrypts theirs).
final class AWSProvider: KMSProvider {
    let kms: AWSKMSClient
    let secrets: AWSSecretsManager
    let credentials: AWSCredentialChain

    init(config: KMSSecretsConfig, environment: Environment, transport: RetryingTransport) throws(KMSError) {
        guard let region = AWSEndpoints.region(config: config, environment: environment) else {
            throw KMSError.config("region: no AWS region (set region, AWS_REGION or AWS_DEFAULT_REGION, or the profile's region)")
        }
        let policy = EndpointPolicy(host: transport.host)
        credentials = try AWSCredentialChain.standard(
            config: config, environment: environment, region: region, http: transport.client, policy: policy)
        let host = transport.host
        credentials.onLoad = { host.log(LAFORGE_LOG_INFO, "KMSSecrets: using \($0)") }
        kms = AWSKMSClient(
            endpoint: try policy.checked(AWSEndpoints.kms(config: config, environment: environment, region: region)), region: region,
            credentials: credentials, transport: transport)
        secrets = AWSSecretsManager(
            endpoint: try policy.checked(AWSEndpoints.secretsManager(config: config, environment: environment, region: region)),
            region: region,
            credentials: credentials, transport: transport, defaultStage: config.versionStage)
    }

    func getSecret(_ name: String) throws(KMSError) -> SecretBytes { try secrets.getSecretValue(name) }

    func encrypt(keyID: String, plaintext: UnsafeRawBufferPointer, context: EncryptionContext) throws(KMSError) -> [UInt8] {
        guard plaintext.count > 0 else {
            let marked = context.adding(EmptyPlaintext.awsContextKey, "1")
            let blob = try EmptyPlaintext.withSealedByte { (byte) throws(KMSError) -> [UInt8] in
                try kms.encrypt(keyID: keyID, plaintext: byte, context: marked)
            }
            return EmptyPlaintext.awsMagic + blob
        }
        return try kms.encrypt(keyID: keyID, plaintext: plaintext, context: context)
    }

    func decrypt(keyID: String?, ciphertext: [UInt8], context: EncryptionContext) throws(KMSError) -> SecretBytes {
        if EmptyPlaintext.isAWSEmpty(ciphertext) {
            let opened = try kms.decrypt(
                keyID: keyID, ciphertext: Array(ciphertext.dropFirst(EmptyPlaintext.awsMagic.count)),
                context: context.adding(EmptyPlaintext.awsContextKey, "1"))
            return try EmptyPlaintext.opened(opened, provider: "aws kms Decrypt")
        }
        return try kms.decrypt(keyID: keyID, ciphertext: ciphertext, context: context)
    }

    func generateDataKey(keyID: String, length: Int, context: EncryptionContext) throws(KMSError) -> (SecretBytes, [UInt8])? {
        try kms.generateDataKey(keyID: keyID, length: length, context: context)
    }
}
