import PluginABI

#if canImport(Glibc)
    import Glibc
#endif

/// One configured PostgresAudit sink: its connection (reopened at the next call after it broke),
/// the schema check, batched COPY writes that are idempotent by (chain_id, seq), and the
/// read-back that `laforge verify chain --sink` and `laforge audit query --sink` use. Called
/// serially (the vtable declares SERIAL), so no locking.
final class PostgresAuditInstance: ReadableAuditSink {
    private let host: HostServices
    private var config: PostgresAuditConfig?
    private var scrubber = SecretScrubber(secrets: [])
    private var connection: PostgresConnection?
    /// True once the tables were checked on the current connection.
    private var schemaReady = false
    let lastError = LastErrorBuffer()

    static let rowsCounter = "laforge_postgres_rows_total"
    static let reconnectsCounter = "laforge_postgres_reconnects_total"
    /// Rows per read-back query: bounds memory whatever the table's size.
    static let readChunk = 5000

    init(host: HostServices) { self.host = host }

    deinit { connection?.close() }

    // MARK: last_error

    /// Records `error` (scrubbed once more) for last_error and returns its status.
    @discardableResult
    func fail(_ error: PostgresAuditError) -> Int32 {
        lastError.record(scrubber.scrub("PostgresAudit: " + error.message))
        return error.status
    }

    // MARK: create

    /// Reads the configuration, connects and prepares the tables. Wrong credentials, a missing
    /// database or privilege, and an unreachable server all fail create with the matching
    /// status, so a misconfigured sink is reported when the host starts, not at the first event.
    func configure(_ json: [UInt8]) throws(PostgresAuditError) {
        let config = try PostgresAuditConfig(json: json, production: host.isProduction)
        self.config = config
        scrubber = SecretScrubber(secrets: config.secrets)
        _ = try ready(config)
    }

    /// Opens the connection, checks the server, and sets the session up.
    private func connect(_ config: PostgresAuditConfig) throws(PostgresConnection.Failure) {
        connection?.close()
        connection = nil
        schemaReady = false
        let opened = try PostgresConnection(config: config, scrubber: scrubber)
        let encoding = try opened.execute("SHOW server_encoding").string(0, 0) ?? ""
        guard encoding == "UTF8" else {
            throw PostgresConnection.Failure(
                kind: .unsuitableDatabase,
                message: "database \(opened.endpoint) has server_encoding \(encoding); byte-exact storage of the canonical entries needs a UTF8 database (CREATE DATABASE … ENCODING 'UTF8')")
        }
        if config.statementTimeoutMilliseconds > 0 {
            try opened.execute("SET statement_timeout = \(config.statementTimeoutMilliseconds)")
        }
        connection = opened
    }

    /// A usable connection with checked tables, reconnecting after a lost connection. Failures
    /// carry create's statuses (RETRY, ACCESS_DENIED, INVALID_ARGUMENT, INTERNAL_ERROR);
    /// `write` turns them into its own with `writeStatus(_:)`.
    private func ready(_ config: PostgresAuditConfig) throws(PostgresAuditError) -> PostgresConnection {
        if connection?.isUsable != true {
            let hadConnection = connection != nil
            do {
                try connect(config)
            } catch {
                let hint = error.kind.hint
                throw PostgresAuditError(error.kind.createStatus, "cannot connect: \(error.message)" + (hint.isEmpty ? "" : " (\(hint))"))
            }
            if hadConnection {
                host.counterAdd(Self.reconnectsCounter, 1)
                host.log(LAFORGE_LOG_INFO, "reconnected to \(connection!.endpoint)")
            }
        }
        let connection = connection!
        if !schemaReady {
            if let change = try AuditTableSchema(config: config).prepare(connection) {
                host.log(LAFORGE_LOG_INFO, change)
            }
            schemaReady = true
        }
        return connection
    }

    /// write's status for a failure of `ready`: refused credentials, privileges or settings are
    /// ACCESS_DENIED (an operator must act; the host keeps the records); the rest is retried.
    private static func writeStatus(_ createStatus: Int32) -> Int32 {
        createStatus == Status.accessDenied || createStatus == Status.invalidArgument ? Status.accessDenied : Status.retry
    }

    // MARK: write

    /// One record of the batch, borrowed for the write call.
    struct Record {
        var kind: UInt32
        var seq: UInt64
        var hash: UnsafePointer<UInt8>
        var prevHash: UnsafePointer<UInt8>?
        var data: UnsafeBufferPointer<UInt8>
    }

