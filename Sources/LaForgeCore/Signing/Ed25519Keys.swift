import CSodium
import Foundation

/// Ed25519 keys in the C2SP signed-note text formats, so the same key files sign plugins here
/// and checkpoints in the audit log, and standard tooling (golang.org/x/mod/sumdb/note) reads them:
///
///     verifier key: <name>+<key id, 8 hex>+<base64(0x01 ‖ 32-byte public key)>
///     signer key:   PRIVATE+KEY+<name>+<key id, 8 hex>+<base64(0x01 ‖ 32-byte seed)>
///
/// key id = first 4 bytes of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key), big-endian (C2SP signed-note).
public struct Ed25519VerifierKey: Sendable, Equatable, CustomStringConvertible {
    public let name: String
    public let publicKey: [UInt8]
    public let keyID: UInt32

    static let algorithmEd25519: UInt8 = 0x01

    public init(name: String, publicKey: [UInt8]) throws(KeyFormatError) {
        guard Self.isValidKeyName(name) else {
            throw KeyFormatError("key name \"\(name)\" must be non-empty UTF-8 without spaces or '+'")
        }
        guard publicKey.count == 32 else {
            throw KeyFormatError("an Ed25519 public key is 32 bytes, got \(publicKey.count)")
        }
        self.name = name
        self.publicKey = publicKey
        self.keyID = Self.computeKeyID(name: name, publicKey: publicKey)
    }

    /// Parses the C2SP verifier key text (`name+hash+base64`), checking that the embedded id
    /// matches the key, so a key file that was edited is refused rather than silently renamed.
    public init(parsing text: String) throws(KeyFormatError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        // Split at most twice: standard base64 itself may contain "+".
        let parts = trimmed.split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else {
            throw KeyFormatError("a verifier key has the form NAME+KEYID+BASE64 (as `laforge keys generate` writes to PATH.pub)")
        }
        guard let data = Data(base64Encoded: String(parts[2])), data.count == 33, data.first == Self.algorithmEd25519 else {
            throw KeyFormatError("verifier key \(parts[0]): the key part is not base64 of 0x01 followed by a 32-byte Ed25519 key")
        }
        try self.init(name: String(parts[0]), publicKey: Array(data.dropFirst()))
        guard String(parts[1]).lowercased() == String(format: "%08x", keyID) else {
            throw KeyFormatError("verifier key \(name): key id \(parts[1]) does not match the key (expected \(String(format: "%08x", keyID)))")
        }
    }

    /// The C2SP verifier key text.
    public var encoded: String {
        "\(name)+\(String(format: "%08x", keyID))+\(Data([Self.algorithmEd25519] + publicKey).base64EncodedString())"
    }

    public var keyIDHex: String { String(format: "%08x", keyID) }
    public var description: String { "\(name)+\(keyIDHex)" }

    public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        guard signature.count == 64 else { return false }
        return crypto_sign_verify_detached(signature, message, UInt64(message.count), publicKey) == 0
    }

    static func computeKeyID(name: String, publicKey: [UInt8]) -> UInt32 {
        let digest = SHA256.hash(Array(name.utf8) + [0x0A, algorithmEd25519] + publicKey)
        return digest[0..<4].reduce(0) { $0 << 8 | UInt32($1) }
    }

    static func isValidKeyName(_ name: String) -> Bool {
        !name.isEmpty && !name.contains("+") && !name.unicodeScalars.contains { $0.properties.isWhitespace }
    }
}

/// An Ed25519 signing key. The seed lives in a `SecretValue` (locked, zeroed on release) and
/// never appears in a description.
public struct Ed25519SigningKey: Sendable, CustomStringConvertible {
    public let verifierKey: Ed25519VerifierKey
    private let seed: SecretValue

    public var name: String { verifierKey.name }

    public static func generate(name: String) throws(KeyFormatError) -> Ed25519SigningKey {
        var seed = [UInt8](repeating: 0, count: 32)
        randombytes_buf(&seed, 32)
        defer { sodium_memzero(&seed, 32) }
        return try Ed25519SigningKey(name: name, seed: seed)
    }

    public init(name: String, seed: [UInt8]) throws(KeyFormatError) {
        guard seed.count == 32 else { throw KeyFormatError("an Ed25519 seed is 32 bytes, got \(seed.count)") }
        var publicKey = [UInt8](repeating: 0, count: 32)
        var secretKey = [UInt8](repeating: 0, count: 64)
        crypto_sign_seed_keypair(&publicKey, &secretKey, seed)
        sodium_memzero(&secretKey, 64)
        self.seed = SecretValue(bytes: seed)
        self.verifierKey = try Ed25519VerifierKey(name: name, publicKey: publicKey)
    }

