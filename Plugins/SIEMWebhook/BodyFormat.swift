/// A format whose request is one body holding several records, stored all or nothing: the
/// receiver's status decides for the whole request (NDJSON, JSON array, CEF over HTTP).
protocol BodyFormat {
    var contentType: String { get }
    /// Bytes the body adds around the records (the JSON array's brackets).
    var overhead: Int { get }
    func encode(_ record: SinkRecord, chain: ChainName) -> [UInt8]
    func body(_ pieces: ArraySlice<[UInt8]>) -> [UInt8]
}
