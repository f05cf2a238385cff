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
/// copying or re-marshalling anything.
public final class AuditBatch: @unchecked Sendable {
    // @unchecked: immutable after init; plugins only read it (borrowed for the call).
    public let records: [AuditRecord]
    public let chainID: String
    private let arena: UnsafeMutableRawBufferPointer
    private let cRecords: UnsafeMutablePointer<laforge_audit_record>
    private let cPointers: UnsafeMutablePointer<UnsafePointer<laforge_audit_record>?>
    private let cChainID: UnsafeMutablePointer<CChar>

    public init(chainID: String, records: [AuditRecord]) {
        self.records = records
        self.chainID = chainID
        let bytes = records.reduce(0) { $0 + $1.data.count + 64 }
        arena = .allocate(byteCount: max(bytes, 1), alignment: 16)
        cRecords = .allocate(capacity: max(records.count, 1))
        cPointers = .allocate(capacity: max(records.count, 1))
        cChainID = strdup(chainID)!
        var offset = 0
        func place(_ bytes: [UInt8]) -> UnsafeMutablePointer<UInt8> {
            let destination = arena.baseAddress!.advanced(by: offset).assumingMemoryBound(to: UInt8.self)
            bytes.withUnsafeBufferPointer { destination.update(from: $0.baseAddress!, count: bytes.count) }
            offset += bytes.count
            return destination
        }
        for (index, record) in records.enumerated() {
            let hash = place(record.hash)
            let prevHash = record.prevHash.map(place)
            let data = place(record.data)
            (cRecords + index).initialize(
                to: laforge_audit_record(
                    struct_size: UInt32(MemoryLayout<laforge_audit_record>.size),
                    kind: record.kind.rawValue,
                    seq: record.seq,
                    hash: UnsafePointer(hash),
                    prev_hash: prevHash.map { UnsafePointer($0) },
                    data: UnsafeRawPointer(data).assumingMemoryBound(to: CChar.self),
                    data_len: record.data.count))
            (cPointers + index).initialize(to: UnsafePointer(cRecords + index))
        }
    }

    deinit {
        arena.deallocate()
        cRecords.deinitialize(count: records.count)
        cRecords.deallocate()
        cPointers.deallocate()
        free(cChainID)
    }

    public var count: Int { records.count }

    /// The C view of the records from `start` on (a retry re-sends only what was not stored).
    /// Public for tools that call a plugin's vtable directly (the ABI benchmark).
    public func withCBatch<R>(from start: Int = 0, _ body: (UnsafePointer<laforge_audit_batch>) -> R) -> R {
        var batch = laforge_audit_batch(
            struct_size: UInt32(MemoryLayout<laforge_audit_batch>.size),
            chain_id: UnsafePointer(cChainID),
            records: UnsafePointer(cPointers + start),
            count: records.count - start)
        return body(&batch)
    }
}
