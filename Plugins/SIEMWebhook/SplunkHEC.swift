import CSodium
import HTTPClient
import PluginABI

/// Splunk HTTP Event Collector: `POST /services/collector/event` with `Authorization: Splunk
/// <token>`, one JSON event object per record.
///
/// With `acknowledgement: true` (indexer acknowledgement) a 200 only means "received": each
/// request's `ackId` is remembered, and records count as stored only once
/// `POST /services/collector/ack` reports their ack id true, on the same
/// `X-Splunk-Request-Channel`. `write` never waits: it sends, polls once, and answers RETRY
/// with `*stored` = the acknowledged prefix; the host calls again after its backoff, and the
/// records still awaiting acknowledgement are polled, not re-sent. An ack that does not come
/// within `ack_timeout_ms` (an indexer restart loses them) makes the records be sent again.
final class SplunkHEC: RecordSender {
    private struct InFlight {
        var ackID: UInt64
        var keys: [String]
        var sentAt: Int64
        var acknowledged = false
    }

    private let settings: SIEMWebhookConfig.Splunk
    private let transport: HTTPTransport
    private let chunker: RequestChunker
    private let chain: () -> String
    private let host: HostServices
    private let channel: String
    private var inFlight: [InFlight] = []

    init(
        settings: SIEMWebhookConfig.Splunk, transport: HTTPTransport, chunker: RequestChunker, chain: @escaping () -> String,
        host: HostServices
    ) {
        self.settings = settings
        self.transport = transport
        self.chunker = chunker
        self.chain = chain
        self.host = host
        channel = settings.channel ?? Self.randomChannel()
    }

    /// The collector's base URL: the configured one without `/services/collector…` or a slash.
    static func baseURL(_ configured: String) -> String {
        var url = Substring(configured)
        while url.hasSuffix("/") { url = url.dropLast() }
        for suffix in ["/services/collector/event", "/services/collector/raw", "/services/collector"] where url.hasSuffix(suffix) {
            url = url.dropLast(suffix.count)
            break
        }
        return String(url)
    }

    private var authHeaders: [HTTPHeader] {
        var headers = [HTTPHeader("Authorization", "Splunk \(settings.token ?? "")")]
        if settings.acknowledgement { headers.append(HTTPHeader("X-Splunk-Request-Channel", channel)) }
        return headers
    }

    func send(_ records: ArraySlice<SinkRecord>) -> SendOutcome {
        let base = records.startIndex
        // Requests still awaiting acknowledgement must be this batch's leading records; if the
        // host moved on (a restart, a dead letter), forget them.
        var covered = 0
        var matched = 0
        for flight in inFlight {
            let keys = records.dropFirst(covered).prefix(flight.keys.count).map(\.key)
            guard keys == flight.keys else { break }
            covered += flight.keys.count
            matched += 1
        }
        inFlight.removeSubrange(matched...)

        let chainID = ChainName(chain())
        let pieces = records.dropFirst(covered).map { encode($0, chain: chainID) }
        let sizes = pieces.map(\.count)
        var start = 0
        var failure: SendOutcome?
        while start < pieces.count {
            let end = chunker.end(from: start, sizes: sizes)
            let slice = records[(base + covered + start)..<(base + covered + end)]
            let outcome = post(slice, pieces[start..<end])
            if outcome.status == Status.permanentError && end - start > 1 {
                // Find the refused record: one request per record from here.
                var single = SendOutcome.allStored(0)
                for index in start..<end {
                    single = post(records[(base + covered + index)...(base + covered + index)], pieces[index...index])
                    if single.status != Status.ok {
                        single = single.shifted(by: index)
                        break
                    }
                }
                if single.status != Status.ok {
                    failure = single.shifted(by: covered)
                    break
                }
            } else if outcome.status != Status.ok {
                failure = outcome.shifted(by: covered + start)
                break
            }
            start = end
        }
        guard settings.acknowledgement else {
            return failure ?? .allStored(records.count)
        }

        // Acknowledged prefix: poll once, then count leading acknowledged requests.
        var message = pollAcknowledgements()
        var stored = 0
        var expired = false
        let now = AuditTime.nowMilliseconds()
        while let first = inFlight.first, first.acknowledged {
            stored += first.keys.count
            inFlight.removeFirst()
        }
        if let first = inFlight.first, now - first.sentAt > Int64(settings.ackTimeoutMilliseconds) {
            // Lost acknowledgements: send these records again at the next call.
            message = "HEC did not acknowledge ack id \(first.ackID) within \(settings.ackTimeoutMilliseconds) ms; re-sending \(inFlight.reduce(0) { $0 + $1.keys.count }) records"
            inFlight.removeAll()
            expired = true
        }
        if let failure, inFlight.isEmpty, !expired, stored == failure.stored {
            // Everything before the failed request is acknowledged: its verdict stands.
            return failure
        }
        if stored == records.count { return .allStored(stored) }
        if let failure, message == nil { message = failure.message }
        let waiting = inFlight.reduce(0) { $0 + $1.keys.count }
        return .retry(
            stored: stored,
            message ?? "waiting for HEC indexer acknowledgement of \(waiting) records (ack ids \(inFlight.prefix(5).map { String($0.ackID) }.joined(separator: ", "))\(inFlight.count > 5 ? ", …" : ""))")
    }