    func write(_ batchPointer: UnsafePointer<laforge_audit_batch>?) -> WriteResult {
        guard let config else {
            return WriteResult(status: fail(PostgresAuditError(Status.internalError, "write called on an unconfigured instance")), stored: 0)
        }
        guard let batchPointer else {
            return WriteResult(status: fail(PostgresAuditError(Status.internalError, "write: batch is NULL")), stored: 0)
        }
        let batch = copySizePrefixed(UnsafeRawPointer(batchPointer), into: laforge_audit_batch())
        guard batch.count > 0 else { return WriteResult(status: Status.ok, stored: 0) }
        guard let recordPointers = batch.records, let chainPointer = batch.chain_id else {
            return WriteResult(status: fail(PostgresAuditError(Status.internalError, "write: records or chain_id is NULL")), stored: 0)
        }
        let chain = String(cString: chainPointer)

        // Records are checked first; a malformed one ends the batch at its index.
        var records: [Record] = []
        records.reserveCapacity(batch.count)
        var refusal: String?
        for index in 0..<batch.count {
            guard let pointer = recordPointers[index] else {
                refusal = "record \(index) of the batch is NULL"
                break
            }
            let record = copySizePrefixed(UnsafeRawPointer(pointer), into: laforge_audit_record())
            let what = record.kind == UInt32(LAFORGE_RECORD_CHECKPOINT.rawValue) ? "checkpoint of size" : "entry seq"
            guard record.kind == UInt32(LAFORGE_RECORD_ENTRY.rawValue) || record.kind == UInt32(LAFORGE_RECORD_CHECKPOINT.rawValue) else {
                refusal = "record seq \(record.seq) has kind \(record.kind), which this sink does not know"
                break
            }
            guard let hash = record.hash, record.data_len > 0, let data = record.data,
                record.kind != UInt32(LAFORGE_RECORD_ENTRY.rawValue) || record.prev_hash != nil
            else {
                refusal = "\(what) \(record.seq) lacks its hash, prev_hash or data"
                break
            }
            guard record.seq <= UInt64(Int64.max) else {
                refusal = "\(what) \(record.seq) does not fit a bigint"
                break
            }
            let bytes = UnsafeRawPointer(data).assumingMemoryBound(to: UInt8.self)
            records.append(
                Record(
                    kind: record.kind, seq: record.seq, hash: hash, prevHash: record.prev_hash,
                    data: UnsafeBufferPointer(start: bytes, count: record.data_len)))
        }

        let connection: PostgresConnection
        do {
            connection = try ready(config)
        } catch {
            return WriteResult(status: fail(PostgresAuditError(Self.writeStatus(error.status), error.message)), stored: 0)
        }

        var start = 0
        while start < records.count {
            let end = min(start + config.batchSize, records.count)
            do {
                switch try writeChunk(records[start..<end], chain: chain, config: config, connection: connection) {
                case .stored:
                    start = end
                case .conflict(let index, let message):
                    return WriteResult(status: fail(PostgresAuditError(Status.permanentError, message)), stored: index)
                }
            } catch {
                rollback(connection)
                if error.kind == .badData && end - start > 1 {
                    // One record the server cannot take: find it, storing the ones before it.
                    if let failed = writeOneByOne(records, from: start, to: end, chain: chain, config: config, connection: connection) {
                        return failed
                    }
                    start = end
                    continue
                }
                return WriteResult(status: fail(writeFailure(error, connection)), stored: start)
            }
        }
        if let refusal {
            return WriteResult(status: fail(PostgresAuditError(Status.permanentError, refusal)), stored: records.count)
        }
        return WriteResult(status: Status.ok, stored: batch.count)
    }

    private func writeFailure(_ error: PostgresConnection.Failure, _ connection: PostgresConnection) -> PostgresAuditError {
        if error.kind == .other { schemaReady = false }  // a dropped table: check again next time
        let hint = error.kind.hint
        return PostgresAuditError(
            error.kind.writeStatus,
            "writing to \(config!.tableName) on \(connection.endpoint) failed: \(error.message)" + (hint.isEmpty ? "" : " (\(hint))"))
    }

