import Foundation
import LaForgePlugins

extension ChainSource {
    /// Verifies what a sink stored, read back through its `read_back` (ABI 1.1): the stored
    /// bytes themselves, so the check is byte-exact, with the sink's own locations in every
    /// message. A record of a kind this host does not know, or a checkpoint that is not UTF-8,
    /// is malformed input. Reading stops at the first failure.
    /// `accepted` sees each entry the verifier accepted, borrowed for the call.
    public static func verifySink(
        _ sink: AuditSinkInstance, chainID: String?, verifier: ChainVerifier,
        progress: (UInt64) -> Void = { _ in }, accepted: (StoredRecord) -> Void = { _ in }
    ) throws(PluginCallError) -> VerificationReport {
        var entries: UInt64 = 0
        // Entries are hashed on the other cores while the sink reads on; `accepted` sees each
        // accepted entry as the verifier takes it, from the pipeline's copy.
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
                    pipeline.entry(record.data, at: .described(record.location), tag: record.seq)
                    entries += 1
                    if entries % 16_384 == 0 { progress(entries) }
                case .checkpoint:
                    guard let note = String(validating: record.data.bindMemory(to: UInt8.self), as: UTF8.self) else {
                        pipeline.other { $0.malformed("a stored checkpoint is not UTF-8", location: record.location) }
                        break
                    }
                    pipeline.other { $0.checkpoint(note, location: record.location) }
                case nil:
                    pipeline.other { $0.malformed("the sink returned a record of unknown kind \(record.rawKind)", location: record.location) }
                }
                return !pipeline.hasFailed
            }
            pipeline.drain()
        }
        progress(entries)
        return verifier.finish()
    }
}
