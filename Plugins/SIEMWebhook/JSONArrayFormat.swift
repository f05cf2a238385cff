/// The envelopes as one JSON array (`application/json`), for receivers that parse the body as
/// a single JSON document.
struct JSONArrayFormat: BodyFormat {
    var contentType: String { "application/json" }
    var overhead: Int { 2 }

    func encode(_ record: SinkRecord, chain: ChainName) -> [UInt8] {
        var element: [UInt8] = []
        element.reserveCapacity(record.envelopeCapacity)
        record.appendEnvelope(chain: chain, to: &element)
        return element
    }

    func body(_ pieces: ArraySlice<[UInt8]>) -> [UInt8] {
        var body: [UInt8] = [UInt8(ascii: "[")]
        body.reserveCapacity(pieces.reduce(2) { $0 + $1.count + 1 })
        for (position, piece) in pieces.enumerated() {
            if position > 0 { body.append(UInt8(ascii: ",")) }
            body.append(contentsOf: piece)
        }
        body.append(UInt8(ascii: "]"))
        return body
    }
}
