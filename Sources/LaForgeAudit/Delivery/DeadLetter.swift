import LaForgeCore
import LaForgePlugins

/// One line of a sink's dead-letter file (`DeadLetterFile`): a record the sink refused for good,
/// with where it sits in the file so a disposition (replayed, purged) can name it for ever.
public struct DeadLetter: Sendable, Equatable {
    /// Which record: `entry:<seq>` or `checkpoint:<size>` (what an operator types).
    public struct RecordID: Sendable, Hashable, Comparable, CustomStringConvertible {
        public var kind: AuditRecordKind
        public var seq: UInt64

        public init(kind: AuditRecordKind, seq: UInt64) {
            self.kind = kind
            self.seq = seq
        }

        /// `7` and `entry:7` name entry 7, `checkpoint:8` the checkpoint of tree size 8.
        public init?(parsing text: String) {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            switch parts.count {
            case 1:
                guard let seq = UInt64(parts[0]) else { return nil }
                self.init(kind: .entry, seq: seq)
            case 2:
                guard let seq = UInt64(parts[1]) else { return nil }
                switch parts[0] {
                case "entry": self.init(kind: .entry, seq: seq)
                case "checkpoint": self.init(kind: .checkpoint, seq: seq)
                default: return nil
                }
            default: return nil
            }
        }

        public var description: String { "\(kind == .entry ? "entry" : "checkpoint"):\(seq)" }

        /// Journal order: a checkpoint of size n comes right after entry n-1 (before entry n).
        public static func < (a: RecordID, b: RecordID) -> Bool { a.position < b.position }

        /// Entry s at 2s+1, checkpoint n at 2n: between entries n-1 and n.
        private var position: UInt64 { kind == .entry ? seq * 2 + 1 : seq * 2 }
    }

    /// 1-based line of the dead-letter file (the file is append-only, so this never changes).
    public var line: Int
    public var sink: String
    public var id: RecordID
    /// Hex of the record's hash as it was refused (entry leaf hash, checkpoint root hash).
    public var hash: String
    public var error: String
    public var time: String
    /// The record's bytes as they were sent.
    public var record: String

    public func jsonValue(state: DeadLetterState, withRecord: Bool) -> JSONValue {
        var object: [String: JSONValue] = [
            "line": .number(Double(line)), "sink": .string(sink), "id": .string(id.description),
            "kind": .string(id.kind == .entry ? "entry" : "checkpoint"), "seq": .number(Double(id.seq)),
            "hash": .string(hash), "error": .string(error), "time": .string(time), "state": .string(state.rawValue),
        ]
        if withRecord { object["record"] = .string(record) }
        return .object(object)
    }
}

/// Where a dead letter stands, from its dispositions (`DeadLetterDispositions`).
public enum DeadLetterState: String, Sendable {
    /// Not yet replayed or purged.
    case pending
    /// A replay sent it but was interrupted before the sink's answer was recorded: the next
    /// replay sends it again (sinks are idempotent by seq, ABI.md).
    case inDoubt = "in_doubt"
    case replayed
    case purged

    public var isOpen: Bool { self == .pending || self == .inDoubt }
}