    /// Writes records one per transaction; nil when all were stored, else the failure.
    private func writeOneByOne(
        _ records: [Record], from start: Int, to end: Int, chain: String, config: PostgresAuditConfig, connection: PostgresConnection
    ) -> WriteResult? {
        for index in start..<end {
            do {
                if case .conflict(let at, let message) = try writeChunk(records[index...index], chain: chain, config: config, connection: connection) {
                    return WriteResult(status: fail(PostgresAuditError(Status.permanentError, message)), stored: at)
                }
            } catch {
                rollback(connection)
                let failure = writeFailure(error, connection)
                if error.kind == .badData {
                    let record = records[index]
                    let what = record.kind == UInt32(LAFORGE_RECORD_CHECKPOINT.rawValue) ? "checkpoint of size" : "entry seq"
                    return WriteResult(
                        status: fail(PostgresAuditError(Status.permanentError, "the server refuses \(what) \(record.seq): \(error.message)")),
                        stored: index)
                }
                return WriteResult(status: fail(failure), stored: index)
            }
        }
        return nil
    }

    private func rollback(_ connection: PostgresConnection) {
        if connection.isUsable { _ = try? connection.execute("ROLLBACK") }
    }

    enum ChunkResult {
        case stored
        /// Records before `index` (of the whole batch) are stored; the one at `index` collides
        /// with a different row already stored at its position.
        case conflict(index: Int, message: String)
    }

    /// Stores records in one transaction: under a per-chain advisory lock, rows already present
    /// at the same (chain, seq) are compared by hash (equal: a re-sent record, skipped;
    /// different: a conflict, reported, never overwritten), the rest go in with COPY. Re-sending
    /// a chunk after a lost COMMIT therefore stores each row once.
    private func writeChunk(
        _ chunk: ArraySlice<Record>, chain: String, config: PostgresAuditConfig, connection: PostgresConnection
    ) throws(PostgresConnection.Failure) -> ChunkResult {
        let entrySeqs = chunk.lazy.filter { $0.kind == UInt32(LAFORGE_RECORD_ENTRY.rawValue) }.map(\.seq)
        let checkpointSizes = chunk.lazy.filter { $0.kind == UInt32(LAFORGE_RECORD_CHECKPOINT.rawValue) }.map(\.seq)
        try connection.execute("BEGIN")
        try connection.execute("SELECT pg_advisory_xact_lock(hashtext($1))", ["laforge:\(config.tableName):\(chain)"])
        let present = try connection.execute(
            """
            SELECT 1, seq, encode(hash, 'hex') FROM \(config.qualifiedTable) WHERE chain_id = $1 AND seq BETWEEN $2 AND $3
            UNION ALL
            SELECT 2, tree_size, encode(root_hash, 'hex') FROM \(config.qualifiedCheckpoints)
            WHERE chain_id = $1 AND tree_size BETWEEN $4 AND $5
            """,
            [
                chain, String(entrySeqs.min() ?? 1), String(entrySeqs.max() ?? 0), String(checkpointSizes.min() ?? 1),
                String(checkpointSizes.max() ?? 0),
            ])
        var storedEntries: [UInt64: String] = [:]
        var storedCheckpoints: [UInt64: String] = [:]
        for row in 0..<present.count {
            guard let seq = present.unsigned(row, 1), let hash = present.string(row, 2) else { continue }
            if present.string(row, 0) == "1" { storedEntries[seq] = hash } else { storedCheckpoints[seq] = hash }
        }

        var entries = CopyText(capacity: chunk.reduce(0) { $0 + $1.data.count } + chunk.count * 200)
        var checkpoints = CopyText(capacity: 1024)
        var conflict: ChunkResult?
        for (index, record) in zip(chunk.indices, chunk) {
            let isEntry = record.kind == UInt32(LAFORGE_RECORD_ENTRY.rawValue)
            if let stored = isEntry ? storedEntries[record.seq] : storedCheckpoints[record.seq] {
                let hash = Hex.string(record.hash, count: 32)
                if stored == hash { continue }
                let table = isEntry ? config.tableName : config.checkpointsName
                let what = isEntry ? "entry seq \(record.seq)" : "checkpoint of size \(record.seq)"
                conflict = .conflict(
                    index: index,
                    message: "\(what) of chain \(chain): \(table) already holds a different one there (stored hash \(stored.prefix(16))…, "
                        + "this one \(hash.prefix(16))…); refusing to overwrite. Another journal writes under the same chain id, "
                        + "or the table was changed: run `laforge verify chain --sink`")
                break
            }
            if isEntry {
                entries.text(chain)
                entries.separator()
                entries.text(String(record.seq))
                entries.separator()
                entries.bytea(record.hash, count: 32)
                entries.separator()
                entries.bytea(record.prevHash!, count: 32)
                entries.separator()
                entries.text(record.data)
                entries.endRow()
            } else {
                checkpoints.text(chain)
                checkpoints.separator()
                checkpoints.text(String(record.seq))
                checkpoints.separator()
                checkpoints.bytea(record.hash, count: 32)
                checkpoints.separator()
                checkpoints.text(record.data)
                checkpoints.endRow()
            }
        }
        if !entries.isEmpty {
            try connection.copy("COPY \(config.qualifiedTable) (chain_id, seq, hash, prev_hash, canonical) FROM STDIN", data: entries.bytes)
        }
        if !checkpoints.isEmpty {
            try connection.copy("COPY \(config.qualifiedCheckpoints) (chain_id, tree_size, root_hash, note) FROM STDIN", data: checkpoints.bytes)
        }
        try connection.execute("COMMIT")
        host.counterAdd(Self.rowsCounter, Double(entries.rows + checkpoints.rows))
        return conflict ?? .stored
    }

