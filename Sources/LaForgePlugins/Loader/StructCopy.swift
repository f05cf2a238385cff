/// Copies a size-prefixed C struct written by a plugin into a zeroed host-side struct, reading
/// min(host size, plugin size) bytes (ABI rule 2). Returns the plugin's declared size too.
///
/// Reading the plugin's struct through a pointer typed as the host's (larger) struct would read
/// past the end of what the plugin allocated; the byte copy never does.
func copySizePrefixed<T>(
    _ source: UnsafeRawPointer, into zeroed: T
) -> (value: T, declaredSize: Int) {
    let declared = Int(source.loadUnaligned(as: UInt32.self))
    var value = zeroed
    let count = min(declared, MemoryLayout<T>.size)
    withUnsafeMutableBytes(of: &value) { destination in
        destination.baseAddress!.copyMemory(from: source, byteCount: count)
    }
    return (value, declared)
}
