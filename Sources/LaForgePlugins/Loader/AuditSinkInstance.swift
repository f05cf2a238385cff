import LaForgeCore
import PluginABI

/// What a sink's write achieved, in the host's terms (ABI: OK / RETRY / PERMANENT_ERROR with
/// the `*stored` prefix).
public enum SinkWriteOutcome: Sendable, Equatable {
    /// Every record is durably stored.
    case stored
    /// `stored` leading records were stored; re-send the rest later.
    case retry(stored: Int, message: String)
    /// `stored` leading records were stored; the record at index `stored` can never be.
    case permanentError(stored: Int, message: String)
    /// `stored` leading records were stored; the sink refuses the rest until an operator acts
    /// (ACCESS_DENIED: credentials, privileges, a missing database). Re-send later; never dead-letter.
    case refused(stored: Int, message: String)
}

/// A created audit-sink instance of a plugin.
public final class AuditSinkInstance: @unchecked Sendable {
    // @unchecked: all plugin calls go through the handle's gate.
    let handle: PluginInstanceHandle
    private let vtable: laforge_audit_sink_vtable

    public var name: String { handle.name }
    public var library: PluginLibrary { handle.library }

    init(name: String, library: PluginLibrary, configJSON: PluginConfigJSON, context: PluginHostContext) throws(PluginLoadError) {
        guard let vtable = library.descriptor.auditSink else {
            throw PluginLoadError(.missingCapability, library: library.path, instance: name, "does not offer an audit sink")
        }
        self.vtable = vtable
        handle = try PluginInstanceHandle(
            name: name, library: library, configJSON: configJSON,
            concurrent: vtable.threading == LAFORGE_THREADING_CONCURRENT, context: context,
            create: vtable.create!, lastError: vtable.last_error!, destroy: vtable.destroy!)
    }

    /// Writes `batch` from record `start` on. Unknown status codes and an out-of-range `*stored`
    /// are protocol violations (thrown): the caller keeps the records and retries, never
    /// counting them as delivered.
    public func write(_ batch: AuditBatch, from start: Int = 0) throws(PluginCallError) -> SinkWriteOutcome {
        let write = vtable.write!
        return try handle.call("write") { () throws(PluginCallError) -> SinkWriteOutcome in
            var stored = 0
            let code = batch.withCBatch(from: start) { write(handle.handle, $0, &stored) }
            let remaining = batch.count - start
            let status = PluginStatus(code: code)
            if status == .ok { return .stored }
            guard stored >= 0, stored <= remaining, !(status == .permanentError && stored == remaining) else {
                throw PluginCallError(
                    .protocolViolation, instance: name, function: "write",
                    "returned \(status) with *stored = \(stored) for a batch of \(remaining) records")
            }
            switch status {
            case .retry: return .retry(stored: stored, message: handle.lastError())
            case .permanentError: return .permanentError(stored: stored, message: handle.lastError())
            case .accessDenied: return .refused(stored: stored, message: handle.lastError())
            case .unknown(let value):
                throw PluginCallError(.protocolViolation, instance: name, function: "write", "returned unknown status \(value)")
            default:
                throw PluginCallError(
                    .protocolViolation, instance: name, function: "write",
                    "returned \(status); write may only return OK, RETRY, PERMANENT_ERROR or ACCESS_DENIED (\(handle.lastError()))")
            }
        }
    }

    /// Makes what was written durable. A plugin without flush is durable on write.
    public func flush() throws(PluginCallError) {
        guard let flush = vtable.flush else { return }
        try handle.call("flush") { () throws(PluginCallError) in try handle.check(flush(handle.handle), "flush") }
    }

    /// OK when healthy; the failure carries the plugin's reason otherwise.
    public func health() throws(PluginCallError) {
        guard let health = vtable.health else { return }
        try handle.call("health") { () throws(PluginCallError) in try handle.check(health(handle.handle), "health") }
    }

    /// True when the plugin offers reopen (ABI 1.2): it holds something open by name that an
    /// operator may move (a file logrotate renames).
    public var canReopen: Bool { vtable.reopen != nil }

    /// Asks the sink to reopen what it holds open by name, through the same call gate as write.
    /// Returns false, calling nothing, when the plugin has no reopen (a 1.0/1.1 vtable reads it as
    /// absent: the loader copies only `struct_size` bytes). A failure is thrown with the
    /// plugin's status and last_error.
    @discardableResult
    public func reopen() throws(PluginCallError) -> Bool {
        guard let reopen = vtable.reopen else { return false }
        try handle.call("reopen") { () throws(PluginCallError) in try handle.check(reopen(handle.handle), "reopen") }
        return true
    }

