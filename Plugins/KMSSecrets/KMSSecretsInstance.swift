import CSodium
import HTTPClient
import PluginABI

#if canImport(Glibc)
    import Glibc
#endif

/// One configured backend: its provider, the HTTP client it owns, and last_error. Called serially
/// (the vtable declares SERIAL), so no locking.
final class KMSSecretsInstance: SecretBackendPlugin {
    private let host: HostServices
    private var provider: (any KMSProvider)?
    private var defaultKeyID: String?
    let lastError = LastErrorBuffer()

    init(host: HostServices) { self.host = host }

    /// Reads the configuration and sets up the provider. No network call: a KMS that is down at
    /// start-up fails the first operation (with RETRY), not the host's start.
    func configure(_ json: [UInt8]) throws(KMSError) {
        guard sodium_init() >= 0 else { throw KMSError(.unsupported, "libsodium failed to initialize") }
        let config = try KMSSecretsConfig(json: json)
        var tls = TLSOptions()
        tls.caFile = config.caFile
        let client: HTTPClient
        do {
            client = try HTTPClient(options: HTTPClientOptions(
                tls: tls, connectTimeoutMilliseconds: min(5000, config.timeoutMilliseconds),
                totalTimeoutMilliseconds: config.timeoutMilliseconds, userAgent: "laforge-kmssecrets/1.0", maxResponseBytes: 4 << 20))
        } catch {
            throw KMSError(.unsupported, "cannot set up libcurl: \(error.message)")
        }
        let transport = RetryingTransport(client: client, policy: config.retry, host: host)
        let environment = Environment.process()
        switch config.provider {
        case .aws: provider = try AWSProvider(config: config, environment: environment, transport: transport)
        case .gcp: provider = try GCPProvider(config: config, environment: environment, transport: transport)
        case .azure: provider = try AzureProvider(config: config, environment: environment, transport: transport)
        }
        defaultKeyID = config.keyID
        host.log(LAFORGE_LOG_INFO, "KMSSecrets: provider \(config.provider.rawValue)" + (config.keyID.map { ", default key \($0)" } ?? ""))
    }

    // MARK: operations

    func getSecret(_ name: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<laforge_buffer>?) -> Int32 {
        run(out) { () throws(KMSError) in
            guard let name, let text = String(validatingCString: name), !text.isEmpty else {
                throw KMSError(.invalidArgument, "get_secret: the name is empty or not UTF-8")
            }
            try readyProvider().getSecret(text).transfer(to: out!)
        }
    }

    func encrypt(_ keyID: UnsafePointer<CChar>?, _ plaintext: laforge_bytes, _ context: laforge_bytes,
                 _ out: UnsafeMutablePointer<laforge_buffer>?) -> Int32 {
        run(out) { () throws(KMSError) in
            let key = try resolveKey(keyID, "encrypt")
            let ciphertext = try readyProvider().encrypt(
                keyID: key, plaintext: UnsafeRawBufferPointer(start: plaintext.data, count: plaintext.len),
                context: try EncryptionContext(context.bytes))
            transferPublic(ciphertext, to: out!)
        }
    }

    func decrypt(_ keyID: UnsafePointer<CChar>?, _ ciphertext: laforge_bytes, _ context: laforge_bytes,
                 _ out: UnsafeMutablePointer<laforge_buffer>?) -> Int32 {
        run(out) { () throws(KMSError) in
            let key = try keyID.map { (pointer) throws(KMSError) -> String in try resolveKey(pointer, "decrypt") } ?? defaultKeyID
            let input = ciphertext.bytes
            guard !input.isEmpty else { throw KMSError(.invalidArgument, "decrypt: the ciphertext is empty") }
            try readyProvider().decrypt(keyID: key, ciphertext: input, context: try EncryptionContext(context.bytes)).transfer(to: out!)
        }
    }

    func generateDataKey(_ keyID: UnsafePointer<CChar>?, _ length: Int, _ context: laforge_bytes,
                         _ plaintextKey: UnsafeMutablePointer<laforge_buffer>?,
                         _ wrappedKey: UnsafeMutablePointer<laforge_buffer>?) -> Int32 {
        guard let wrappedKey else { return fail(KMSError(.invalidArgument, "generate_data_key: wrapped_key is NULL")) }
        return run(plaintextKey) { () throws(KMSError) in
            guard (16...1024).contains(length) else {
                throw KMSError(.invalidArgument, "generate_data_key: key_len \(length) is outside 16…1024 bytes")
            }
            let key = try resolveKey(keyID, "generate_data_key")
            let parsedContext = try EncryptionContext(context.bytes)
            let provider = try readyProvider()
            if let (plaintext, wrapped) = try provider.generateDataKey(keyID: key, length: length, context: parsedContext) {
                guard plaintext.count == length else {
                    throw KMSError(.badResponse, "generate_data_key: the KMS returned \(plaintext.count) bytes, \(length) asked")
                }
                transferPublic(wrapped, to: wrappedKey)
                plaintext.transfer(to: plaintextKey!)
                return
            }
            var fresh = [UInt8](repeating: 0, count: length)
            randombytes_buf(&fresh, length)
            let plaintext = SecretBytes(consuming: &fresh)
            let wrapped = try provider.encrypt(keyID: key, plaintext: plaintext.bytes, context: parsedContext)
            transferPublic(wrapped, to: wrappedKey)
            plaintext.transfer(to: plaintextKey!)
        }
    }

    static func release(_ buffer: UnsafeMutablePointer<laforge_buffer>) { SecretBytes.release(buffer) }

    // MARK: helpers

    private func readyProvider() throws(KMSError) -> any KMSProvider {
        guard let provider else { throw KMSError(.unsupported, "the instance was not configured") }
        return provider
    }

    private func resolveKey(_ keyID: UnsafePointer<CChar>?, _ function: String) throws(KMSError) -> String {
        if let keyID {
            guard let text = String(validatingCString: keyID), !text.isEmpty else {
                throw KMSError(.invalidArgument, "\(function): key_id is empty or not UTF-8")
            }
            return text
        }
        guard let defaultKeyID else {
            throw KMSError(.invalidArgument, "\(function): no key_id given and the configuration has no key_id")
        }
        return defaultKeyID
    }

    /// Runs an operation at the ABI edge: the output stays zeroed on failure, errors become a
    /// status and last_error.
    private func run(_ out: UnsafeMutablePointer<laforge_buffer>?, _ body: () throws(KMSError) -> Void) -> Int32 {
        guard out != nil else { return fail(KMSError(.invalidArgument, "the output buffer is NULL")) }
        do {
            try body()
            return Status.ok
        } catch {
            return fail(error)
        }
    }
}
