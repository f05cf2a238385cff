import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Searches this process's writable memory (heap, anonymous mappings, thread stacks) through
/// /proc/self/mem for bytes equal to `masked` XOR `mask`, so the secret being searched for never
/// has to exist in the test itself: the test holds only its masked form, and memory is compared
/// byte by byte against it unmasked on the fly (candidates found with memchr on the first byte).
enum ProcessMemoryScan {
    static func contains(masked: [UInt8], mask: UInt8) throws -> Bool {
        // /proc/self/maps is not read atomically: while other test threads map and unmap, one
        // read can miss a region. Two reads, united, make a miss far less likely.
        var regions: [Substring] = []
        for _ in 0..<2 {
            let maps = try String(contentsOfFile: "/proc/self/maps", encoding: .utf8)
            regions += maps.split(separator: "\n")
        }
        let memory = open("/proc/self/mem", O_RDONLY)
        guard memory >= 0 else { throw AuditTestFailure("cannot open /proc/self/mem: \(String(cString: strerror(errno)))") }
        defer { close(memory) }
        let chunkSize = 1 << 22
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize + masked.count, alignment: 16)
        defer { scratch.deallocate() }
        let bytes = scratch.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let first = Int32(masked[0] ^ mask)
        for line in Set(regions).sorted() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, fields[1].hasPrefix("rw") else { continue }
            let bounds = fields[0].split(separator: "-")
            guard bounds.count == 2, var start = UInt(bounds[0], radix: 16), let end = UInt(bounds[1], radix: 16) else { continue }
            while start < end {
                let count = Int(min(UInt(chunkSize + masked.count), end - start))
                var read = pread(memory, scratch.baseAddress!, count, off_t(Int64(bitPattern: UInt64(start))))
                // Interrupted (child processes of other tests send SIGCHLD): read the same place
                // again rather than skip it.
                var interruptions = 0
                while read < 0, errno == EINTR, interruptions < 100 {
                    interruptions += 1
                    read = pread(memory, scratch.baseAddress!, count, off_t(Int64(bitPattern: UInt64(start))))
                }
                guard read > 0 else {
                    // A page unmapped since maps was read (other threads allocate and free while
                    // the scan runs): skip that page, not the rest of the region.
                    start += UInt(pageSize)
                    continue
                }
                var offset = 0
                while offset + masked.count <= read, let hit = memchr(bytes + offset, first, read - masked.count + 1 - offset) {
                    let position = UnsafeMutableRawPointer(hit).assumingMemoryBound(to: UInt8.self) - bytes
                    var matched = 1
                    while matched < masked.count, bytes[position + matched] ^ mask == masked[matched] { matched += 1 }
                    if matched == masked.count {
                        memset(scratch.baseAddress!, 0, scratch.count)
                        return true
                    }
                    offset = position + 1
                }
                // A short read stops at an unreadable page: go on from what was read, keeping an
                // overlap of one secret less a byte so a copy across the boundary is still seen.
                start += UInt(max(1, read - masked.count + 1))
            }
        }
        memset(scratch.baseAddress!, 0, scratch.count)
        return false
    }
}
