/// Splits records into requests of at most `maxEvents` records and `maxBytes` encoded bytes
/// (a single record larger than `maxBytes` still goes alone: it is not the receiver's limit).
struct RequestChunker {
    let maxEvents: Int
    let maxBytes: Int

    /// The end index of the request that starts at `start`, given each record's encoded size.
    func end(from start: Int, sizes: [Int], overhead: Int = 0) -> Int {
        var end = start
        var bytes = overhead
        while end < sizes.count, end - start < maxEvents {
            if end > start && bytes + sizes[end] > maxBytes { break }
            bytes += sizes[end]
            end += 1
        }
        return end
    }
}