    /// True when the plugin offers read_back (ABI 1.1): its storage can be verified and
    /// searched on its own.
    public var canReadBack: Bool { vtable.read_back != nil }

    /// Streams what the sink stored for chain `chainID` (nil: the one chain it holds), from
    /// entry `from` on, in the sink's order, through the same call gate as write. `visit` gets
    /// each record borrowed for the call and returns false to stop. A plugin's failure is
    /// thrown with its status and last_error; a sink without read_back throws UNSUPPORTED.
    public func readBack(
        chainID: String?, from: UInt64 = 0, _ visit: (StoredRecord) -> Bool
    ) throws(PluginCallError) {
        guard let readBack = vtable.read_back else {
            throw PluginCallError(
                .failed(.unsupported), instance: name, function: "read_back",
                "the plugin \(library.descriptor.name) cannot read back what it stored")
        }
        try handle.call("read_back") { () throws(PluginCallError) in
            try withoutActuallyEscaping(visit) { visit throws(PluginCallError) in
                var reader = StoredRecordVisitor(visit: visit)
                let code = withUnsafeMutablePointer(to: &reader) { context in
                    if let chainID {
                        return chainID.withCString { readBack(handle.handle, $0, from, StoredRecordVisitor.callback, context) }
                    }
                    return readBack(handle.handle, nil, from, StoredRecordVisitor.callback, context)
                }
                try handle.check(code, "read_back")
            }
        }
    }

    /// Destroys the instance after calls in flight return. Idempotent.
    public func close() { handle.close() }
}

/// One record a sink hands back from its storage, borrowed for the visit only.
public struct StoredRecord {
    /// nil for a kind this host does not know (reported, never guessed at).
    public var kind: AuditRecordKind?
    public var rawKind: UInt32
    public var seq: UInt64
    /// The stored bytes exactly as the sink holds them.
    public var data: UnsafeRawBufferPointer
    /// Where a person finds the record in the sink (`table audit.entries, seq 41`).
    public var location: String
    /// The hash the sink stored beside the bytes (an entry's leaf hash, a checkpoint's root),
    /// 32 bytes, when it keeps one (PostgresAudit's `hash` and `root_hash` columns): compared
    /// with what the bytes give, since queries over the sink read these columns.
    public var storedHash: UnsafeRawBufferPointer?
    /// An entry's stored prev_hash (32 bytes), when the sink keeps one apart from the bytes.
    public var storedPrevHash: UnsafeRawBufferPointer?

    public init(
        kind: AuditRecordKind?, rawKind: UInt32, seq: UInt64, data: UnsafeRawBufferPointer, location: String,
        storedHash: UnsafeRawBufferPointer? = nil, storedPrevHash: UnsafeRawBufferPointer? = nil
    ) {
        self.kind = kind
        self.rawKind = rawKind
        self.seq = seq
        self.data = data
        self.location = location
        self.storedHash = storedHash
        self.storedPrevHash = storedPrevHash
    }
}

/// Carries the Swift visitor through read_back's `visit_ctx`.
private struct StoredRecordVisitor {
    let visit: (StoredRecord) -> Bool

    static let callback: @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<laforge_audit_record>?, UnsafePointer<CChar>?) -> Int32 = {
        context, recordPointer, location in
        guard let context, let recordPointer else { return 1 }
        let visitor = context.assumingMemoryBound(to: StoredRecordVisitor.self)
        let record = copySizePrefixed(UnsafeRawPointer(recordPointer), into: laforge_audit_record())
        let data = record.data_len == 0 || record.data == nil
            ? UnsafeRawBufferPointer(start: nil, count: 0)
            : UnsafeRawBufferPointer(start: record.data, count: record.data_len)
        let stored = StoredRecord(
            kind: AuditRecordKind(rawValue: record.kind), rawKind: record.kind, seq: record.seq, data: data,
            location: location.map { String(cString: $0) } ?? "",
            storedHash: record.hash.map { UnsafeRawBufferPointer(start: $0, count: 32) },
            storedPrevHash: record.prev_hash.map { UnsafeRawBufferPointer(start: $0, count: 32) })
        return visitor.pointee.visit(stored) ? 0 : 1
    }
}
