/// The sealed-field format (docs/SECRETS.md, "Envelope ciphertext"), version 1:
///
/// ```
/// u8      version            0x01
/// u8      algorithm          0x01 = XChaCha20-Poly1305 with a 32-byte data key
/// u16 BE  key id length      then the KMS key id as the caller named it (empty: the backend's default)
/// u16 BE  wrapped key length then the data key as the KMS wrapped it (under the key context)
/// 32      context digest     SHA-256 of the canonical field context (tenant, field, extra)
/// 24      nonce              random (XChaCha20's 192-bit nonce makes random nonces safe)
/// …       ciphertext ‖ 16-byte Poly1305 tag
/// ```
///
/// The AEAD's associated data is every byte before the nonce (the header). The header holds the
/// SHA-256 of the canonical field context, so neither the header nor the context can be changed
/// without the tag failing; a wrong context is reported before decryption by comparing digests.
public struct EnvelopeCiphertext: Sendable, Equatable {
    public static let version: UInt8 = 1
    public static let algorithmXChaCha20Poly1305: UInt8 = 1
    public static let nonceCount = 24
    public static let tagCount = 16
    public static let digestCount = 32

    public var keyID: String
    public var wrappedKey: [UInt8]
    public var contextDigest: [UInt8]
    public var nonce: [UInt8]
    /// Ciphertext followed by the tag.
    public var sealed: [UInt8]

    public init(keyID: String, wrappedKey: [UInt8], contextDigest: [UInt8], nonce: [UInt8], sealed: [UInt8]) {
        self.keyID = keyID
        self.wrappedKey = wrappedKey
        self.contextDigest = contextDigest
        self.nonce = nonce
        self.sealed = sealed
    }

    /// The bytes before the nonce (also the first part of the associated data).
    public static func header(
        keyID: String, wrappedKey: [UInt8], contextDigest: [UInt8], reserving extra: Int = 0
    ) throws(EnvelopeError) -> [UInt8] {
        let key = Array(keyID.utf8)
        guard key.count <= 0xFFFF, wrappedKey.count <= 0xFFFF, !wrappedKey.isEmpty else {
            throw EnvelopeError(.malformedCiphertext, "the key id or wrapped key is too long for the envelope format")
        }
        var header: [UInt8] = [version, algorithmXChaCha20Poly1305]
        header.reserveCapacity(2 + 2 + key.count + 2 + wrappedKey.count + digestCount + extra)
        header.append(UInt8(key.count >> 8))
        header.append(UInt8(key.count & 0xFF))
        header.append(contentsOf: key)
        header.append(UInt8(wrappedKey.count >> 8))
        header.append(UInt8(wrappedKey.count & 0xFF))
        header.append(contentsOf: wrappedKey)
        header.append(contentsOf: contextDigest)
        return header
    }

    public func encoded() throws(EnvelopeError) -> [UInt8] {
        try Self.header(keyID: keyID, wrappedKey: wrappedKey, contextDigest: contextDigest) + nonce + sealed
    }

    /// Parses `bytes`; `headerCount` is where the nonce starts.
    public static func decode(_ bytes: [UInt8]) throws(EnvelopeError) -> (EnvelopeCiphertext, headerCount: Int) {
        guard bytes.count >= 2 else { throw EnvelopeError(.malformedCiphertext, "not an envelope ciphertext (too short)") }
        guard bytes[0] == version else {
            throw EnvelopeError(.malformedCiphertext, "unknown envelope version \(bytes[0]) (this build reads version \(version))")
        }
        guard bytes[1] == algorithmXChaCha20Poly1305 else {
            throw EnvelopeError(.malformedCiphertext, "unknown envelope algorithm \(bytes[1])")
        }
        var offset = 2
        func lengthPrefixed() throws(EnvelopeError) -> ArraySlice<UInt8> {
            guard offset + 2 <= bytes.count else { throw EnvelopeError(.malformedCiphertext, "truncated envelope ciphertext") }
            let length = Int(bytes[offset]) << 8 | Int(bytes[offset + 1])
            offset += 2
            guard offset + length <= bytes.count else { throw EnvelopeError(.malformedCiphertext, "truncated envelope ciphertext") }
            defer { offset += length }
            return bytes[offset..<offset + length]
        }
        guard let keyID = String(validating: try lengthPrefixed(), as: UTF8.self) else {
            throw EnvelopeError(.malformedCiphertext, "the envelope's key id is not UTF-8")
        }
        let wrapped = Array(try lengthPrefixed())
        guard !wrapped.isEmpty else { throw EnvelopeError(.malformedCiphertext, "the envelope has no wrapped data key") }
        guard offset + digestCount + nonceCount + tagCount <= bytes.count else {
            throw EnvelopeError(.malformedCiphertext, "truncated envelope ciphertext")
        }
        let digest = Array(bytes[offset..<offset + digestCount])
        let headerCount = offset + digestCount
        let nonce = Array(bytes[headerCount..<headerCount + nonceCount])
        let sealed = Array(bytes[(headerCount + nonceCount)...])
        return (EnvelopeCiphertext(keyID: keyID, wrappedKey: wrapped, contextDigest: digest, nonce: nonce, sealed: sealed), headerCount)
    }
}
