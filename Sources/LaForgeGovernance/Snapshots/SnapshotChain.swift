import Foundation
import LaForgeCore
import LaForgePlugins

/// The snapshot chain of a state directory: `<state_dir>/snapshots/chain.ndjson`, one canonical
/// snapshot record per line, each linked to the one before by `prev_hash`.
public struct SnapshotChain: Sendable {
    public let directory: String
    let file: RecordFile

    public init(stateDirectory: String) {
        directory = (stateDirectory as NSString).appendingPathComponent("snapshots")
        file = RecordFile(path: (directory as NSString).appendingPathComponent("chain.ndjson"))
    }

    public var path: String { file.path }

    /// A stored line and what it parses to.
    public struct StoredRecord: Sendable {
        public var line: Int
        public var bytes: [UInt8]
        public var snapshot: Snapshot?
        /// Why the line is not a snapshot record.
        public var problem: String?
    }

    /// Every complete line, parsed where possible, and the size of an interrupted last line.
    public func storedRecords() throws(SnapshotError) -> (records: [StoredRecord], tornBytes: Int) {
        let (lines, torn) = try file.lines()
        let records = lines.map { line -> StoredRecord in
            do {
                let json = try JSONParser.parse(line.bytes)
                return StoredRecord(line: line.number, bytes: line.bytes, snapshot: try Snapshot(json: json), problem: nil)
            } catch let error as SnapshotError {
                return StoredRecord(line: line.number, bytes: line.bytes, snapshot: nil, problem: error.message)
            } catch {
                return StoredRecord(line: line.number, bytes: line.bytes, snapshot: nil, problem: "not JSON: \(error)")
            }
        }
        return (records, torn)
    }

    /// The snapshots that parse, in chain order.
    public func snapshots() throws(SnapshotError) -> [Snapshot] {
        try storedRecords().records.compactMap(\.snapshot)
    }

    /// The snapshot `reference` names: `latest`, or a hex prefix of its hash (at least 4 digits)
    /// that no other snapshot shares.
    public func resolve(_ reference: String) throws(SnapshotError) -> Snapshot {
        let all = try snapshots()
        if reference == "latest" {
            guard let last = all.last else {
                throw SnapshotError(.invalidInput, "there is no snapshot yet in \(path): create one with `laforge snapshot sign PATH…`")
            }
            return last
        }
        let prefix = reference.lowercased()
        guard prefix.count >= 4, prefix.count <= 64, prefix.allSatisfy({ $0.isHexDigit }) else {
            throw SnapshotError(.invalidInput, "snapshot \(quotedForMessage(reference)): give `latest` or a hex id prefix of at least 4 digits (as `laforge snapshot list` shows)")
        }
        let matches = all.filter { $0.hash.hexString.hasPrefix(prefix) }
        switch matches.count {
        case 1: return matches[0]
        case 0: throw SnapshotError(.invalidInput, "no snapshot \(reference) in \(path) (`laforge snapshot list` shows them)")
        default:
            throw SnapshotError(
                .invalidInput,
                "snapshot id \(reference) is ambiguous: it matches \(matches.map(\.shortID).joined(separator: ", ")); give more digits")
        }
    }

    /// Appends the snapshot `make` builds from the current last one, holding the chain's lock, so
    /// concurrent signers each link to the snapshot before them. Refuses to link to a damaged tail.
    func append(_ make: (_ last: Snapshot?) throws(SnapshotError) -> Snapshot) throws(SnapshotError) -> (Snapshot, notice: String?) {
        try file.withLock { () throws(SnapshotError) -> (Snapshot, notice: String?) in
            let records = try storedRecords().records
            var last: Snapshot?
            if let tail = records.last {
                guard let snapshot = tail.snapshot, snapshot.computedHash() == snapshot.hash else {
                    throw SnapshotError(
                        .corrupt,
                        "\(path):\(tail.line): the last snapshot is damaged (\(tail.problem ?? "its hash does not match its content")); "
                            + "run `laforge verify chain --snapshots` and restore the file before signing on")
                }
                last = snapshot
            }
            let snapshot = try make(last)
            let notice = try file.append(snapshot.canonicalLine())
            return (snapshot, notice)
        }
    }
}
