import HTTPClient

/// Elasticsearch/OpenSearch `_bulk` with `create` actions and `_id` = the entry hash, so a
/// re-sent record is refused as a duplicate (409) instead of stored twice.
///
/// A `_bulk` answer is judged item by item: HTTP 200 may carry `"errors":true`. Items are
/// walked in order: 200/201 stored, 409 already stored; the first other item decides — 429 or
/// 5xx RETRY, any other status PERMANENT_ERROR for that record. Records after it that the
/// cluster did store come back as 409 on the re-send.
final class ElasticBulk: RecordSender {
    private let settings: SIEMWebhookConfig.Elastic
    private let transport: HTTPTransport
    private let chunker: RequestChunker
    private let chain: () -> String
    private let url: String
    /// Whether the last `post` failed for the request as a whole (not one item).
    private var wholeRequestRefused = false

    init(settings: SIEMWebhookConfig.Elastic, transport: HTTPTransport, chunker: RequestChunker, chain: @escaping () -> String) {
        self.settings = settings
        self.transport = transport
        self.chunker = chunker
        self.chain = chain
        var url = transport.baseURL + "/_bulk"
        if let pipeline = settings.pipeline { url += "?pipeline=" + Self.percentEncoded(pipeline) }
        self.url = url
    }

    /// The cluster's base URL: the configured one without a trailing `/` or `/_bulk`.
    static func baseURL(_ configured: String) -> String {
        var url = Substring(configured)
        while url.hasSuffix("/") { url = url.dropLast() }
        if url.hasSuffix("/_bulk") { url = url.dropLast(6) }
        return String(url)
    }

    func send(_ records: ArraySlice<SinkRecord>) -> SendOutcome {
        let chainID = ChainName(chain())
        let pieces = records.map { encode($0, chain: chainID) }
        let sizes = pieces.map(\.count)
        let base = records.startIndex
        var start = 0
        while start < pieces.count {
            let end = chunker.end(from: start, sizes: sizes)
            let outcome = post(records[(base + start)..<(base + end)], pieces[start..<end])
            if outcome.status == Status.permanentError && outcome.stored == 0 && wholeRequestRefused && end - start > 1 {
                // The cluster refused the request itself (413, a bad body): find the record it
                // cannot take by sending them one at a time.
                for index in start..<end {
                    let single = post(records[(base + index)...(base + index)], pieces[index...index])
                    if single.status != Status.ok { return single.shifted(by: index) }
                }
            } else if outcome.status != Status.ok {
                return outcome.shifted(by: start)
            }
            start = end
        }
        return .allStored(pieces.count)
    }

    /// `{"create":{"_id":…,"_index":…}}` and the envelope, each on its own line.
    private func encode(_ record: SinkRecord, chain: ChainName) -> [UInt8] {
        var out = Array("{\"create\":{\"_id\":".utf8)
        JSONText.appendString(record.idempotencyKey, to: &out)
        out.append(contentsOf: Array(",\"_index\":".utf8))
        JSONText.appendString(settings.index, to: &out)
        out.append(contentsOf: Array("}}\n".utf8))
        record.appendEnvelope(chain: chain, to: &out)
        out.append(0x0A)
        return out
    }

    private func post(_ records: ArraySlice<SinkRecord>, _ pieces: ArraySlice<[UInt8]>) -> SendOutcome {
        var body: [UInt8] = []
        body.reserveCapacity(pieces.reduce(0) { $0 + $1.count })
        for piece in pieces { body.append(contentsOf: piece) }
        let request = transport.describe(url)
        let response: HTTPResponse
        switch transport.post(url, body: body, contentType: "application/x-ndjson", id: HTTPTransport.requestID(records)) {
        case .failed(let message): return .retry(stored: 0, message)
        case .response(let answer): response = answer
        }
        switch ResultMapping.verdict(response, request: request) {
        case .retry(let message): return .retry(stored: 0, message)
        case .refused(let message): return .refused(stored: 0, message)
        case .permanent(let message):
            // The whole request was refused (bad index name, body too large).
            wholeRequestRefused = true
            return .permanent(at: 0, message)
        case .stored: break
        }
        wholeRequestRefused = false
        guard let answer = try? JSONReader.parse(response.body) else {
            return .retry(stored: 0, "\(request): HTTP \(response.status) with a body that is not JSON: \(response.bodyPrefix(200))")
        }
        if case .bool(false)? = answer.member("errors"), case .array(let items)? = answer.member("items"), items.count == records.count {
            return .allStored(records.count)
        }
        guard case .array(let items)? = answer.member("items"), items.count == records.count else {
            return .retry(stored: 0, "\(request): the answer does not list one item per record (\(records.count) sent)")
        }
        for (index, item) in items.enumerated() {
            let result = item.member("create") ?? item.member("index")
            guard let status = result?.member("status")?.unsignedInteger else {
                return .retry(stored: index, "\(request): item \(index) has no status")
            }
            if status == 200 || status == 201 || status == 409 { continue }
            let record = records[records.startIndex + index]
            var reason = "\(request): item \(index) (\(record.kind.rawValue) \(record.seq), _id \(record.idempotencyKey)) status \(status)"
            if let error = result?.member("error") {
                let type = error.member("type")?.stringText ?? "error"
                let text = error.member("reason")?.stringText ?? ""
                reason += ": \(type): \(String(text.prefix(300)))"
            }
            if status == 429 || status >= 500 { return .retry(stored: index, reason) }
            return .permanent(at: index, reason)
        }
        return .allStored(records.count)
    }

    private static func percentEncoded(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let digits = Array("0123456789ABCDEF")
                out += "%\(digits[Int(byte >> 4)])\(digits[Int(byte & 0x0F)])"
            }
        }
        return out
    }
}
