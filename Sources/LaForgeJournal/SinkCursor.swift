/// How far a sink has stored the journal: persisted by `CursorStore` after the sink acknowledged.
public struct SinkCursor: Sendable, Equatable {
    /// The first entry the sink has not stored yet.
    public var nextSeq: UInt64
    /// The tree size of the newest checkpoint the sink has stored (0: none yet).
    public var checkpointSize: UInt64

    public init(nextSeq: UInt64, checkpointSize: UInt64) {
        self.nextSeq = nextSeq
        self.checkpointSize = checkpointSize
    }
}