    /// Parses `PRIVATE+KEY+name+keyid+base64` (the content of a key file).
    public init(parsing text: String) throws(KeyFormatError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let parts = trimmed.split(separator: "+", maxSplits: 4, omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "PRIVATE", parts[1] == "KEY" else {
            throw KeyFormatError("a signing key file holds one line PRIVATE+KEY+NAME+KEYID+BASE64 (as `laforge keys generate` writes)")
        }
        guard var data = Data(base64Encoded: String(parts[4])), data.count == 33, data.first == Ed25519VerifierKey.algorithmEd25519 else {
            throw KeyFormatError("signing key \(parts[2]): the key part is not base64 of 0x01 followed by a 32-byte Ed25519 seed")
        }
        var seed = Array(data.dropFirst())
        data.resetBytes(in: 0..<data.count)
        defer { sodium_memzero(&seed, seed.count) }
        try self.init(name: String(parts[2]), seed: seed)
        guard String(parts[3]).lowercased() == verifierKey.keyIDHex else {
            throw KeyFormatError("signing key \(name): key id \(parts[3]) does not match the key")
        }
    }

    /// Reads a key file, refusing one that other users can read (as ssh does).
    public init(contentsOfFile path: String) throws(KeyFormatError) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw KeyFormatError("cannot read signing key \(path): \(String(cString: strerror(errno)))")
        }
        if info.st_mode & 0o077 != 0 {
            throw KeyFormatError(
                "signing key \(path) is accessible by other users (mode \(String(info.st_mode & 0o777, radix: 8))): chmod 600 it")
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw KeyFormatError("cannot read signing key \(path)")
        }
        try self.init(parsing: text)
    }

    /// The key file text. Handle with care: it is the private key.
    public func encodedPrivateKey() -> String {
        seed.withUnsafeBytes { bytes in
            "PRIVATE+KEY+\(name)+\(verifierKey.keyIDHex)+\(Data([Ed25519VerifierKey.algorithmEd25519] + Array(bytes)).base64EncodedString())"
        }
    }

    public func sign(_ message: [UInt8]) -> [UInt8] {
        var publicKey = [UInt8](repeating: 0, count: 32)
        var secretKey = [UInt8](repeating: 0, count: 64)
        defer { sodium_memzero(&secretKey, 64) }
        seed.withUnsafeBytes { seedBytes in
            _ = crypto_sign_seed_keypair(&publicKey, &secretKey, seedBytes.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        var signature = [UInt8](repeating: 0, count: 64)
        crypto_sign_detached(&signature, nil, message, UInt64(message.count), secretKey)
        return signature
    }

    public var description: String { "Ed25519SigningKey(\(verifierKey), <redacted>)" }
}

public struct KeyFormatError: Error, CustomStringConvertible, Sendable {
    public var message: String
    /// The key itself is fine but a service it depends on did not answer or refused (the KMS
    /// that unwraps it): trying again later may succeed, unlike a malformed key or setting.
    public var isUnavailable: Bool
    public init(_ message: String, isUnavailable: Bool = false) {
        self.message = message
        self.isUnavailable = isUnavailable
    }
    public var description: String { message }
}

/// Creates key files: PATH (signer key, mode 0600, never overwritten) and PATH.pub (verifier key).
public enum KeyFileWriter {
    public static func write(_ key: Ed25519SigningKey, to path: String) throws(KeyFormatError) {
        let publicPath = path + ".pub"
        for existing in [path, publicPath] where FileManager.default.fileExists(atPath: existing) {
            throw KeyFormatError("\(existing) already exists: refusing to overwrite a key (move it away first)")
        }
        // Missing parent folders are created owner-only (0700): they hold private keys
        // (`keys generate --out keys/release` in a fresh checkout). Existing ones are left as they are.
        // (Not NSString.deletingLastPathComponent: corelibs Foundation traps on a one-letter
        // path such as "k".)
        let folder = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? ""
        if !folder.isEmpty, !FileManager.default.fileExists(atPath: folder) {
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw KeyFormatError("cannot create the folder \(folder) for \(path): \(error.localizedDescription)")
            }
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw KeyFormatError("cannot create \(path): \(String(cString: strerror(errno)))")
        }
        var text = Array((key.encodedPrivateKey() + "\n").utf8)
        defer { sodium_memzero(&text, text.count) }
        let written = text.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd)
        close(fd)
        guard written == text.count, synced == 0 else {
            unlink(path)
            throw KeyFormatError("cannot write \(path): \(String(cString: strerror(errno)))")
        }
        do {
            try (key.verifierKey.encoded + "\n").write(toFile: publicPath, atomically: true, encoding: .utf8)
        } catch {
            throw KeyFormatError("cannot write \(publicPath): \(error.localizedDescription)")
        }
    }
}
