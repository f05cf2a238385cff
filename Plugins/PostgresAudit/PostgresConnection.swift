import CLibPQ

#if canImport(Glibc)
    import Glibc
#endif

/// One libpq connection and the few calls the sink makes on it. Every error message leaving
/// this type is scrubbed of the configured secrets and carries its `PostgresFailure`.
final class PostgresConnection {
    struct Failure: Error {
        var kind: PostgresFailure
        var message: String
        var sqlstate: String?
    }

    private var connection: OpaquePointer?
    private let scrubber: SecretScrubber

    /// Connects (blocking, bounded by connect_timeout). On failure the half-open connection is
    /// freed and the failure classified from libpq's message.
    init(config: PostgresAuditConfig, scrubber: SecretScrubber) throws(Failure) {
        self.scrubber = scrubber
        let pairs = config.connection
        let keywords = pairs.map { strdup($0.keyword) } + [nil]
        let values = pairs.map { strdup($0.value) } + [nil]
        defer {
            for pointer in keywords { free(pointer) }
            // The values include the password: zero them before freeing.
            for pointer in values { if let pointer { memset(pointer, 0, strlen(pointer)); free(pointer) } }
        }
        let opened = keywords.map { UnsafePointer($0) }.withUnsafeBufferPointer { keywordPointers in
            values.map { UnsafePointer($0) }.withUnsafeBufferPointer { valuePointers in
                PQconnectdbParams(keywordPointers.baseAddress, valuePointers.baseAddress, config.hasDSN ? 1 : 0)
            }
        }
        connection = opened
        guard let opened, PQstatus(opened) == CONNECTION_OK else {
            let message = opened.map { Self.text(PQerrorMessage($0)) } ?? "out of memory"
            if let opened { PQfinish(opened) }
            connection = nil
            let clean = scrubber.scrub(message)
            throw Failure(kind: PostgresFailure(connectionMessage: clean), message: clean)
        }
        // CREATE … IF NOT EXISTS sends NOTICEs; libpq would print them on stderr.
        PQsetNoticeProcessor(opened, { _, _ in }, nil)
    }

    deinit { close() }

    func close() {
        if let connection { PQfinish(connection) }
        connection = nil
    }

    /// False once the server closed the connection or a call found it broken.
    var isUsable: Bool { connection.map { PQstatus($0) == CONNECTION_OK } ?? false }

    /// `host:port/dbname as user`, for messages.
    var endpoint: String {
        guard let connection else { return "(closed)" }
        let host = Self.text(PQhost(connection))
        return "\(host.hasPrefix("/") ? "socket \(host)" : host):\(Self.text(PQport(connection)))/\(Self.text(PQdb(connection))) as \(Self.text(PQuser(connection)))"
    }

    private static func text(_ pointer: UnsafePointer<CChar>?) -> String {
        guard let pointer else { return "" }
        var result = String(cString: pointer)
        while result.last == "\n" || result.last == " " { result.removeLast() }
        return result
    }

    private static func text(_ pointer: UnsafeMutablePointer<CChar>?) -> String { text(UnsafePointer(pointer)) }

    // MARK: queries

    /// The rows of a query; freed when released.
    final class Rows {
        fileprivate let result: OpaquePointer
        fileprivate init(_ result: OpaquePointer) { self.result = result }
        deinit { PQclear(result) }

