import Foundation

/// Detached plugin signatures: `LIB.sig` next to `LIB`, a small text file
///
///     laforge-plugin-signature v1
///     sha256 <hex of the library's SHA-256>
///     signature <key name>+<key id> <base64 Ed25519 signature>
///     (more signature lines during a key rotation)
///
/// Each signature is over the domain-separated message "laforge-plugin-signature v1\n" +
/// hex SHA-256 + "\n", so a plugin signature can never be replayed as a checkpoint signature
/// made with the same key.
public enum PluginSignature {
    static let header = "laforge-plugin-signature v1"

    public enum Verdict: Sendable, Equatable, CustomStringConvertible {
        /// A signature from this trusted key is valid for the library as it is on disk.
        case valid(key: String)
        /// No `LIB.sig` file.
        case unsigned
        /// Signed, but something is wrong: tampered library, forged or untrusted signature.
        case invalid(String)

        public var description: String {
            switch self {
            case .valid(let key): return "signed by \(key)"
            case .unsigned: return "unsigned"
            case .invalid(let reason): return "invalid signature: \(reason)"
            }
        }

        public var isValid: Bool { if case .valid = self { return true } else { return false } }
    }

    public static func signaturePath(forLibrary path: String) -> String { path + ".sig" }

    static func message(digestHex: String) -> [UInt8] { Array("\(header)\n\(digestHex)\n".utf8) }

    /// Signs the library, keeping signatures by other keys that are still valid for the same
    /// bytes (so two release keys can co-sign during a rotation). Returns the .sig path.
    @discardableResult
    public static func sign(libraryAt path: String, with key: Ed25519SigningKey) throws -> String {
        let digestHex = try SHA256.hash(fileAt: path).hexString
        let signature = key.sign(message(digestHex: digestHex))
        let sigPath = signaturePath(forLibrary: path)
        var lines = [header, "sha256 \(digestHex)"]
        if let existing = try? parse(String(contentsOfFile: sigPath, encoding: .utf8)), existing.digestHex == digestHex {
            lines += existing.signatures.filter { $0.key != key.verifierKey.description }.map(\.line)
        }
        lines.append("signature \(key.verifierKey) \(Data(signature).base64EncodedString())")
        try (lines.joined(separator: "\n") + "\n").write(toFile: sigPath, atomically: true, encoding: .utf8)
        return sigPath
    }

    /// Checks the library against its .sig with the trusted keys.
    public static func verify(libraryAt path: String, trustedKeys: [Ed25519VerifierKey]) -> Verdict {
        let sigPath = signaturePath(forLibrary: path)
        guard FileManager.default.fileExists(atPath: sigPath) else { return .unsigned }
        guard let text = try? String(contentsOfFile: sigPath, encoding: .utf8) else {
            return .invalid("cannot read \(sigPath)")
        }
        let file: ParsedFile
        do { file = try parse(text) } catch { return .invalid("\(sigPath): \(error)") }
        guard let digest = try? SHA256.hash(fileAt: path).hexString else {
            return .invalid("cannot read \(path)")
        }
        guard digest == file.digestHex else {
            return .invalid("the library's SHA-256 \(digest) differs from the signed \(file.digestHex): the file was modified after signing")
        }
        let signedMessage = message(digestHex: digest)
        var untrusted: [String] = []
        for entry in file.signatures {
            guard let key = trustedKeys.first(where: { $0.description == entry.key }) else {
                untrusted.append(entry.key)
                continue
            }
            if key.isValidSignature(entry.signature, for: signedMessage) { return .valid(key: entry.key) }
            return .invalid("the signature by \(entry.key) does not verify (forged or corrupted)")
        }
        if trustedKeys.isEmpty { return .invalid("no trusted keys are configured (trusted_keys in the config)") }
        return .invalid("signed only by keys that are not trusted: \(untrusted.joined(separator: ", "))")
    }

    struct SignatureLine {
        var key: String
        var signature: [UInt8]
        var line: String
    }

    struct ParsedFile {
        var digestHex: String
        var signatures: [SignatureLine]
    }

    struct FormatError: Error, CustomStringConvertible {
        var description: String
    }

    static func parse(_ text: String) throws -> ParsedFile {
        let lines = text.split(separator: "\n").map(String.init)
        guard lines.first == header else { throw FormatError(description: "not a \(header) file") }
        guard lines.count >= 3, lines[1].hasPrefix("sha256 "),
              let digest = [UInt8](hexString: String(lines[1].dropFirst(7))), digest.count == 32
        else { throw FormatError(description: "line 2 must be `sha256 <64 hex digits>`") }
        var signatures: [SignatureLine] = []
        for (index, line) in lines.dropFirst(2).enumerated() {
            let fields = line.split(separator: " ")
            guard fields.count == 3, fields[0] == "signature", let signature = Data(base64Encoded: String(fields[2])),
                  signature.count == 64
            else { throw FormatError(description: "line \(index + 3) must be `signature <key> <base64 of 64 bytes>`") }
            signatures.append(SignatureLine(key: String(fields[1]), signature: Array(signature), line: line))
        }
        return ParsedFile(digestHex: digest.hexString, signatures: signatures)
    }
}
