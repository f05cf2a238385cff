import Foundation
import LaForgeCore
import LaForgeJournal
import LaForgePlugins

/// One configured sink started on its own (with the secret backends it may need, and no other
/// sink) to read back what it stored: `laforge verify chain --sink` and
/// `laforge audit query --sink` for sinks that offer read_back.
public final class SinkReadBack {
    public let runtime: PluginRuntime
    public let sink: AuditSinkInstance
    /// The chain to read: the journal's when this state dir has one, else nil (the sink's
    /// only chain), so an auditor's machine without the journal can verify the sink alone.
    public let chainID: String?

    public enum OpenError: Error, CustomStringConvertible, Sendable {
        /// No sink of that name is configured.
        case noSuchSink(String, configured: [String])
        /// The sink's plugin offers no read_back.
        case cannotReadBack(String, library: String)
        case start(RuntimeStartError)

        public var description: String {
            switch self {
            case .noSuchSink(let name, let configured):
                return "no sink named \(name) (configured: \(configured.isEmpty ? "none" : configured.joined(separator: ", ")))"
            case .cannotReadBack(let name, let library):
                return "sink \(name) (\(library)) cannot be read back for verification by this version; "
                    + "verify the journal, or the sink's own storage"
            case .start(let error):
                return error.description
            }
        }
    }

    private init(runtime: PluginRuntime, sink: AuditSinkInstance, chainID: String?) {
        self.runtime = runtime
        self.sink = sink
        self.chainID = chainID
    }

    /// Starts the sink `name` of `config`.
    public static func open(config: LaForgeConfig, sink name: String, options: PluginRuntime.Options) throws(OpenError) -> SinkReadBack {
        guard let instance = config.sinks.first(where: { $0.name == name }) else {
            throw .noSuchSink(name, configured: config.sinks.map(\.name))
        }
        var alone = config
        alone.sinks = [instance]
        let runtime: PluginRuntime
        do { runtime = try PluginRuntime.start(config: alone, options: options) } catch { throw .start(error) }
        let sink = runtime.sinks[0]
        guard sink.canReadBack else {
            runtime.close()
            throw .cannotReadBack(name, library: instance.library)
        }
        let journal = (config.stateDir as NSString).appendingPathComponent("journal")
        let chainID = FileManager.default.fileExists(atPath: journal) ? config.audit.chainID : nil
        return SinkReadBack(runtime: runtime, sink: sink, chainID: chainID)
    }

    /// The stored entries whose event matches `query`, in the sink's order, at most `limit`,
    /// each handed to `body` as it streams by (memory stays flat), **unverified** (`audit query
    /// --sink --no-verify`, which says so). Entries that do not parse are skipped.
    public func forEachEntry(matching query: AuditQuery, limit: Int, _ body: (JournalEntry) -> Void) throws(PluginCallError) {
        var found = 0
        guard limit > 0 else { return }
        try sink.readBack(chainID: chainID) { record in
            guard record.kind == .entry else { return true }
            let bytes = [UInt8](record.data)
            guard let parsed = try? AuditEntry.parse(bytes), query.matches(parsed.event) else { return true }
            body(JournalEntry(seq: record.seq, hash: SHA256.leafHash(bytes), prevHash: parsed.prevHash, payload: bytes))
            found += 1
            return found < limit
        }
    }

    /// The stored entries matching `query` (at most `limit`, in the sink's order), handed out
    /// only once the whole read verified through `verifier`: every hash, link, Merkle root and
    /// checkpoint signature of what the sink returned, so tampered rows are never shown as
    /// found. On a failure the report says where and nothing is returned.
    public func verifiedEntries(
        matching query: AuditQuery, limit: Int, verifier: ChainVerifier
    ) throws(PluginCallError) -> (entries: [JournalEntry], report: VerificationReport) {
        var found: [JournalEntry] = []
        let report = try ChainSource.verifySink(sink, chainID: chainID, verifier: verifier, accepted: { record in
            guard found.count < limit else { return }
            let bytes = [UInt8](record.data)
            guard let parsed = try? AuditEntry.parse(bytes), query.matches(parsed.event) else { return }
            found.append(JournalEntry(seq: record.seq, hash: SHA256.leafHash(bytes), prevHash: parsed.prevHash, payload: bytes))
        })
        return (report.isValid ? found : [], report)
    }

    public func close() { runtime.close() }
}
