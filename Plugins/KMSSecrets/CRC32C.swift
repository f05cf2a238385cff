/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78): the checksum Google Cloud KMS and
/// Secret Manager use for end-to-end integrity. `"123456789"` → 0xE3069283 (RFC 3720 B.4).
/// Neither zlib nor libsodium has it; a table-driven version is fast enough for keys and secrets.
enum CRC32C {
    private static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 == 1 ? (value >> 1) ^ 0x82F6_3B78 : value >> 1 }
        return value
    }

    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 { bytes.withUnsafeBytes { checksum($0) } }
}
