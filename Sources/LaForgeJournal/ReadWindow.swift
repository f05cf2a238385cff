import LaForgeCore

#if canImport(Glibc)
    import Glibc
#endif

/// A reusable read buffer over one file: `bytes(at:count:)` serves ranges from memory and refills
/// with one large `pread` when a range is not buffered, so walking small frames costs one system
/// call per window rather than per frame.
///
/// A window never outlives one read call's view of a file (`reset` before reuse): bytes beyond
/// the committed end may be rewritten after a rolled-back group, and must not be served stale.
final class ReadWindow {
    static let defaultCapacity = 1 << 20

    private var storage: UnsafeMutableRawPointer
    private var capacity: Int
    private var fileStart: UInt64 = 0
    private var count = 0
    private var file: JournalFileHandle?

    init(capacity: Int = ReadWindow.defaultCapacity) {
        self.capacity = capacity
        storage = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
    }

    deinit { storage.deallocate() }

    func reset() {
        count = 0
        file = nil
    }

    /// `count` bytes of `handle` at `offset`, valid until the next call; nil when the file ends
    /// first.
    func bytes(_ handle: JournalFileHandle, at offset: UInt64, count wanted: Int) throws(JournalError)
        -> UnsafeRawBufferPointer?
    {
        if file === handle, offset >= fileStart, offset + UInt64(wanted) <= fileStart + UInt64(count) {
            return UnsafeRawBufferPointer(start: storage + Int(offset - fileStart), count: wanted)
        }
        if wanted > capacity {
            storage.deallocate()
            capacity = max(wanted, capacity * 2)
            storage = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
        }
        file = handle
        fileStart = offset
        count = 0
        switch FileIO.pread(
            handle.fd, into: UnsafeMutableRawBufferPointer(start: storage, count: capacity), at: offset)
        {
        case .failure(let error):
            file = nil
            throw JournalError.io(error.code, path: handle.path, offset: offset, "cannot read")
        case .success(let read):
            count = read
        }
        guard count >= wanted else { return nil }
        return UnsafeRawBufferPointer(start: storage, count: wanted)
    }
}