        var count: Int { Int(PQntuples(result)) }
        func isNull(_ row: Int, _ column: Int) -> Bool { PQgetisnull(result, Int32(row), Int32(column)) != 0 }
        func string(_ row: Int, _ column: Int) -> String? {
            isNull(row, column) ? nil : String(cString: PQgetvalue(result, Int32(row), Int32(column)))
        }
        func unsigned(_ row: Int, _ column: Int) -> UInt64? { string(row, column).flatMap { UInt64($0) } }
        /// A value selected as `encode(column, 'hex')` (whatever the session's `bytea_output`),
        /// decoded; nil for NULL or text that is not hex.
        func hexBytes(_ row: Int, _ column: Int) -> [UInt8]? { string(row, column).flatMap(Hex.bytes) }
        /// The value's bytes, borrowed for `body` (text format: exactly what the server stored).
        func withBytes<R>(_ row: Int, _ column: Int, _ body: (UnsafeBufferPointer<CChar>) -> R) -> R {
            let pointer = PQgetvalue(result, Int32(row), Int32(column))
            let length = Int(PQgetlength(result, Int32(row), Int32(column)))
            return body(UnsafeBufferPointer(start: pointer, count: length))
        }
    }

    /// Runs one statement (or several without parameters) with text parameters.
    @discardableResult
    func execute(_ sql: String, _ parameters: [String?] = []) throws(Failure) -> Rows {
        guard let connection else { throw Failure(kind: .transient, message: "not connected") }
        let copies = parameters.map { $0.map { strdup($0) } ?? nil }
        defer { for pointer in copies { free(pointer) } }
        let result: OpaquePointer?
        if parameters.isEmpty {
            result = PQexec(connection, sql)
        } else {
            result = copies.map { UnsafePointer($0) }.withUnsafeBufferPointer { values in
                PQexecParams(connection, sql, Int32(parameters.count), nil, values.baseAddress, nil, nil, 0)
            }
        }
        return Rows(try check(result, expecting: [PGRES_COMMAND_OK, PGRES_TUPLES_OK]))
    }

    /// `COPY … FROM STDIN` with `data` in COPY text format. Returns when the server has taken
    /// every row (or refused the copy).
    func copy(_ sql: String, data: [UInt8]) throws(Failure) {
        guard let connection else { throw Failure(kind: .transient, message: "not connected") }
        _ = try check(PQexec(connection, sql), expecting: [PGRES_COPY_IN])
        let sent = data.withUnsafeBufferPointer { buffer -> Int32 in
            guard let base = buffer.baseAddress, buffer.count > 0 else { return 1 }
            return base.withMemoryRebound(to: CChar.self, capacity: buffer.count) { PQputCopyData(connection, $0, Int32(buffer.count)) }
        }
        if sent != 1 || PQputCopyEnd(connection, nil) != 1 {
            throw failure(nil)
        }
        var first: Failure?
        while let result = PQgetResult(connection) {
            if first == nil, PQresultStatus(result) != PGRES_COMMAND_OK {
                first = failure(result)
            }
            PQclear(result)
        }
        if let first { throw first }
    }

    private func check(_ result: OpaquePointer?, expecting statuses: [ExecStatusType]) throws(Failure) -> OpaquePointer {
        guard let result else { throw failure(nil) }
        let status = PQresultStatus(result)
        guard statuses.contains(status) else {
            let error = failure(result)
            PQclear(result)
            throw error
        }
        return result
    }

    /// The failure a result (or, without one, the connection) reports.
    private func failure(_ result: OpaquePointer?) -> Failure {
        var message = ""
        var sqlstate: String?
        if let result {
            message = Self.text(PQresultErrorMessage(result))
            if let field = PQresultErrorField(result, Int32(UInt8(ascii: "C"))) { sqlstate = String(cString: field) }
        }
        if message.isEmpty, let connection { message = Self.text(PQerrorMessage(connection)) }
        if message.isEmpty { message = "the server closed the connection" }
        message = scrubber.scrub(message.split(whereSeparator: { $0 == "\n" }).map { $0.trimmingSpaces }.joined(separator: " "))
        let kind: PostgresFailure
        if let sqlstate {
            kind = PostgresFailure(sqlstate: sqlstate)
        } else {
            // No SQLSTATE: the connection broke (server restart, network).
            kind = .transient
        }
        return Failure(kind: kind, message: message, sqlstate: sqlstate)
    }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var result = self
        while result.first == " " { result.removeFirst() }
        while result.last == " " { result.removeLast() }
        return result
    }
}
