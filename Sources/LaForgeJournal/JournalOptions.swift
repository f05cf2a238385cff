/// When the journal calls `fdatasync` on the commit path.
public enum JournalFsync: String, Sendable, CaseIterable {
    /// Every `append` call is written and synced on its own: no batching across callers. The
    /// slowest mode; its only advantage over `group` is a predictable per-call latency.
    case always
    /// Group commit (the default): concurrent `append` callers are batched and share one write and
    /// one `fdatasync`. Every caller still returns only after its entries are durable.
    case group
    /// Never sync. Entries survive a crash of the process (they are in the page cache) but not a
    /// power loss or kernel panic. For tests and throw-away environments only.
    case never
}

/// How a `Journal` is laid out on disk and how it commits.
public struct JournalOptions: Sendable {
    /// The journal directory (`<state_dir>/journal`); created if missing.
    public var directory: String
    public var fsync: JournalFsync
    /// A new segment file starts at the first frame that would take the active one past this size.
    /// A single frame larger than this gets a segment of its own.
    public var segmentBytes: Int
    /// A group-commit leader stops taking queued `append` calls once the group holds this many
    /// entries. One call is never split: a call larger than the limit forms a group by itself.
    public var maxGroupEntries: Int
    /// As `maxGroupEntries`, in payload bytes.
    public var maxGroupBytes: Int

    public init(
        directory: String, fsync: JournalFsync = .group, segmentBytes: Int = 64 << 20,
        maxGroupEntries: Int = 4096, maxGroupBytes: Int = 8 << 20
    ) {
        self.directory = directory
        self.fsync = fsync
        self.segmentBytes = segmentBytes
        self.maxGroupEntries = maxGroupEntries
        self.maxGroupBytes = maxGroupBytes
    }
}
