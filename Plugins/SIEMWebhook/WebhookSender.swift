/// Sends a body format's requests over HTTP: requests of at most `max_events`/`max_bytes`, in
/// order, stopping at the first that is not stored. When the receiver refuses a request of
/// several records for good (a 4xx), their records are sent one by one, so the permanent
/// error lands on exactly the record the receiver refuses and the others are still delivered.
final class WebhookSender: RecordSender {
    private let format: any BodyFormat
    private let transport: HTTPTransport
    private let chunker: RequestChunker
    private let chain: () -> String

    init(format: any BodyFormat, transport: HTTPTransport, chunker: RequestChunker, chain: @escaping () -> String) {
        self.format = format
        self.transport = transport
        self.chunker = chunker
        self.chain = chain
    }

    func send(_ records: ArraySlice<SinkRecord>) -> SendOutcome {
        let chainID = ChainName(chain())
        let pieces = records.map { format.encode($0, chain: chainID) }
        let sizes = pieces.map(\.count)
        let base = records.startIndex
        var start = 0
        while start < pieces.count {
            let end = chunker.end(from: start, sizes: sizes, overhead: format.overhead)
            let outcome = post(records[(base + start)..<(base + end)], pieces[start..<end])
            if outcome.status == Status.permanentError && end - start > 1 {
                // Which record did the receiver refuse? Ask it one record at a time.
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

    private func post(_ records: ArraySlice<SinkRecord>, _ pieces: ArraySlice<[UInt8]>) -> SendOutcome {
        let url = transport.baseURL
        switch transport.post(url, body: format.body(pieces), contentType: format.contentType, id: HTTPTransport.requestID(records)) {
        case .failed(let message):
            return .retry(stored: 0, message)
        case .response(let response):
            switch ResultMapping.verdict(response, request: transport.describe(url)) {
            case .stored: return .allStored(records.count)
            case .retry(let message): return .retry(stored: 0, message)
            case .refused(let message): return .refused(stored: 0, message)
            case .permanent(let message):
                let first = records.first!
                return .permanent(at: 0, "\(message) (request of \(records.count) records from \(first.kind.rawValue) \(first.seq))")
            }
        }
    }
}
