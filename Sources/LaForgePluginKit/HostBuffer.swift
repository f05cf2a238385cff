import LaForgeABI
import PluginABI

#if canImport(Glibc)
    import Glibc
#endif

/// Output handed to the host in a `laforge_buffer` the kit allocates (malloc) and its `release`
/// zeroes and frees: what an IdP connector returns may hold tokens (sessions, identities).
public enum HostBuffer {
    /// Copies `bytes` into a fresh buffer owned by `out` until `release`.
    public static func fill(_ out: UnsafeMutablePointer<laforge_buffer>, _ bytes: [UInt8]) -> Int32 {
        guard let memory = malloc(max(bytes.count, 1))?.assumingMemoryBound(to: UInt8.self) else { return Status.internalError }
        bytes.withUnsafeBufferPointer { if let base = $0.baseAddress { memory.update(from: base, count: $0.count) } }
        out.pointee = laforge_buffer(data: memory, len: bytes.count, opaque: nil)
        return Status.ok
    }

    /// Zeroes and frees a buffer `fill` made, and leaves it empty.
    public static func release(_ buffer: UnsafeMutablePointer<laforge_buffer>) {
        guard let data = buffer.pointee.data else { return }
        explicit_bzero(data, buffer.pointee.len)
        free(data)
        buffer.pointee = laforge_buffer()
    }

}
