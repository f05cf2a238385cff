import LaForgePluginKit
import Testing

/// The one base64 of the plugins, against RFC 4648 §10 and the rules of the three formats that
/// used to have a copy each (JOSE in the OIDC connector, Standard Webhooks secrets in SIEMWebhook,
/// cloud JSON blobs in KMSSecrets).
@Suite struct Base64Tests {
    static let vectors: [(String, String)] = [
        ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy"),
    ]

    @Test func encodesTheRFCVectors() {
        for (plain, encoded) in Self.vectors {
            #expect(Base64.encode(Array(plain.utf8)) == encoded)
            #expect(Base64.encode(Array(plain.utf8), urlSafe: true) == encoded.replacingOccurrences(of: "=", with: ""))
        }
        #expect(Base64.encode([0xFB, 0xFF]) == "+/8=")
        #expect(Base64.encode([0xFB, 0xFF], urlSafe: true) == "-_8")
    }

    @Test func decodesWhatEachFormatAccepts() {
        for (plain, encoded) in Self.vectors {
            let unpadded = encoded.replacingOccurrences(of: "=", with: "")
            #expect(Base64.decode(encoded, .standard) == Array(plain.utf8))
            #expect(Base64.decode(unpadded, .standard) == Array(plain.utf8))
            #expect(Base64.decode(encoded, .either) == Array(plain.utf8))
            #expect(Base64.decode(unpadded, .jose) == Array(plain.utf8))
        }
        #expect(Base64.decode("-_8", .jose) == [0xFB, 0xFF])
        #expect(Base64.decode("-_8=", .either) == [0xFB, 0xFF])
        #expect(Base64.decode("+/8", .either) == [0xFB, 0xFF])
    }

    @Test func refusesWhatEachFormatRefuses() {
        #expect(Base64.decode("Zg==", .jose) == nil, "JOSE has no padding")
        #expect(Base64.decode("+/8", .jose) == nil, "JOSE is the URL-safe alphabet only")
        #expect(Base64.decode("-_8", .standard) == nil, "the standard alphabet only")
        #expect(Base64.decode("Zh", .jose) == nil, "non-zero bits after the last byte")
        #expect(Base64.decode("Zh==", .standard) == nil, "non-zero bits after the last byte")
        #expect(Base64.decode("Zg==Zg", .either) == nil, "data after padding")
        #expect(Base64.decode("Zg=", .standard) == nil, "padding that does not complete a quantum")
        #expect(Base64.decode("Zm9v=", .standard) == nil, "padding after a complete quantum")
        #expect(Base64.decode("Zm9vY", .either) == nil, "one character cannot hold a byte")
        #expect(Base64.decode("Zm 9v", .either) == nil, "no whitespace")
    }
}
