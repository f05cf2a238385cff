import Foundation
import LaForgeCore
import LaForgeJournal
import LaForgePlugins

extension ChainSource {
    /// Verifies what a sink stored, read back through its `read_back` (ABI 1.1): the stored
    /// bytes themselves, so the check is byte-exact, with the sink's own locations in every
    /// message. A record of a kind this host does not know, or a checkpoint that is not UTF-8,
    /// is malformed input. Reading stops at the first failure. Hashes the sink keeps beside the
    /// bytes (a table's columns) must be what the bytes give (`StoredColumnCheck`).
    /// `accepted` sees each entry the verifier accepted, borrowed for the call.
    public static func verifySink(
        _ sink: AuditSinkInstance, chainID: String?, verifier: ChainVerifier,
        progress: (UInt64) -> Void = { _ in }, accepted: (StoredRecord) -> Void = { _ in }
    ) throws(PluginCallError) -> VerificationReport {
        var entries: UInt64 = 0
        var columns = StoredColumnCheck()
        // Entries are hashed on the other cores while the sink reads on; `accepted` sees each
        // accepted entry as the verifier takes it, from the pipeline's copy. Records with stored
        // hash columns are checked in their place, hashed once there for both checks (such a
        // sink is a database, whose reading is slower than the hashing).
        let pipeline = LeafHashPipeline(verifier: verifier)
        try withoutActuallyEscaping(accepted) { (accepted) throws(PluginCallError) in
            pipeline.accepted = { data, location, seq in
                accepted(StoredRecord(kind: .entry, rawKind: AuditRecordKind.entry.rawValue, seq: seq, data: data, location: location.description))
            }
            // The pipeline holds `accepted` only until it has fed everything.
            defer { pipeline.accepted = nil }
            try sink.readBack(chainID: chainID) { record in
                switch record.kind {
                case .entry:
                    if record.storedHash == nil && record.storedPrevHash == nil {
                        pipeline.entry(record.data, at: .described(record.location), tag: record.seq)
                    } else {
                        let copy = CopiedRecord(record)
                        pipeline.other { verifier in
                            copy.withRecord { record in
                                let leafHash = SHA256.leafHash(record.data)
                                if verifier.entry(record.data, at: .described(record.location), leafHash: ChainHash(leafHash)) { accepted(record) }
                                if !verifier.hasFailed { columns.entry(record, leafHash: leafHash) }
                            }
                        }
                    }
                    entries += 1
                    if entries % 16_384 == 0 { progress(entries) }
                case .checkpoint:
                    guard let note = String(validating: record.data.bindMemory(to: UInt8.self), as: UTF8.self) else {
                        pipeline.other { $0.malformed("a stored checkpoint is not UTF-8", location: record.location) }
                        break
                    }
                    let copy = CopiedRecord(record)
                    pipeline.other { verifier in
                        verifier.checkpoint(note, location: copy.location)
                        if !verifier.hasFailed { copy.withRecord { columns.checkpoint($0, note: note) } }
                    }
                case nil:
                    pipeline.other { $0.malformed("the sink returned a record of unknown kind \(record.rawKind)", location: record.location) }
                }
                return !pipeline.hasFailed
            }
            pipeline.drain()
        }
        progress(entries)
        return columns.merged(into: verifier.finish())
    }
}

/// A read-back record copied out of the sink's borrowed buffers, for a step the pipeline runs later.
private struct CopiedRecord {
    let kind: AuditRecordKind?
    let rawKind: UInt32
    let seq: UInt64
    let data: [UInt8]
    let location: String
    let storedHash: [UInt8]?
    let storedPrevHash: [UInt8]?

    init(_ record: StoredRecord) {
        (kind, rawKind, seq, location) = (record.kind, record.rawKind, record.seq, record.location)
        data = Array(record.data)
        storedHash = record.storedHash.map { Array($0) }
        storedPrevHash = record.storedPrevHash.map { Array($0) }
    }

    func withRecord(_ body: (StoredRecord) -> Void) {
        data.withUnsafeBytes { data in
            func withOptional(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer?) -> Void) {
                if let bytes { bytes.withUnsafeBytes { body($0) } } else { body(nil) }
            }
            withOptional(storedHash) { hash in
                withOptional(storedPrevHash) { prevHash in
                    body(StoredRecord(
                        kind: kind, rawKind: rawKind, seq: seq, data: data, location: location,
                        storedHash: hash, storedPrevHash: prevHash))
                }
            }
        }
    }
}
