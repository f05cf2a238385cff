import Foundation
import Testing
@testable import LaForgeTestSupport

@testable import LaForgeAudit
@testable import LaForgeCore
@testable import LaForgeGovernance
@testable import LaForgeIdentity
@testable import LaForgeJournal
@testable import LaForgePlugins
@testable import LaForgeSecrets

@Suite("SHA-256 (OpenSSL libcrypto)")
struct SHA256Tests {
    @Test("FIPS 180-4 known answers")
    func knownAnswers() throws {
        #expect(SHA256.hash([UInt8]()).hexString == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hash(Array("abc".utf8)).hexString == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)).hexString
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256.hash([UInt8](repeating: 0x61, count: 1_000_000)).hexString
            == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        #expect(SHA256.hash(Data("abc".utf8)) == SHA256.hash(Array("abc".utf8)))
    }

    @Test("leaf and node hashes are RFC 6962 §2.1's prefixed hashes")
    func prefixedHashes() {
        for count in [0, 1, 55, 56, 63, 64, 600, 4097] {
            let entry = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            #expect(SHA256.leafHash(entry) == SHA256.hash([0x00] + entry))
        }
        // RFC 6962 test tree: leaf hash of the empty entry.
        #expect(SHA256.leafHash([UInt8]()).hexString == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
        let left = SHA256.hash(Array("l".utf8))
        let right = SHA256.hash(Array("r".utf8))
        #expect(SHA256.nodeHash(left, right) == SHA256.hash([0x01] + left + right))
        #expect(SHA256.nodeHash(left, right) != SHA256.nodeHash(right, left))
        var raw = [UInt8](repeating: 0, count: 32)
        left.withUnsafeBytes { l in right.withUnsafeBytes { r in raw.withUnsafeMutableBytes { SHA256.nodeHash(l.baseAddress!, r.baseAddress!, into: $0.baseAddress!) } } }
        #expect(raw == SHA256.nodeHash(left, right))
    }

    @Test("a file hashes like its contents, across read boundaries")
    func file() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sha256-\(getpid()).bin").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let contents = (0..<(3 << 19) + 7).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        try Data(contents).write(to: URL(fileURLWithPath: path))
        #expect(try SHA256.hash(fileAt: path) == SHA256.hash(contents))
        #expect(throws: (any Error).self) { try SHA256.hash(fileAt: path + ".missing") }
    }

    @Test("hex round trip")
    func hex() {
        let bytes: [UInt8] = [0x00, 0x7f, 0x80, 0xff]
        #expect(bytes.hexString == "007f80ff")
        #expect([UInt8](hexString: "007F80ff") == bytes)
        #expect([UInt8](hexString: "0") == nil)
    }
}
