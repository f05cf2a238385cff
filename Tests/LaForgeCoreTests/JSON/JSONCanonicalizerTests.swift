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

@Suite("JSONCanonicalizer (RFC 8785)")
struct JSONCanonicalizerTests {
    @Test(
        "cyberphone/json-canonicalization vectors",
        arguments: ["arrays", "french", "structures", "unicode", "values", "weird"])
    func upstreamVector(name: String) throws {
        let input = try JSONParser.parse(try JSONFixtures.bytes("jcs/input/\(name).json"))
        let expected = try JSONFixtures.bytes("jcs/output/\(name).json")
        #expect(
            String(decoding: JSONCanonicalizer.canonicalize(input), as: UTF8.self)
                == String(decoding: expected, as: UTF8.self))
        #expect(JSONCanonicalizer.canonicalize(input) == expected)
    }

    /// RFC 8785 Appendix B: IEEE-754 bit patterns and their required serialization.
    @Test(
        "RFC 8785 Appendix B number serialization",
        arguments: [
            (0x0000_0000_0000_0000, "0"),
            (0x8000_0000_0000_0000, "0"),
            (0x0000_0000_0000_0001, "5e-324"),
            (0x8000_0000_0000_0001, "-5e-324"),
            (0x7FEF_FFFF_FFFF_FFFF, "1.7976931348623157e+308"),
            (0xFFEF_FFFF_FFFF_FFFF, "-1.7976931348623157e+308"),
            (0x4340_0000_0000_0000, "9007199254740992"),
            (0xC340_0000_0000_0000, "-9007199254740992"),
            (0x4430_0000_0000_0000, "295147905179352830000"),
            (0x44B5_2D02_C7E1_4AF5, "9.999999999999997e+22"),
            (0x44B5_2D02_C7E1_4AF6, "1e+23"),
            (0x44B5_2D02_C7E1_4AF7, "1.0000000000000001e+23"),
            (0x444B_1AE4_D6E2_EF4E, "999999999999999700000"),
            (0x444B_1AE4_D6E2_EF4F, "999999999999999900000"),
            (0x444B_1AE4_D6E2_EF50, "1e+21"),
            (0x3EB0_C6F7_A0B5_ED8C, "9.999999999999997e-7"),
            (0x3EB0_C6F7_A0B5_ED8D, "0.000001"),
            (0x41B3_DE43_5555_5553, "333333333.3333332"),
            (0x41B3_DE43_5555_5554, "333333333.33333325"),
            (0x41B3_DE43_5555_5555, "333333333.3333333"),
            (0x41B3_DE43_5555_5556, "333333333.3333334"),
            (0x41B3_DE43_5555_5557, "333333333.33333343"),
            (0xBECB_F647_612F_3696, "-0.0000033333333333333333"),
            (0x4314_3FF3_C1CB_0959, "1424953923781206.2"),
        ] as [(UInt64, String)])
    func appendixB(bits: UInt64, expected: String) {
        #expect(JSONCanonicalizer.formatNumber(Double(bitPattern: bits)) == expected)
    }

    @Test("exponent boundaries of Number.prototype.toString")
    func exponentBoundaries() {
        let cases: [(Double, String)] = [
            (1e21, "1e+21"), (1e20, "100000000000000000000"), (123e18, "123000000000000000000"),
            (1e-6, "0.000001"), (1e-7, "1e-7"), (1.5e-7, "1.5e-7"), (-1e-7, "-1e-7"),
            (0.1, "0.1"), (-0.5, "-0.5"), (4.5, "4.5"), (2e-3, "0.002"), (1e30, "1e+30"),
            (123.456, "123.456"), (-0.0, "0"), (1, "1"), (-1, "-1"), (100, "100"),
            (9_007_199_254_740_994, "9007199254740994"), (1.5e300, "1.5e+300"),
            (0.000001234, "0.000001234"), (1.234e-7, "1.234e-7"),
        ]
        for (number, expected) in cases {
            #expect(JSONCanonicalizer.formatNumber(number) == expected, "\(number)")
        }
        #expect(JSONCanonicalizer.formatNumber(.nan) == "null")
        #expect(JSONCanonicalizer.formatNumber(.infinity) == "null")
    }

    @Test("string escaping follows RFC 8785 §3.2.2.2")
    func stringEscaping() {
        let value = JSONValue.string("\u{0}\u{8}\t\n\u{B}\u{C}\r\u{1F}\"\\/\u{7F}\u{2028}é😂")
        #expect(
            JSONCanonicalizer.canonicalString(value)
                == "\"\\u0000\\b\\t\\n\\u000b\\f\\r\\u001f\\\"\\\\/\u{7F}\u{2028}é😂\"")
    }

    @Test("keys sort by UTF-16 code units, not by code points")
    func utf16KeyOrder() {
        // U+FF61 is above U+1F600 as a code point but below its surrogate 0xD83D in UTF-16.
        let value: JSONValue = ["\u{FF61}": 1, "\u{1F600}": 2, "a": 3, "\u{E000}": 4, "": 5]
        #expect(
            JSONCanonicalizer.canonicalString(value) == "{\"\":5,\"a\":3,\"\u{1F600}\":2,\"\u{E000}\":4,\"\u{FF61}\":1}"
        )
    }

    @Test("canonical form parses back to the same value")
    func roundTrip() throws {
        for name in ["arrays", "french", "structures", "unicode", "values", "weird"] {
            let value = try JSONParser.parse(try JSONFixtures.bytes("jcs/input/\(name).json"))
            #expect(try JSONParser.parse(JSONCanonicalizer.canonicalize(value)) == value)
        }
    }

    /// Regenerates the first lines of cyberphone's es6testfile100m (README in the fixtures'
    /// upstream: a fixed list, 2000 subnormal neighbours, then a SHA-256 chain of random
    /// doubles), formats each number and compares the SHA-256 of the whole file with the
    /// published checksum, i.e. against the output of a real ECMAScript engine.
    @Test("ES6 number formatting matches the es6testfile checksums")
    func es6TestFile() {
        let published: [(lines: Int, sha256: String)] = [
            (1000, "be18b62b6f69cdab33a7e0dae0d9cfa869fda80ddc712221570f9f40a5878687"),
            (10000, "b9f7a8e75ef22a835685a52ccba7f7d6bdc99e34b010992cbc5864cd12be6892"),
            (100000, "22776e6d4b49fa294a0d0f349268e5c28808fe7e0cb2bcbe28f63894e494d4c7"),
        ]
        var generator = ES6TestSequence()
        var hasher = SHA256ForTests()
        var line = 0
        for checkpoint in published {
            var chunk: [UInt8] = []
            while line < checkpoint.lines {
                let bits = generator.next()
                chunk.append(contentsOf: String(bits, radix: 16).utf8)
                chunk.append(UInt8(ascii: ","))
                chunk.append(contentsOf: JSONCanonicalizer.formatNumber(Double(bitPattern: bits)).utf8)
                chunk.append(UInt8(ascii: "\n"))
                line += 1
            }
            hasher.update(chunk)
            var snapshot = hasher
            let digest = snapshot.finalize().map { String(format: "%02x", $0) }.joined()
            #expect(digest == checkpoint.sha256, "first \(checkpoint.lines) lines")
        }
    }

    @Test("SHA-256 helper matches FIPS 180-4 examples")
    func sha256Helper() {
        let abc = SHA256ForTests.hash(Array("abc".utf8)).map { String(format: "%02x", $0) }.joined()
        #expect(abc == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let long = SHA256ForTests.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
        #expect(
            long.map { String(format: "%02x", $0) }.joined()
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }
}

