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

    public init() {}

    public mutating func append(_ hash: [UInt8]) {
        precondition(hash.count == 32, "a leaf hash is 32 bytes")
        bytes += hash
        count += 1
    }

    /// Whether the journal's entry `seq` has leaf hash `hash`; nil when the journal has no such entry.
    public func matches(_ seq: UInt64, _ hash: [UInt8]) -> Bool? {
        guard seq < count else { return nil }
        let start = Int(seq) * 32
        return bytes[start..<start + 32].elementsEqual(hash)
    }
}
