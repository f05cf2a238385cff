import CSodium
import PluginABI

#if canImport(Glibc)
    import Glibc
#endif

/// Secret bytes (a plaintext, a data key, a secret value) in malloc'd storage that is locked in
/// memory where the OS allows and zeroed before it is freed. Handed to the host as a
/// `laforge_buffer`; the host gives it back through release(), which zeroes and frees it.
final class SecretBytes {
    private(set) var pointer: UnsafeMutablePointer<UInt8>?
    let count: Int

    /// Copies `bytes` and zeroes the source array afterwards (the caller's copy of a decoded value).
    init(consuming bytes: inout [UInt8]) {
        count = bytes.count
        let storage = UnsafeMutablePointer<UInt8>.allocate(capacity: max(count, 1))
        _ = sodium_mlock(storage, max(count, 1))
        bytes.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { storage.update(from: base, count: count) }
        }
        sodium_memzero(&bytes, bytes.count)
        pointer = storage
    }

    init(copying bytes: UnsafeRawBufferPointer) {
        count = bytes.count
        let storage = UnsafeMutablePointer<UInt8>.allocate(capacity: max(count, 1))
        _ = sodium_mlock(storage, max(count, 1))
        if let base = bytes.baseAddress { UnsafeMutableRawPointer(storage).copyMemory(from: base, byteCount: count) }
        pointer = storage
    }

    deinit {
        guard let pointer else { return }
        SecretBytes.wipe(pointer, max(count, 1))
    }

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: pointer, count: count) }

    /// Gives the storage to the host: `out` owns it until release().
    func transfer(to out: UnsafeMutablePointer<laforge_buffer>) {
        out.pointee.data = pointer
        out.pointee.len = count
        out.pointee.opaque = UnsafeMutableRawPointer(bitPattern: max(count, 1))  // the locked length
        pointer = nil
    }

    /// Zeroes, unlocks and frees a buffer transferred to the host.
    static func release(_ buffer: UnsafeMutablePointer<laforge_buffer>) {
        if let data = buffer.pointee.data {
            let locked = buffer.pointee.opaque.map { Int(bitPattern: $0) } ?? max(buffer.pointee.len, 1)
            wipe(data, locked)
        }
        buffer.pointee = laforge_buffer()
    }

    private static func wipe(_ pointer: UnsafeMutablePointer<UInt8>, _ length: Int) {
        // sodium_munlock zeroes before unlocking; memzero covers a failed mlock.
        sodium_memzero(pointer, length)
        _ = sodium_munlock(pointer, length)
        pointer.deallocate()
    }
}

/// Non-secret output (ciphertext, wrapped keys) handed to the host the same way, so release()
/// has one shape for every buffer.
func transferPublic(_ bytes: [UInt8], to out: UnsafeMutablePointer<laforge_buffer>) {
    var copy = bytes
    SecretBytes(consuming: &copy).transfer(to: out)
}
