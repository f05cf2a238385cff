import Foundation
import Hummingbird
import LaForgeHost
import NIOCore

/// `/v1/audit/…`: record events (answered once durable), read entries, proofs and checkpoints.
extension ServeAPI {
    func addAuditRoutes(to router: Router<ServeRequestContext>) {
        router.post("/v1/audit/events") { request, context in try await self.emit(request, context) }
        router.get("/v1/audit/entries") { request, context in try await self.entries(request, context) }
        router.get("/v1/audit/entries/:seq/proof") { request, context in try await self.proof(request, context) }
        router.get("/v1/audit/checkpoint") { _, context in try await self.checkpoint(context) }
        router.get("/v1/audit/consistency") { request, context in try await self.consistency(request, context) }
    }

    /// One JSON event, or NDJSON (`Content-Type: application/x-ndjson`), recorded as one group:
    /// all of the request's events or none. The answer lists each entry's seq and hash once
    /// the journal has them on disk; `?wait=checkpoint` also waits for a signed checkpoint
    /// covering them and adds each inclusion proof.
    func emit(_ request: Request, _ context: ServeRequestContext) async throws -> Response {
        try await require(.emit, context, route: "POST /v1/audit/events")
        let body = try await Self.collect(request, context)
        let waitForCheckpoint: Bool
        switch request.uri.queryParameters["wait"].map(String.init) {
        case nil, "durable": waitForCheckpoint = false
        case "checkpoint": waitForCheckpoint = true
        case let other?: throw APIError(.badRequest, "wait must be durable or checkpoint, got \(other)", field: "wait")
        }
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        let ndjson = contentType.hasPrefix("application/x-ndjson") || contentType.hasPrefix("application/jsonl")
        let events = try ndjson ? Self.parseNDJSON(body) : [Self.parseEvent(body[...], line: nil)]
        guard !events.isEmpty else { throw APIError(.badRequest, "the body holds no event") }
        let runtime = host.runtime
        let log = host.log
        let started = monotonicNanoseconds()
        let receipts: [JournalEntryReceipt]
        do {
            receipts = try await work.run { try runtime.emit(events) }
        } catch let error as LaForgeRuntimeError {
            if case .audit(let audit) = error, audit.kind == .invalidEvent { throw APIError(.badRequest, audit.description) }
            throw APIError(.serviceUnavailable, "not recorded: \(error.description)", retryAfter: 1)
        }
        // With fail_closed: false the journal may drop events; they must not be acknowledged.
        guard receipts.count == events.count else {
            throw APIError(.serviceUnavailable, "not recorded: the audit journal could not persist the events (fail_closed is false, so they were dropped)", retryAfter: 1)
        }
        requestMetrics.emitted(events: events.count, commitSeconds: Double(ClockArithmetic.elapsed(since: started, now: monotonicNanoseconds())) / 1e9)
        var items: [JSONValue] = receipts.map { .object(["seq": .number(Double($0.seq)), "hash": .string($0.hash.hexString)]) }
        if waitForCheckpoint {
            let reader = host.reader
            let proofs = try await work.run { () throws -> [JSONValue] in
                try log.signCheckpoint()
                return try receipts.map { try reader.prove(seq: $0.seq).jsonValue() }
            }
            items = zip(items, proofs).map { item, proof in
                var object = item.objectValue ?? [:]
                object["proof"] = proof
                return .object(object)
            }
        }
        return jsonResponse(.object(["entries": .array(items)]))
    }

