/// Copies a size-prefixed C struct the other side filled (ABI rule 2: every struct starts with
/// `uint32_t struct_size`) into `zeroed`, reading min(declared size, our size) bytes: the fields
/// an older peer does not know stay as in `zeroed` (zero: absent).
///
/// Reading the other side's struct through a pointer typed as ours (possibly larger) would read
/// past the end of what it allocated; the byte copy never does. Host and plugins both use this.
public func copySizePrefixed<T>(_ source: UnsafeRawPointer, into zeroed: T) -> T {
    var value = zeroed
    let count = min(declaredStructSize(source), MemoryLayout<T>.size)
    withUnsafeMutableBytes(of: &value) { destination in
        destination.copyMemory(from: UnsafeRawBufferPointer(start: source, count: count))
    }
    return value
}

/// The `struct_size` a size-prefixed struct declares (its first four bytes, read unaligned).
public func declaredStructSize(_ source: UnsafeRawPointer) -> Int {
    Int(source.loadUnaligned(as: UInt32.self))
}
