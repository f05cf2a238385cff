import Foundation
import LaForgeCore
import LaForgeJournal
import LaForgePlugins
/// The leaf hashes of a verified journal, kept flat (32 bytes each), for comparing a sink with
/// the journal entry by entry (`verify chain --sink NAME --against-journal`): a sink's entry
/// must be byte-for-byte the journal's entry of the same seq, and the sink must hold every
/// entry the host delivered to it.
public struct JournalLeaves: Sendable {
    private var bytes: [UInt8] = []
    public private(set) var count: UInt64 = 0
    /// The tree sizes of the journal's verified checkpoints, ascending (sizes signed twice once).
    public private(set) var checkpointSizes: [UInt64] = []

    public init() {}

    public mutating func append(_ hash: [UInt8]) {
        precondition(hash.count == 32, "a leaf hash is 32 bytes")
        bytes += hash
        count += 1
    }

    public mutating func appendCheckpoint(_ size: UInt64) {
        if checkpointSizes.last != size { checkpointSizes.append(size) }
    }

    /// The journal's checkpoint sizes above `lower` and below `upper` (both exclusive), size 0
    /// left out (it covers nothing): the ones a sink holding checkpoints `lower` and `upper`
    /// and none between has lost.
    public func checkpointSizes(between lower: UInt64, and upper: UInt64) -> ArraySlice<UInt64> {
        let start = checkpointSizes.firstIndex { $0 > lower && $0 > 0 } ?? checkpointSizes.endIndex
        let end = checkpointSizes[start...].firstIndex { $0 >= upper } ?? checkpointSizes.endIndex
        return checkpointSizes[start..<end]
    }

    /// Whether the journal's entry `seq` has leaf hash `hash`; nil when the journal has no such entry.
    public func matches(_ seq: UInt64, _ hash: [UInt8]) -> Bool? {
        guard seq < count else { return nil }
        let start = Int(seq) * 32
        return bytes[start..<start + 32].elementsEqual(hash)
    }
}
