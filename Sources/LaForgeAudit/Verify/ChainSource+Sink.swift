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
        try sink.readBack(chainID: chainID) { record in
            switch record.kind {
            case .entry:
                if record.storedHash == nil && record.storedPrevHash == nil {
                    if verifier.entry(record.data, at: .described(record.location)) { accepted(record) }
                } else {
                    // Hashed once here, for the verifier and for the sink's own hash column.
                    let leafHash = SHA256.leafHash(record.data)
                    if verifier.entry(record.data, at: .described(record.location), leafHash: ChainHash(leafHash)) { accepted(record) }
                    if !verifier.hasFailed { columns.entry(record, leafHash: leafHash) }
                }
                entries += 1
                if entries % 16_384 == 0 { progress(entries) }
            case .checkpoint:
                guard let note = String(validating: record.data.bindMemory(to: UInt8.self), as: UTF8.self) else {
                    verifier.malformed("a stored checkpoint is not UTF-8", location: record.location)
                    break
                }
                verifier.checkpoint(note, location: record.location)
                if !verifier.hasFailed { columns.checkpoint(record, note: note) }
            case nil:
                verifier.malformed("the sink returned a record of unknown kind \(record.rawKind)", location: record.location)
            }
            return !verifier.hasFailed
        }
        progress(entries)
        return columns.merged(into: verifier.finish())
    }
}