    // MARK: read back

    /// Streams the stored records of one chain in seq order, each checkpoint right after the
    /// entry that completes it, in chunks of `readChunk` rows from one REPEATABLE READ snapshot,
    /// so memory stays flat and the view is consistent however long verification takes.
    func readBack(chainID: UnsafePointer<CChar>?, from: UInt64, visit: Visit?, context: UnsafeMutableRawPointer?) -> Int32 {
        guard let config else { return fail(PostgresAuditError(Status.internalError, "read_back called on an unconfigured instance")) }
        guard let visit else { return fail(PostgresAuditError(Status.invalidArgument, "read_back: visit is NULL")) }
        let connection: PostgresConnection
        do {
            connection = try ready(config)
        } catch {
            return fail(error)
        }
        do {
            try connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            let chain: String
            if let chainID {
                chain = String(cString: chainID)
            } else {
                switch try onlyChain(connection, config) {
                case .none:
                    rollback(connection)
                    return Status.ok
                case .some(.success(let found)):
                    chain = found
                case .some(.failure(let error)):
                    rollback(connection)
                    return fail(error)
                }
            }
            var checkpoints = CheckpointStream(connection: connection, config: config, chain: chain, after: from)
            var next = from
            var stopped = false
            reading: while true {
                // hash and prev_hash go with the row: queries read them, so the host holds them
                // against what `canonical` gives.
                let rows = try connection.execute(
                    "SELECT seq, canonical, encode(hash, 'hex'), encode(prev_hash, 'hex') FROM \(config.qualifiedTable) WHERE chain_id = $1 AND seq >= $2 ORDER BY seq LIMIT \(Self.readChunk)",
                    [chain, String(next)])
                if rows.count == 0 { break }
                for row in 0..<rows.count {
                    guard let seq = rows.unsigned(row, 0) else { continue }
                    if try !checkpoints.emit(upTo: seq, visit: visit, context: context) {
                        stopped = true
                        break reading
                    }
                    let hash = rows.hexBytes(row, 2)
                    let prevHash = rows.hexBytes(row, 3)
                    let keepGoing = rows.withBytes(row, 1) { text in
                        Self.visit(
                            visit, context, kind: LAFORGE_RECORD_ENTRY, seq: seq, data: text, hash: hash, prevHash: prevHash,
                            location: "table \(config.tableName), chain \(chain), seq \(seq)")
                    }
                    if !keepGoing {
                        stopped = true
                        break reading
                    }
                    next = seq + 1
                }
                if rows.count < Self.readChunk { break }
            }
            if !stopped { _ = try checkpoints.emit(upTo: .max, visit: visit, context: context) }
            try connection.execute("COMMIT")
            return Status.ok
        } catch {
            rollback(connection)
            let status: Int32
            switch error.kind {
            case .transient: status = Status.retry
            case .accessDenied: status = Status.accessDenied
            default: status = Status.internalError
            }
            let hint = error.kind.hint
            return fail(
                PostgresAuditError(
                    status, "reading \(config.tableName) on \(connection.endpoint) failed: \(error.message)" + (hint.isEmpty ? "" : " (\(hint))")))
        }
    }

    /// The one chain the table holds (two index probes, not a scan); nil when it is empty.
    private func onlyChain(_ connection: PostgresConnection, _ config: PostgresAuditConfig) throws(PostgresConnection.Failure)
        -> Result<String, PostgresAuditError>?
    {
        let first = try connection.execute("SELECT min(chain_id) FROM \(config.qualifiedTable)")
        guard let chain = first.string(0, 0) else { return nil }
        let others = try connection.execute(
            "SELECT DISTINCT chain_id FROM \(config.qualifiedTable) WHERE chain_id > $1 ORDER BY chain_id LIMIT 5", [chain])
        guard others.count > 0 else { return .success(chain) }
        let names = [chain] + (0..<others.count).compactMap { others.string($0, 0) }
        return .failure(
            PostgresAuditError(
                Status.invalidArgument,
                "\(config.tableName) holds several chains (\(names.joined(separator: ", "))\(others.count == 5 ? ", …" : "")); "
                    + "name one (audit.chain_id in the configuration)"))
    }

