import Foundation
import LaForgeCore
import LaForgeJournal
import LaForgePlugins

extension ChainSource {
    /// Verifies the journal of `config` and returns its leaf hashes, for comparing sinks with it
    /// (`verify chain --sink NAME --against-journal`, and a periodic verifier such as
    /// `ChainWatch` or `serve`'s). The journal is read, never opened for writing. When the
    /// journal itself fails, its report is returned instead of leaves.
    public static func verifiedJournalLeaves(
        config: LaForgeConfig, verifierKeys: [Ed25519VerifierKey]
    ) throws(JournalFileReader.OpenError) -> (leaves: JournalLeaves?, report: VerificationReport) {
        let verifier = ChainVerifier(
            verifierKeys: verifierKeys,
            origin: config.audit.checkpoints.origin ?? AuditLog.defaultOrigin(chainID: config.audit.chainID),
            chainID: config.audit.chainID)
        verifier.collectsLeaves = true
        let report = try verifyJournal(directory: journalDirectory(config), verifier: verifier)
        return (report.isValid ? verifier.leaves : nil, report)
    }

    /// Sets `verifier` up to compare the sink `sink` with `leaves`: every entry must be the
    /// journal's, and every entry and checkpoint the host's cursor says it delivered must be there
    /// (every journal checkpoint between two of the sink's, too).
    public static func compare(
        _ verifier: ChainVerifier, sink: String, with leaves: JournalLeaves, config: LaForgeConfig
    ) throws(JournalError) {
        verifier.journal = leaves
        let cursor = try CursorStore(stateDirectory: config.stateDir).load(sink)
        verifier.deliveredUpTo = cursor?.nextSeq
        verifier.deliveredCheckpointSize = cursor?.checkpointSize
    }

    /// Sets `verifier` up to check the end of sink `sink` against the journal's end and the
    /// host's cursor, without comparing every entry (what `--against-journal` adds): a sink
    /// behind the journal is reported, one that lost entries the cursor says it stored fails.
    /// Nothing is set when the state directory has no journal (an auditor's copy of a sink).
    public static func compareEnd(_ verifier: ChainVerifier, sink: String, config: LaForgeConfig) throws(JournalError) {
        let reader = JournalFileReader(directory: journalDirectory(config))
        guard let extent = try? reader.extent() else { return }
        verifier.journalSize = reader.entryCount(extent: extent)
        verifier.deliveredUpTo = try CursorStore(stateDirectory: config.stateDir).load(sink)?.nextSeq
    }

    public static func journalDirectory(_ config: LaForgeConfig) -> String {
        (config.stateDir as NSString).appendingPathComponent("journal")
    }
}
