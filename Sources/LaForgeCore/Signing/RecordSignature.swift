import Foundation

/// An Ed25519 signature carried inside a JSON record (a snapshot, an approval), with the key that
/// made it: its C2SP name and id and the raw public key. The record names its key so anyone can
/// check the signature; whether the key is *trusted* is the verifier's separate decision.
public struct RecordSignature: Sendable, Equatable {
    public var keyName: String
    public var keyID: String
    /// The 32-byte Ed25519 public key.
    public var publicKey: [UInt8]
    /// The 64-byte signature.
    public var signature: [UInt8]

    public init(keyName: String, keyID: String, publicKey: [UInt8], signature: [UInt8]) {
        self.keyName = keyName
        self.keyID = keyID
        self.publicKey = publicKey
        self.signature = signature
    }

    /// Signs `message` with `key`.
    public init(signing message: [UInt8], with key: Ed25519SigningKey) {
        self.init(
            keyName: key.name, keyID: key.verifierKey.keyIDHex, publicKey: key.verifierKey.publicKey,
            signature: key.sign(message))
    }

    /// The key this signature names, or nil when name, id and public key do not agree.
    public var verifierKey: Ed25519VerifierKey? {
        guard let key = try? Ed25519VerifierKey(name: keyName, publicKey: publicKey), key.keyIDHex == keyID else { return nil }
        return key
    }

    /// Whether the signature over `message` verifies under the key it names (trust not checked).
    public func isValid(for message: [UInt8]) -> Bool {
        verifierKey?.isValidSignature(signature, for: message) ?? false
    }

    public func jsonValue() -> JSONValue {
        .object([
            "key_name": .string(keyName), "key_id": .string(keyID),
            "public_key": .string(Data(publicKey).base64EncodedString()),
            "sig": .string(Data(signature).base64EncodedString()),
        ])
    }

    public init?(json: JSONValue) {
        guard let name = json["key_name"]?.stringValue, let id = json["key_id"]?.stringValue,
            let publicText = json["public_key"]?.stringValue, let publicKey = Data(base64Encoded: publicText),
            let sigText = json["sig"]?.stringValue, let signature = Data(base64Encoded: sigText)
        else { return nil }
        self.init(keyName: name, keyID: id, publicKey: Array(publicKey), signature: Array(signature))
    }

    /// `name+keyid` as messages show a key.
    public var keyDescription: String { "\(keyName)+\(keyID)" }
}
