/// Copies a size-prefixed struct the other side filled: at most its declared size, the rest
/// left as in `value` (zero: absent), per rule 2 of the header.
public func copySizePrefixed<T>(_ source: UnsafeRawPointer, into value: T) -> T {
    var value = value
    let declared = Int(source.loadUnaligned(as: UInt32.self))
    let count = min(max(declared, 0), MemoryLayout<T>.size)
    withUnsafeMutableBytes(of: &value) { destination in
        destination.copyMemory(from: UnsafeRawBufferPointer(start: source, count: count))
    }
    return value
}