    /// Hands one record to `visit`; `hash` and `prevHash` are the stored columns (32 bytes, or
    /// nil when a value is not 32 bytes: then the host has nothing to compare and says nothing).
    fileprivate static func visit(
        _ visit: Visit, _ context: UnsafeMutableRawPointer?, kind: laforge_record_kind, seq: UInt64,
        data: UnsafeBufferPointer<CChar>, hash: [UInt8]?, prevHash: [UInt8]?, location: String
    ) -> Bool {
        func withOptional(_ bytes: [UInt8]?, _ body: (UnsafePointer<UInt8>?) -> Int32) -> Int32 {
            guard let bytes, bytes.count == 32 else { return body(nil) }
            return bytes.withUnsafeBufferPointer { body($0.baseAddress) }
        }
        return withOptional(hash) { hash in
            withOptional(prevHash) { prevHash in
                var record = laforge_audit_record(
                    struct_size: UInt32(MemoryLayout<laforge_audit_record>.size), kind: UInt32(kind.rawValue), seq: seq, hash: hash,
                    prev_hash: prevHash, data: data.baseAddress, data_len: data.count)
                return location.withCString { visit(context, &record, $0) }
            }
        } == 0
    }

    // MARK: health

    /// Reports what is known without I/O: a broken connection is degraded until the next write
    /// reconnects.
    func health() -> Int32 {
        guard connection?.isUsable == true else {
            return fail(PostgresAuditError(Status.retry, "not connected to the server; the next write reconnects"))
        }
        return Status.ok
    }
}

/// The checkpoints of one chain in tree-size order, fetched in chunks while the entries stream.
private struct CheckpointStream {
    let connection: PostgresConnection
    let config: PostgresAuditConfig
    let chain: String
    private var buffered: [(size: UInt64, note: [CChar], rootHash: [UInt8]?)] = []
    private var position = 0
    /// Sizes already fetched go up to here; the next query asks for larger ones.
    private var fetchedThrough: Int64
    private var exhausted = false

    init(connection: PostgresConnection, config: PostgresAuditConfig, chain: String, after from: UInt64) {
        self.connection = connection
        self.config = config
        self.chain = chain
        // The header: checkpoints of size > from_seq, and the one of size 0 when reading from 0.
        fetchedThrough = from == 0 ? -1 : Int64(from)
    }

    private mutating func peek() throws(PostgresConnection.Failure) -> UInt64? {
        if position == buffered.count {
            guard !exhausted else { return nil }
            let rows = try connection.execute(
                "SELECT tree_size, note, encode(root_hash, 'hex') FROM \(config.qualifiedCheckpoints) WHERE chain_id = $1 AND tree_size > $2 ORDER BY tree_size LIMIT 1000",
                [chain, String(fetchedThrough)])
            buffered = (0..<rows.count).compactMap { row in
                guard let size = rows.unsigned(row, 0) else { return nil }
                return (size, rows.withBytes(row, 1) { Array($0) }, rows.hexBytes(row, 2))
            }
            position = 0
            if rows.count < 1000 { exhausted = true }
            if let last = buffered.last { fetchedThrough = Int64(last.size) }
            if buffered.isEmpty { return nil }
        }
        return buffered[position].size
    }

    /// Visits every checkpoint of size ≤ `limit` not yet visited; false when visit said stop.
    mutating func emit(upTo limit: UInt64, visit: PostgresAuditInstance.Visit, context: UnsafeMutableRawPointer?)
        throws(PostgresConnection.Failure) -> Bool
    {
        while let size = try peek(), size <= limit {
            let (note, rootHash) = (buffered[position].note, buffered[position].rootHash)
            position += 1
            let keepGoing = note.withUnsafeBufferPointer { text in
                PostgresAuditInstance.visit(
                    visit, context, kind: LAFORGE_RECORD_CHECKPOINT, seq: size, data: text, hash: rootHash, prevHash: nil,
                    location: "table \(config.checkpointsName), chain \(chain), tree size \(size)")
            }
            if !keepGoing { return false }
        }
        return true
    }
}
