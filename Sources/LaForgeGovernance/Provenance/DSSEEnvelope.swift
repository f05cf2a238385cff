import Foundation
import LaForgeCore

/// A DSSE envelope (github.com/secure-systems-lab/dsse, v1) signed with Ed25519: the signature
/// covers PAE(payloadType, payload) = "DSSEv1" SP len(type) SP type SP len(body) SP body, never
/// a re-serialized payload.
///
/// Key ids follow securesystemslib: the hex SHA-256 of the canonical JSON
/// `{"keytype":"ed25519","keyval":{"public":"<hex>"},"scheme":"ed25519"}` (that object is ASCII,
/// so RFC 8785 and securesystemslib's OLPC canonical JSON give the same bytes), so its
/// `Envelope.verify` finds the key for each signature.
public struct DSSEEnvelope: Sendable, Equatable {
    public static let inTotoPayloadType = "application/vnd.in-toto+json"

    public struct Signature: Sendable, Equatable {
        public var keyID: String
        public var signature: [UInt8]
    }

    public var payloadType: String
    public var payload: [UInt8]
    public var signatures: [Signature]

    public static func pae(type: String, body: [UInt8]) -> [UInt8] {
        Array("DSSEv1 \(type.utf8.count) \(type) \(body.count) ".utf8) + body
    }

    /// securesystemslib's default key id of an Ed25519 public key.
    public static func keyID(of key: Ed25519VerifierKey) -> String {
        let keyJSON: JSONValue = .object([
            "keytype": "ed25519", "scheme": "ed25519", "keyval": .object(["public": .string(key.publicKey.hexString)]),
        ])
        return SHA256.hash(JSONCanonicalizer.canonicalize(keyJSON)).hexString
    }

    public init(payloadType: String, payload: [UInt8], signatures: [Signature]) {
        self.payloadType = payloadType
        self.payload = payload
        self.signatures = signatures
    }

    /// An envelope over `payload` with one signature by `key`.
    public init(signing payload: [UInt8], type: String, with key: Ed25519SigningKey) {
        self.init(
            payloadType: type, payload: payload,
            signatures: [Signature(keyID: Self.keyID(of: key.verifierKey), signature: key.sign(Self.pae(type: type, body: payload)))])
    }

    /// The keys (of `keys`) whose signatures verify; empty when none does.
    public func verifiedKeys(_ keys: [Ed25519VerifierKey]) -> [Ed25519VerifierKey] {
        let message = Self.pae(type: payloadType, body: payload)
        return keys.filter { key in
            let id = Self.keyID(of: key)
            return signatures.contains { $0.keyID == id && key.isValidSignature($0.signature, for: message) }
        }
    }

    public func jsonValue() -> JSONValue {
        .object([
            "payloadType": .string(payloadType), "payload": .string(Data(payload).base64EncodedString()),
            "signatures": .array(signatures.map {
                .object(["keyid": .string($0.keyID), "sig": .string(Data($0.signature).base64EncodedString())])
            }),
        ])
    }

    public init(json: JSONValue) throws(SnapshotError) {
        guard let type = json["payloadType"]?.stringValue, let payloadText = json["payload"]?.stringValue,
            let payload = Data(base64Encoded: payloadText), let list = json["signatures"]?.arrayValue
        else { throw SnapshotError(.invalidInput, "not a DSSE envelope (payloadType, payload, signatures)") }
        var signatures: [Signature] = []
        for item in list {
            guard let sigText = item["sig"]?.stringValue, let sig = Data(base64Encoded: sigText) else {
                throw SnapshotError(.invalidInput, "a DSSE signature has no base64 sig")
            }
            signatures.append(Signature(keyID: item["keyid"]?.stringValue ?? "", signature: Array(sig)))
        }
        self.init(payloadType: type, payload: Array(payload), signatures: signatures)
    }
}
