import COpenSSL

/// A public key taken from a JSON Web Key (RFC 7517/7518/8037) and held as an OpenSSL EVP_PKEY:
/// RSA (`n`, `e`; at least 2048 bits), EC P-256 (`x`, `y`, checked to be on the curve) or
/// Ed25519 (`x`). Only public members are read; a JWK carrying private members is refused so a
/// leaked private key in a JWKS document is noticed, not silently used.
///
/// Immutable after creation, so one key may verify on several threads at once.
public final class JWKPublicKey: @unchecked Sendable {
    // @unchecked: the EVP_PKEY is never modified after init; OpenSSL 3 allows concurrent use of
    // a key for verification (each operation has its own context).
    let key: OpaquePointer
    /// "RSA", "EC" or "OKP".
    public let keyType: String
    /// RSA modulus size in bits, 256 for P-256, 255 for Ed25519.
    public let bits: Int

    public static let minimumRSABits = 2048

    /// A verify context per algorithm this key can verify, prepared once (RS256 and PS256 for
    /// RSA, ES256 for P-256; none for Ed25519), so a verification only copies one.
    private let preparedVerifications: [(algorithm: JWSAlgorithm, context: PreparedVerification)]

    public enum Material: Sendable {
        case rsa(modulus: [UInt8], exponent: [UInt8])
        case p256(x: [UInt8], y: [UInt8])
        case ed25519(x: [UInt8])
    }

    public init(_ material: Material) throws(JWKError) {
        switch material {
        case .rsa(let modulus, let exponent):
            key = try Self.rsaKey(modulus: modulus, exponent: exponent)
            keyType = "RSA"
        case .p256(let x, let y):
            key = try Self.p256Key(x: x, y: y)
            keyType = "EC"
        case .ed25519(let x):
            guard x.count == 32 else { throw JWKError("an Ed25519 key's x is 32 bytes, this one is \(x.count)") }
            guard let made = x.withUnsafeBufferPointer({ EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nil, $0.baseAddress, 32) })
            else { throw JWKError("OpenSSL refused the Ed25519 public key") }
            key = made
            keyType = "OKP"
        }
        bits = Int(EVP_PKEY_get_bits(key))
        if keyType == "RSA", bits < Self.minimumRSABits {
            EVP_PKEY_free(key)
            throw JWKError("the RSA key has \(bits) bits; at least \(Self.minimumRSABits) are required")
        }
        let made = key
        let type = keyType
        preparedVerifications = JWSAlgorithm.allCases.filter { $0.keyType == type }.compactMap { algorithm in
            PreparedVerification(key: made, algorithm: algorithm).map { (algorithm, $0) }
        }
    }

    func prepared(for algorithm: JWSAlgorithm) -> PreparedVerification? {
        for prepared in preparedVerifications where prepared.algorithm == algorithm { return prepared.context }
        return nil
    }

    deinit { EVP_PKEY_free(key) }

    private static func rsaKey(modulus: [UInt8], exponent: [UInt8]) throws(JWKError) -> OpaquePointer {
        guard !modulus.isEmpty, !exponent.isEmpty else { throw JWKError("an RSA key needs non-empty n and e") }
        let n = modulus.withUnsafeBufferPointer { BN_bin2bn($0.baseAddress, Int32($0.count), nil) }
        let e = exponent.withUnsafeBufferPointer { BN_bin2bn($0.baseAddress, Int32($0.count), nil) }
        defer { BN_free(n); BN_free(e) }
        guard let n, let e, let builder = OSSL_PARAM_BLD_new() else { throw JWKError("out of memory building an RSA key") }
        defer { OSSL_PARAM_BLD_free(builder) }
        guard OSSL_PARAM_BLD_push_BN(builder, cString("n"), n) == 1, OSSL_PARAM_BLD_push_BN(builder, cString("e"), e) == 1 else {
            throw JWKError("OpenSSL refused the RSA parameters")
        }
        return try fromData("RSA", builder: builder)
    }

    private static func p256Key(x: [UInt8], y: [UInt8]) throws(JWKError) -> OpaquePointer {
        guard x.count == 32, y.count == 32 else {
            throw JWKError("a P-256 key's x and y are 32 bytes each, these are \(x.count) and \(y.count)")
        }
        let point = [0x04] + x + y  // SEC 1 uncompressed point
        guard let builder = OSSL_PARAM_BLD_new() else { throw JWKError("out of memory building an EC key") }
        defer { OSSL_PARAM_BLD_free(builder) }
        // The builder keeps the pointers until fromData: the point must stay alive until then.
        let made: Result<OpaquePointer, JWKError> = point.withUnsafeBytes { bytes in
            guard OSSL_PARAM_BLD_push_utf8_string(builder, cString("group"), cString("prime256v1"), 0) == 1,
                OSSL_PARAM_BLD_push_octet_string(builder, cString("pub"), bytes.baseAddress, bytes.count) == 1
            else { return .failure(JWKError("OpenSSL refused the EC parameters")) }
            do throws(JWKError) { return .success(try fromData("EC", builder: builder)) } catch { return .failure(error) }
        }
        let key = try made.get()
        // Invalid-curve attacks: a point off the curve must never be used (RFC 8725 §3.4).
        let context = EVP_PKEY_CTX_new_from_pkey(nil, key, nil)
        defer { EVP_PKEY_CTX_free(context) }
        guard let context, EVP_PKEY_public_check(context) == 1 else {
            EVP_PKEY_free(key)
            ERR_clear_error()
            throw JWKError("the EC point (x, y) is not on the P-256 curve")
        }
        return key
    }

    /// OSSL_PARAM_BLD keeps the name and value pointers it is given until OSSL_PARAM_BLD_to_param:
    /// a Swift string's temporary C copy would dangle, so names are static strings.
    private static func cString(_ text: StaticString) -> UnsafePointer<CChar> {
        UnsafeRawPointer(text.utf8Start).assumingMemoryBound(to: CChar.self)
    }

    /// EVP_PKEY_PUBLIC_KEY, a macro built from others that Swift does not import.
    private static let publicKeySelection = Int32(
        OSSL_KEYMGMT_SELECT_PUBLIC_KEY | OSSL_KEYMGMT_SELECT_DOMAIN_PARAMETERS | OSSL_KEYMGMT_SELECT_OTHER_PARAMETERS)

    private static func fromData(_ type: String, builder: OpaquePointer) throws(JWKError) -> OpaquePointer {
        guard let params = OSSL_PARAM_BLD_to_param(builder) else { throw JWKError("out of memory building a \(type) key") }
        defer { OSSL_PARAM_free(params) }
        guard let context = EVP_PKEY_CTX_new_from_name(nil, type, nil) else { throw JWKError("OpenSSL has no \(type) support") }
        defer { EVP_PKEY_CTX_free(context) }
        var key: OpaquePointer? = nil
        guard EVP_PKEY_fromdata_init(context) == 1,
            EVP_PKEY_fromdata(context, &key, publicKeySelection, params) == 1, let key
        else {
            ERR_clear_error()
            throw JWKError("OpenSSL refused the \(type) public key")
        }
        return key
    }
}

/// A JWK that cannot be turned into a usable public key.
public struct JWKError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
