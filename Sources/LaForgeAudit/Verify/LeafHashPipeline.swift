import Dispatch
import Foundation
import LaForgeCore
import LaForgeJournal

/// Feeds a `ChainVerifier` in storage order while the entries' leaf hashes — SHA-256 over every
/// stored byte, most of verification's work — are taken on the other cores. A source hands each
/// entry and everything else it finds (checkpoints, problems) to the pipeline in order; entries
/// are copied into batches, a worker hashes a whole batch, and the verifier then sees the batch's
/// items in their order with each entry's hash already taken. Nothing is verified differently:
/// the verifier makes the same checks in the same order; only where the hashes are computed
/// changed. A source reading ahead may read a few batches past the first failure, which the
/// verifier ignores (it stops at the first).
final class LeafHashPipeline {
    /// Bytes per batch: a worker's job, large against a dispatch, small against the input.
    static let batchBytes = 256 << 10
    /// Batches hashed ahead of the verifier: enough to keep every core busy.
    static let batchesAhead = 2 * ProcessInfo.processInfo.activeProcessorCount + 2

    let verifier: ChainVerifier
    /// Called instead of feeding the verifier when an entry's hash differs from the hash its
    /// store recorded beside it (a journal frame's header): with the entry's `seq` and `tag`.
    var storedHashMismatch: (_ seq: UInt64?, _ tag: UInt64) -> Void = { _, _ in }
    /// Called with each entry the verifier accepted, borrowed for the call, with its tag.
    var accepted: ((_ bytes: UnsafeRawBufferPointer, _ location: EntryLocation, _ tag: UInt64) -> Void)?

    private var filling = HashBatch()
    private var ahead: [HashBatch] = []
    private var spare: [HashBatch] = []

    init(verifier: ChainVerifier) { self.verifier = verifier }

    /// Whether the verifier has failed on what it has seen so far (it may lag the source by the
    /// batches in flight).
    var hasFailed: Bool { verifier.hasFailed }

    /// One stored entry, copied. `storedHash` is a hash the store keeps beside it, which must
    /// equal the computed one (else `storedHashMismatch`); `seq` and `tag` are the source's own.
    func entry(_ bytes: UnsafeRawBufferPointer, at location: EntryLocation, storedHash: ChainHash? = nil, seq: UInt64? = nil, tag: UInt64 = 0) {
        if filling.byteCount > 0, filling.byteCount + bytes.count > Self.batchBytes { submit() }
        filling.add(bytes, EntryItem(location: location, storedHash: storedHash, seq: seq, tag: tag))
    }

    /// Anything that is not an entry, run on the verifier in its place in the order.
    func other(_ step: @escaping (ChainVerifier) -> Void) {
        filling.items.append(.other(step))
    }

    /// Feeds everything still queued; then the verifier has seen the whole input.
    func drain() {
        submit()
        while !ahead.isEmpty { verifyOldest() }
    }

    private func submit() {
        guard !filling.items.isEmpty else { return }
        let batch = filling
        filling = spare.popLast() ?? HashBatch()
        ahead.append(batch)
        DispatchQueue.global().async {
            batch.hashEntries()
            batch.done.signal()
        }
        if ahead.count >= Self.batchesAhead { verifyOldest() }
    }

    private func verifyOldest() {
        let batch = ahead.removeFirst()
        batch.done.wait()
        batch.feed(self)
        batch.reset()
        spare.append(batch)
    }
}

struct EntryItem {
    var location: EntryLocation
    var storedHash: ChainHash?
    var seq: UInt64?
    var tag: UInt64
    var offset = 0
    var count = 0
}

/// A batch of copied entries and the steps between them, owned by one thread at a time: the
/// source fills it, a worker hashes it (publishing through `done`), the verifier consumes it.
private final class HashBatch: @unchecked Sendable {
    enum Item {
        case entry(index: Int)
        case other((ChainVerifier) -> Void)
    }

    var items: [Item] = []
    private var entries: [EntryItem] = []
    private var bytes: UnsafeMutableRawPointer
    private var capacity: Int
    private(set) var byteCount = 0
    private var hashes: UnsafeMutablePointer<ChainHash>
    private var hashCapacity: Int
    let done = DispatchSemaphore(value: 0)

    init() {
        capacity = LeafHashPipeline.batchBytes
        bytes = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
        hashCapacity = 1024
        hashes = UnsafeMutablePointer<ChainHash>.allocate(capacity: hashCapacity)
    }

    deinit {
        bytes.deallocate()
        hashes.deallocate()
    }

    func add(_ entry: UnsafeRawBufferPointer, _ item: EntryItem) {
        if byteCount + entry.count > capacity {
            // One entry larger than a batch: the batch grows for it.
            let larger = UnsafeMutableRawPointer.allocate(byteCount: byteCount + entry.count, alignment: 16)
            larger.copyMemory(from: bytes, byteCount: byteCount)
            bytes.deallocate()
            bytes = larger
            capacity = byteCount + entry.count
        }
        if let base = entry.baseAddress { (bytes + byteCount).copyMemory(from: base, byteCount: entry.count) }
        var item = item
        item.offset = byteCount
        item.count = entry.count
        byteCount += entry.count
        items.append(.entry(index: entries.count))
        entries.append(item)
    }

    func hashEntries() {
        if entries.count > hashCapacity {
            hashes.deallocate()
            hashCapacity = entries.count
            hashes = UnsafeMutablePointer<ChainHash>.allocate(capacity: hashCapacity)
        }
        for index in entries.indices {
            let entry = entries[index]
            hashes[index] = ChainHash.leafHash(of: UnsafeRawBufferPointer(start: bytes + entry.offset, count: entry.count))
        }
    }

    func feed(_ pipeline: LeafHashPipeline) {
        let verifier = pipeline.verifier
        for item in items {
            guard !verifier.hasFailed else { return }
            switch item {
            case .other(let step):
                step(verifier)
            case .entry(let index):
                let entry = entries[index]
                let hash = hashes[index]
                if let stored = entry.storedHash, stored != hash {
                    pipeline.storedHashMismatch(entry.seq, entry.tag)
                    continue
                }
                let stored = UnsafeRawBufferPointer(start: bytes + entry.offset, count: entry.count)
                if verifier.entry(stored, at: entry.location, leafHash: hash), let accepted = pipeline.accepted {
                    accepted(stored, entry.location, entry.tag)
                }
            }
        }
    }

    func reset() {
        items.removeAll(keepingCapacity: true)
        entries.removeAll(keepingCapacity: true)
        byteCount = 0
    }
}