/// The deterministic double sequence of cyberphone's numgen.js.
private struct ES6TestSequence {
    private static let fixed: [UInt64] = [
        0x0000_0000_0000_0000, 0x8000_0000_0000_0000, 0x0000_0000_0000_0001, 0x8000_0000_0000_0001,
        0xc466_9669_5dbd_1cc3, 0xc432_11ed_e497_4a35, 0xc3fc_e97c_a0f2_1056, 0xc3c7_2130_80c1_a6ac,
        0xc392_80f3_9a34_8556, 0xc35d_9b1f_5d20_d557, 0xc327_af4c_4a80_aaac, 0xc2f2_f2a3_6ecd_5556,
        0xc2be_5105_7e15_5558, 0xc288_40d1_31aa_aaac, 0xc253_670d_c155_5557, 0xc21f_0b49_3555_5557,
        0xc1e8_d5d4_2aaa_aaac, 0xc1b3_de43_5555_5556, 0xc17f_ca05_5555_5556, 0xc149_6e6a_aaaa_aaab,
        0xc114_5855_5555_5555, 0xc0e0_46aa_aaaa_aaab, 0xc0aa_0aaa_aaaa_aaaa, 0xc074_d555_5555_5555,
        0xc040_aaaa_aaaa_aaab, 0xc00a_aaaa_aaaa_aaab, 0xbfd5_5555_5555_5555, 0xbfa1_1111_1111_1111,
        0xbf6b_4e81_b4e8_1b4f, 0xbf35_d867_c3ec_e2a5, 0xbf01_79ec_9cbd_821e, 0xbecb_f647_612f_3696,
        0xbe96_5e9f_80f2_9212, 0xbe61_e54c_6728_74db, 0xbe2c_a213_d840_baf8, 0xbdf6_e80f_e033_c8c6,
        0xbdc2_533f_e68f_d3d2, 0xbd8d_51ff_d74c_861c, 0xbd57_74cc_ac3d_3817, 0xbd22_c3d6_f030_f9ac,
        0xbcee_0624_b381_8f79, 0xbcb8_04ea_2934_72c7, 0xbc83_3721_ba90_5bd3, 0xbc4e_be9c_5db3_c61e,
        0xbc18_987d_17c3_04e5, 0xbbe3_ad30_dfcf_371d, 0xbbaf_7b81_6618_582f, 0xbb79_2f9a_b813_79bf,
        0xbb44_2615_600f_9499, 0xbb10_1e77_800c_76e1, 0xbad9_ca58_cce0_be35, 0xbaa4_a1e0_a3e6_fe90,
        0xba70_8180_831f_320d, 0xba3a_68cd_9e98_5016, 0x4466_9669_5dbd_1cc3, 0x4432_11ed_e497_4a35,
        0x43fc_e97c_a0f2_1056, 0x43c7_2130_80c1_a6ac, 0x4392_80f3_9a34_8556, 0x435d_9b1f_5d20_d557,
        0x4327_af4c_4a80_aaac, 0x42f2_f2a3_6ecd_5556, 0x42be_5105_7e15_5558, 0x4288_40d1_31aa_aaac,
        0x4253_670d_c155_5557, 0x421f_0b49_3555_5557, 0x41e8_d5d4_2aaa_aaac, 0x41b3_de43_5555_5556,
        0x417f_ca05_5555_5556, 0x4149_6e6a_aaaa_aaab, 0x4114_5855_5555_5555, 0x40e0_46aa_aaaa_aaab,
        0x40aa_0aaa_aaaa_aaaa, 0x4074_d555_5555_5555, 0x4040_aaaa_aaaa_aaab, 0x400a_aaaa_aaaa_aaab,
        0x3fd5_5555_5555_5555, 0x3fa1_1111_1111_1111, 0x3f6b_4e81_b4e8_1b4f, 0x3f35_d867_c3ec_e2a5,
        0x3f01_79ec_9cbd_821e, 0x3ecb_f647_612f_3696, 0x3e96_5e9f_80f2_9212, 0x3e61_e54c_6728_74db,
        0x3e2c_a213_d840_baf8, 0x3df6_e80f_e033_c8c6, 0x3dc2_533f_e68f_d3d2, 0x3d8d_51ff_d74c_861c,
        0x3d57_74cc_ac3d_3817, 0x3d22_c3d6_f030_f9ac, 0x3cee_0624_b381_8f79, 0x3cb8_04ea_2934_72c7,
        0x3c83_3721_ba90_5bd3, 0x3c4e_be9c_5db3_c61e, 0x3c18_987d_17c3_04e5, 0x3be3_ad30_dfcf_371d,
        0x3baf_7b81_6618_582f, 0x3b79_2f9a_b813_79bf, 0x3b44_2615_600f_9499, 0x3b10_1e77_800c_76e1,
        0x3ad9_ca58_cce0_be35, 0x3aa4_a1e0_a3e6_fe90, 0x3a70_8180_831f_320d, 0x3a3a_68cd_9e98_5016,
        0x4024_0000_0000_0000, 0x4014_0000_0000_0000, 0x3fe0_0000_0000_0000, 0x3fa9_9999_9999_999a,
        0x3f74_7ae1_47ae_147b, 0x3f40_624d_d2f1_a9fc, 0x3f0a_36e2_eb1c_432d, 0x3ed4_f8b5_88e3_68f1,
        0x3ea0_c6f7_a0b5_ed8d, 0x3e6a_d7f2_9abc_af48, 0x3e35_798e_e230_8c3a, 0x3ed5_3922_3589_fa95,
        0x3ed4_ff26_cd5a_7781, 0x3ed4_f95a_7622_83ff, 0x3ed4_f8c6_0703_520c, 0x3ed4_f8b7_2f19_cd0d,
        0x3ed4_f8b5_b31c_0c8d, 0x3ed4_f8b5_8d1c_461a, 0x3ed4_f8b5_894f_7f0e, 0x3ed4_f8b5_88ee_37f3,
        0x3ed4_f8b5_88e4_7da4, 0x3ed4_f8b5_88e3_849c, 0x3ed4_f8b5_88e3_6bb5, 0x3ed4_f8b5_88e3_6937,
        0x3ed4_f8b5_88e3_68f8, 0x3ed4_f8b5_88e3_68f1, 0x3ff0_0000_0000_0000, 0xbff0_0000_0000_0000,
        0xbfef_ffff_ffff_fffa, 0xbfef_ffff_ffff_fffb, 0x3fef_ffff_ffff_fffa, 0x3fef_ffff_ffff_fffb,
        0x3fef_ffff_ffff_fffc, 0x3fef_ffff_ffff_fffe, 0xbfef_ffff_ffff_ffff, 0xbfef_ffff_ffff_ffff,
        0x3fef_ffff_ffff_ffff, 0x3fef_ffff_ffff_ffff, 0x3fd3_3333_3333_3332, 0x3fd3_3333_3333_3333,
        0x3fd3_3333_3333_3334, 0x0010_0000_0000_0000, 0x000f_ffff_ffff_fffd, 0x000f_ffff_ffff_ffff,
        0x7fef_ffff_ffff_ffff, 0xffef_ffff_ffff_ffff, 0x4340_0000_0000_0000, 0xc340_0000_0000_0000,
        0x4430_0000_0000_0000, 0x44b5_2d02_c7e1_4af5, 0x44b5_2d02_c7e1_4af6, 0x44b5_2d02_c7e1_4af7,
        0x444b_1ae4_d6e2_ef4e, 0x444b_1ae4_d6e2_ef4f, 0x444b_1ae4_d6e2_ef50, 0x3eb0_c6f7_a0b5_ed8c,
        0x3eb0_c6f7_a0b5_ed8d, 0x41b3_de43_5555_5553, 0x41b3_de43_5555_5554, 0x41b3_de43_5555_5555,
        0x41b3_de43_5555_5556, 0x41b3_de43_5555_5557, 0xbecb_f647_612f_3696, 0x4314_3ff3_c1cb_0959,
    ]
    private var position = 0
    private var block = [UInt8](repeating: 0, count: 32)
    private var pending: [UInt64] = []

    mutating func next() -> UInt64 {
        defer { position += 1 }
        if position < Self.fixed.count { return Self.fixed[position] }
        if position < Self.fixed.count + 2000 { return 0x0010_0000_0000_0000 + UInt64(position - Self.fixed.count) }
        while true {
            if pending.isEmpty {
                block = SHA256ForTests.hash(block)
                pending = (0..<4).map { word in
                    (0..<8).reduce(UInt64(0)) { $0 | UInt64(block[word * 8 + $1]) << (8 * UInt64($1)) }
                }
            }
            let bits = pending.removeFirst()
            let value = Double(bitPattern: bits)
            if value != 0 && value.isFinite { return bits }
        }
    }
}