    /// One event object: `{"event":<envelope>,"host":…,"index":…,"source":…,"sourcetype":…,"time":…}`.
    private func encode(_ record: SinkRecord, chain: ChainName) -> [UInt8] {
        var out = Array("{\"event\":".utf8)
        record.appendEnvelope(chain: chain, to: &out)
        if let host = settings.host {
            out.append(contentsOf: Array(",\"host\":".utf8))
            JSONText.appendString(host, to: &out)
        }
        if let index = settings.index {
            out.append(contentsOf: Array(",\"index\":".utf8))
            JSONText.appendString(index, to: &out)
        }
        if let source = settings.source {
            out.append(contentsOf: Array(",\"source\":".utf8))
            JSONText.appendString(source, to: &out)
        }
        out.append(contentsOf: Array(",\"sourcetype\":".utf8))
        JSONText.appendString(settings.sourcetype, to: &out)
        if let timestamp = record.event()?.member("timestamp")?.stringText, let micros = AuditTime.epochMicroseconds(timestamp) {
            let fraction = String(micros % 1_000_000)
            out.append(contentsOf: Array(",\"time\":\(micros / 1_000_000).\(String(repeating: "0", count: 6 - fraction.count))\(fraction)".utf8))
        }
        out.append(contentsOf: Array("}\n".utf8))
        return out
    }

    private func post(_ records: ArraySlice<SinkRecord>, _ pieces: ArraySlice<[UInt8]>) -> SendOutcome {
        let url = transport.baseURL + "/services/collector/event"
        let request = transport.describe(url)
        var body: [UInt8] = []
        for piece in pieces { body.append(contentsOf: piece) }
        let response: HTTPResponse
        switch transport.post(url, body: body, contentType: "application/json", id: HTTPTransport.requestID(records), extraHeaders: authHeaders) {
        case .failed(let message): return .retry(stored: 0, message)
        case .response(let answer): response = answer
        }
        switch ResultMapping.verdict(response, request: request) {
        case .retry(let message): return .retry(stored: 0, message)
        case .refused(let message): return .refused(stored: 0, message)
        case .permanent(let message): return .permanent(at: 0, message)
        case .stored: break
        }
        guard settings.acknowledgement else { return .allStored(records.count) }
        guard let answer = try? JSONReader.parse(response.body), let ackID = answer.member("ackId")?.unsignedInteger else {
            return .retry(
                stored: 0,
                "\(request): HTTP \(response.status) without an ackId; enable indexer acknowledgement on the HEC token or set splunk.acknowledgement: false")
        }
        inFlight.append(InFlight(ackID: ackID, keys: records.map(\.key), sentAt: AuditTime.nowMilliseconds()))
        return .allStored(records.count)
    }

    /// Asks for every unacknowledged ack id once; marks the granted ones. A message when the
    /// poll itself failed.
    private func pollAcknowledgements() -> String? {
        let pending = inFlight.filter { !$0.acknowledged }.map(\.ackID)
        guard !pending.isEmpty else { return nil }
        let url = transport.baseURL + "/services/collector/ack"
        let request = transport.describe(url)
        let body = Array("{\"acks\":[\(pending.map(String.init).joined(separator: ","))]}".utf8)
        let response: HTTPResponse
        switch transport.post(url, body: body, contentType: "application/json", id: "ack-\(pending[0])", extraHeaders: authHeaders) {
        case .failed(let message): return "polling acknowledgements: \(message)"
        case .response(let answer): response = answer
        }
        guard (200..<300).contains(response.status) else {
            return "polling acknowledgements: HTTP \(response.status) from \(request): \(response.bodyPrefix(200))"
        }
        guard let answer = try? JSONReader.parse(response.body), case .object(let acks)? = answer.member("acks") else {
            return "polling acknowledgements: \(request) answered without an \"acks\" object"
        }
        for (key, value) in acks where value == .bool(true) {
            guard let id = UInt64(key) else { continue }
            for index in inFlight.indices where inFlight[index].ackID == id { inFlight[index].acknowledged = true }
        }
        return nil
    }

    /// A random UUID (version 4) for the request channel.
    private static func randomChannel() -> String {
        var bytes = [UInt8](repeating: 0, count: 16)
        randombytes_buf(&bytes, 16)
        bytes[6] = bytes[6] & 0x0F | 0x40
        bytes[8] = bytes[8] & 0x3F | 0x80
        let hex = Hex.encode(bytes)
        let characters = Array(hex)
        return [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(characters[$0]) }.joined(separator: "-")
    }
}