    /// Filters as `laforge audit query` (since, until, actor, tenant, action), `limit` (default
    /// 100, at most 1000) and `cursor` (the `next_cursor` of the previous page).
    func entries(_ request: Request, _ context: ServeRequestContext) async throws -> Response {
        try await require(.read, context, route: "GET /v1/audit/entries")
        let parameters = request.uri.queryParameters
        var query = AuditQuery()
        for name in ["since", "until"] {
            guard let text = parameters[name[...]].map(String.init) else { continue }
            guard let time = AuditTimestamp(rfc3339: text) else {
                throw APIError(.badRequest, "\(name) must be RFC 3339, e.g. 2026-11-27T00:00:00Z", field: name)
            }
            if name == "since" { query.since = time } else { query.until = time }
        }
        query.actor = parameters["actor"].map(String.init)
        query.tenant = parameters["tenant"].map(String.init)
        query.action = parameters["action"].map(String.init)
        let limit = try Self.integer(parameters["limit"], name: "limit", default: 100, range: 1...1000)
        let cursor = UInt64(try Self.integer(parameters["cursor"], name: "cursor", default: 0, range: 0...Int.max))
        let reader = host.reader
        let log = host.log
        let filters = query
        let found = try await work.run { () throws -> [JournalEntry] in
            // A cursor past the end is an empty page (the entries may not exist yet), not an error.
            guard cursor < (try log.journal.currentSize()) else { return [] }
            return try reader.scan(from: cursor, matching: filters, limit: limit)
        }
        var bytes = Array(#"{"entries":["#.utf8)
        for (index, entry) in found.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes += Array(#"{"seq":\#(entry.seq),"hash":"\#(entry.hash.hexString)","entry":"#.utf8)
            bytes += entry.payload
            bytes.append(UInt8(ascii: "}"))
        }
        bytes += Array("]".utf8)
        if found.count == limit, let last = found.last { bytes += Array(#","next_cursor":"\#(last.seq + 1)""#.utf8) }
        bytes.append(UInt8(ascii: "}"))
        return jsonResponse(bytes: bytes)
    }

    func proof(_ request: Request, _ context: ServeRequestContext) async throws -> Response {
        try await require(.read, context, route: "GET /v1/audit/entries/{seq}/proof")
        guard let text = context.parameters.get("seq"), let seq = UInt64(text) else {
            throw APIError(.badRequest, "seq must be a non-negative integer", field: "seq")
        }
        let reader = host.reader
        let log = host.log
        return try await work.run { () throws -> Response in
            let size = try log.journal.currentSize()
            guard seq < size else { throw APIError(.notFound, "no entry \(seq): the journal holds \(size) entries") }
            do { return jsonResponse(try reader.prove(seq: seq).jsonValue()) } catch {
                throw APIError(.conflict, "\(error)")
            }
        }
    }

    /// The newest signed checkpoint (a C2SP signed note).
    func checkpoint(_ context: ServeRequestContext) async throws -> Response {
        try await require(.read, context, route: "GET /v1/audit/checkpoint")
        let log = host.log
        return try await work.run { () throws -> Response in
            guard let stored = try log.journal.checkpoints().last else {
                throw APIError(.notFound, "no checkpoint has been signed yet")
            }
            let payload = try JSONParser.parse(stored.payload)
            return jsonResponse(.object([
                "size": .number(Double(stored.size)), "note": payload["note"] ?? .null,
                "signed_at_us": payload["signed_at_us"] ?? .null,
            ]))
        }
    }

    /// RFC 9162 consistency proof between tree sizes `from` and `to` (default: the newest
    /// checkpoint's size).
    func consistency(_ request: Request, _ context: ServeRequestContext) async throws -> Response {
        try await require(.read, context, route: "GET /v1/audit/consistency")
        let parameters = request.uri.queryParameters
        let from = UInt64(try Self.integer(parameters["from"], name: "from", default: nil, range: 0...Int.max))
        let givenTo = try parameters["to"].map { _ in UInt64(try Self.integer(parameters["to"], name: "to", default: nil, range: 0...Int.max)) }
        let log = host.log
        return try await work.run { () throws -> Response in
            let newest = try log.journal.checkpoints().last?.size ?? 0
            let to = givenTo ?? newest
            guard from <= to else { throw APIError(.badRequest, "from (\(from)) must not exceed to (\(to))", field: "from") }
            let size = try log.journal.currentSize()
            guard to <= size else { throw APIError(.notFound, "the journal holds \(size) entries, fewer than to (\(to))", field: "to") }
            let leaves = try log.journal.leafHashes(from: 0, to: to)
            let proof = try MerkleTree.consistencyProof(from: from, to: to, leaves: leaves)
            return jsonResponse(.object([
                "from": .number(Double(from)), "to": .number(Double(to)),
                "from_root": .string(MerkleTree.root(of: leaves[0..<Int(from)]).hexString),
                "to_root": .string(MerkleTree.root(of: leaves).hexString),
                "proof": .array(proof.map { .string($0.hexString) }),
            ]))
        }
    }

    // MARK: - Input

    static func collect(_ request: Request, _ context: ServeRequestContext) async throws -> [UInt8] {
        do {
            let buffer = try await request.body.collect(upTo: context.bodyLimit)
            return Array(buffer.readableBytesView)
        } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, "the request body is larger than serve.max_body_bytes (\(context.bodyLimit) bytes)")
        }
    }

    static func parseNDJSON(_ body: [UInt8]) throws -> [AuditEvent] {
        var events: [AuditEvent] = []
        var lineNumber = 0
        for line in body.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            let trimmed = line.last == UInt8(ascii: "\r") ? line.dropLast() : line
            if trimmed.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            events.append(try parseEvent(trimmed, line: lineNumber))
        }
        return events
    }

    static func parseEvent(_ bytes: ArraySlice<UInt8>, line: Int?) throws -> AuditEvent {
        let value: JSONValue
        do { value = try JSONParser.parse(bytes, exactNumbers: true) } catch {
            let field = error.field
            throw APIError(
                .badRequest, (line.map { "line \($0): " } ?? "") + "not valid JSON: \(error.message)", line: line,
                field: field?.isEmpty == false ? field : nil)
        }
        do { return try AuditEvent(json: value, line: line) } catch {
            throw APIError(.badRequest, error.description, line: line, field: error.field.isEmpty ? nil : error.field)
        }
    }

    static func integer(_ text: Substring?, name: String, default fallback: Int?, range: ClosedRange<Int>) throws -> Int {
        guard let text else {
            if let fallback { return fallback }
            throw APIError(.badRequest, "\(name) is required", field: name)
        }
        guard let value = Int(text), range.contains(value) else {
            throw APIError(.badRequest, "\(name) must be an integer in \(range.lowerBound)…\(range.upperBound), got \(text)", field: name)
        }
        return value
    }
}
