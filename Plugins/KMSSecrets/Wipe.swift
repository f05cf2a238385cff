import CSodium

/// Zeroes a byte array the plugin is done with (a decoded plaintext, a response body holding one).
/// Best effort: Swift may have copied the bytes before; the buffers handed to the host are exact.
func sodium_wipe(_ bytes: inout [UInt8]) {
    bytes.withUnsafeMutableBytes { sodium_memzero($0.baseAddress, $0.count) }
}
