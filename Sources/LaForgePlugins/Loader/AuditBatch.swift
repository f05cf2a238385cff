import Foundation
import PluginABI

/// What a sink stores: a chained entry or a signed checkpoint (ABI `laforge_record_kind`).
public enum AuditRecordKind: UInt32, Sendable {
    case entry = 1
    case checkpoint = 2
}

/// One record to hand to sinks, in Swift form.
public struct AuditRecord: Sendable, Equatable {
    public var kind: AuditRecordKind
    public var seq: UInt64
    public var hash: [UInt8]
    public var prevHash: [UInt8]?
    public var data: [UInt8]

    public init(kind: AuditRecordKind, seq: UInt64, hash: [UInt8], prevHash: [UInt8]?, data: [UInt8]) {
        precondition(hash.count == 32 && (prevHash?.count ?? 32) == 32, "hashes are SHA-256 (32 bytes)")
        self.kind = kind
        self.seq = seq
        self.hash = hash
        self.prevHash = prevHash
        self.data = data
    }
}

/// A batch laid out once in C memory — one byte arena, one array of `laforge_audit_record`, one
/// array of pointers to them — so it can be handed to several sinks and re-sent on RETRY without
/// copying or re-marshalling anything. The delivery worker lays it out straight from the
/// journal's frames (`Builder`), without a Swift array per record.
public final class AuditBatch: @unchecked Sendable {
    // @unchecked: immutable after init; plugins only read it (borrowed for the call).
    public let chainID: String
    public let count: Int
    private let kinds: [AuditRecordKind]
    private let seqs: [UInt64]
    private let arena: UnsafeMutableRawPointer
    private let cRecords: UnsafeMutablePointer<laforge_audit_record>
    private let cPointers: UnsafeMutablePointer<UnsafePointer<laforge_audit_record>?>
    private let cChainID: UnsafeMutablePointer<CChar>

    /// Collects records into one growing arena; `AuditBatch(chainID:building:)` takes it over.
    public final class Builder {
        fileprivate struct Item {
            var kind: AuditRecordKind
            var seq: UInt64
            var hash: Int
            var prevHash: Int?
            var data: Int
            var dataCount: Int
        }

        fileprivate var arena: UnsafeMutableRawPointer
        fileprivate var capacity: Int
        fileprivate var used = 0
        fileprivate var items: [Item] = []
        fileprivate var taken = false

        public init(expectedBytes: Int = 4096, expectedRecords: Int = 16) {
            capacity = max(expectedBytes, 64)
            arena = malloc(capacity)!
            items.reserveCapacity(expectedRecords)
        }

        deinit { if !taken { free(arena) } }

        public var count: Int { items.count }

        public func append(
            kind: AuditRecordKind, seq: UInt64, hash: UnsafeRawBufferPointer, prevHash: UnsafeRawBufferPointer?,
            data: UnsafeRawBufferPointer
        ) {
            precondition(hash.count == 32 && (prevHash?.count ?? 32) == 32, "hashes are SHA-256 (32 bytes)")
            items.append(
                Item(
                    kind: kind, seq: seq, hash: place(hash), prevHash: prevHash.map(place), data: place(data),
                    dataCount: data.count))
        }

        public func append(_ record: AuditRecord) {
            record.hash.withUnsafeBytes { hash in
                record.data.withUnsafeBytes { data in
                    if let prevHash = record.prevHash {
                        prevHash.withUnsafeBytes { append(kind: record.kind, seq: record.seq, hash: hash, prevHash: $0, data: data) }
                    } else {
                        append(kind: record.kind, seq: record.seq, hash: hash, prevHash: nil, data: data)
                    }
                }
            }
        }

        /// Copies `bytes` into the arena (growing it) and returns their offset.
        private func place(_ bytes: UnsafeRawBufferPointer) -> Int {
            if used + bytes.count > capacity {
                capacity = max(capacity * 2, used + bytes.count)
                arena = realloc(arena, capacity)!
            }
            if let base = bytes.baseAddress { (arena + used).copyMemory(from: base, byteCount: bytes.count) }
            used += bytes.count
            return used - bytes.count
        }
    }

    public convenience init(chainID: String, records: [AuditRecord]) {
        let builder = Builder(expectedBytes: records.reduce(0) { $0 + $1.data.count + 64 }, expectedRecords: records.count)
        for record in records { builder.append(record) }
        self.init(chainID: chainID, building: builder)
    }

    /// Takes over the builder's arena (the builder is spent).
    public init(chainID: String, building builder: Builder) {
        precondition(!builder.taken, "an AuditBatch.Builder builds one batch")
        builder.taken = true
        self.chainID = chainID
        count = builder.items.count
        kinds = builder.items.map(\.kind)
        seqs = builder.items.map(\.seq)
        arena = builder.arena
        cRecords = .allocate(capacity: max(count, 1))
        cPointers = .allocate(capacity: max(count, 1))
        cChainID = strdup(chainID)!
        let bytes = UnsafeRawPointer(arena)
        for (index, item) in builder.items.enumerated() {
            (cRecords + index).initialize(
                to: laforge_audit_record(
                    struct_size: UInt32(MemoryLayout<laforge_audit_record>.size),
                    kind: item.kind.rawValue,
                    seq: item.seq,
                    hash: (bytes + item.hash).assumingMemoryBound(to: UInt8.self),
                    prev_hash: item.prevHash.map { (bytes + $0).assumingMemoryBound(to: UInt8.self) },
                    data: (bytes + item.data).assumingMemoryBound(to: CChar.self),
                    data_len: item.dataCount))
            (cPointers + index).initialize(to: UnsafePointer(cRecords + index))
        }
    }

    deinit {
        free(arena)
        cRecords.deinitialize(count: count)
        cRecords.deallocate()
        cPointers.deallocate()
        free(cChainID)
    }

    public func kind(at index: Int) -> AuditRecordKind { kinds[index] }
    public func seq(at index: Int) -> UInt64 { seqs[index] }

    /// Record `index` in Swift form (copied out of the C layout).
    public func record(at index: Int) -> AuditRecord {
        let record = cRecords[index]
        func bytes(_ pointer: UnsafePointer<UInt8>, _ count: Int) -> [UInt8] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
        return AuditRecord(
            kind: kinds[index], seq: seqs[index], hash: bytes(record.hash, 32), prevHash: record.prev_hash.map { bytes($0, 32) },
            data: record.data_len == 0
                ? [] : bytes(UnsafeRawPointer(record.data!).assumingMemoryBound(to: UInt8.self), record.data_len))
    }

    public var records: [AuditRecord] { (0..<count).map(record(at:)) }

    /// The C view of the records from `start` on (a retry re-sends only what was not stored).
    /// Public for tools that call a plugin's vtable directly (the ABI benchmark).
    public func withCBatch<R>(from start: Int = 0, _ body: (UnsafePointer<laforge_audit_batch>) -> R) -> R {
        var batch = laforge_audit_batch(
            struct_size: UInt32(MemoryLayout<laforge_audit_batch>.size),
            chain_id: UnsafePointer(cChainID),
            records: UnsafePointer(cPointers + start),
            count: count - start)
        return body(&batch)
    }
}
