/// One envelope per line (`application/x-ndjson`): the default, and what most webhook
/// receivers, Vector and Logstash's http input read line by line.
struct NDJSONFormat: BodyFormat {
    var contentType: String { "application/x-ndjson" }
    var overhead: Int { 0 }

    func encode(_ record: SinkRecord, chain: ChainName) -> [UInt8] {
        var line: [UInt8] = []
        line.reserveCapacity(record.envelopeCapacity + 1)
        record.appendEnvelope(chain: chain, to: &line)
        line.append(0x0A)
        return line
    }

    func body(_ pieces: ArraySlice<[UInt8]>) -> [UInt8] {
        var body: [UInt8] = []
        body.reserveCapacity(pieces.reduce(0) { $0 + $1.count })
        for piece in pieces { body.append(contentsOf: piece) }
        return body
    }
}
