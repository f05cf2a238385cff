/// The signer's last check before signing a checkpoint: the proposed tree must extend the tree
/// of the previous checkpoint (DESIGN.md §4, "never sign a checkpoint inconsistent with an
/// earlier one"). Two signed checkpoints that disagree about the past are a fork, which is
/// exactly what the audit trail exists to make impossible to hide, so the host must refuse to
/// produce one even if its own state was damaged (a restored backup, a truncated journal).
///
/// It recomputes rather than trusting a proof: the signer has the leaf hashes (or the frontier
/// it persisted with the previous checkpoint), so recomputing costs one hash per leaf and
/// depends on nothing supplied from outside.
public enum ConsistencyGuard {
    /// A tree size and its root: what a checkpoint commits to.
    public struct TreeHead: Equatable, Sendable {
        public var size: UInt64
        public var rootHash: [UInt8]

        public init(size: UInt64, rootHash: [UInt8]) {
            self.size = size
            self.rootHash = rootHash
        }

        public init(_ checkpoint: Checkpoint) {
            self.init(size: checkpoint.size, rootHash: checkpoint.rootHash)
        }
    }

    public enum Verdict: Equatable, Sendable, CustomStringConvertible {
        case consistent
        /// The proposed tree has fewer leaves than one already signed.
        case shrinks(previousSize: UInt64, proposedSize: UInt64)
        /// The leaves no longer hash to the previously signed root: history was rewritten.
        case previousRootMismatch(size: UInt64, recomputed: [UInt8])
        /// The proposed root is not the root of the leaves.
        case proposedRootMismatch(size: UInt64, recomputed: [UInt8])
        /// The frontier given does not belong to the previous checkpoint.
        case frontierMismatch(frontierSize: UInt64)

        public var description: String {
            switch self {
            case .consistent:
                "consistent"
            case .shrinks(let previous, let proposed):
                "the proposed checkpoint has \(proposed) entries, fewer than the \(previous) already signed"
            case .previousRootMismatch(let size, let recomputed):
                "the first \(size) entries now hash to \(recomputed.hexString), not to the signed root: entries were changed, removed or reordered"
            case .proposedRootMismatch(let size, let recomputed):
                "the proposed root is not the root of the first \(size) entries (\(recomputed.hexString))"
            case .frontierMismatch(let frontierSize):
                "the stored Merkle frontier (\(frontierSize) entries) does not match the previous checkpoint"
            }
        }
    }

    /// Checks `proposed` against `previous` by rehashing the leaves `0..<proposed.size` once.
    /// `leafHashes(range)` returns the leaf hashes in that range, in order.
    public static func check<Failure: Error>(
        previous: TreeHead, proposed: TreeHead,
        leafHashes: (Range<UInt64>) throws(Failure) -> [[UInt8]]
    ) throws(Failure) -> Verdict {
        guard proposed.size >= previous.size else {
            return .shrinks(previousSize: previous.size, proposedSize: proposed.size)
        }
        var frontier = MerkleFrontier()
        for leaf in try leafHashes(0..<previous.size) { frontier.append(leaf) }
        guard frontier.size == previous.size, frontier.root() == previous.rootHash else {
            return .previousRootMismatch(size: previous.size, recomputed: frontier.root())
        }
        return try extend(frontier, to: proposed, leafHashes: leafHashes)
    }

    /// Checks `proposed` against `previous` from the frontier persisted with `previous`, reading
    /// only the leaves added since: O(new entries).
    public static func check<Failure: Error>(
        previous: TreeHead, frontier: MerkleFrontier, proposed: TreeHead,
        leafHashes: (Range<UInt64>) throws(Failure) -> [[UInt8]]
    ) throws(Failure) -> Verdict {
        guard proposed.size >= previous.size else {
            return .shrinks(previousSize: previous.size, proposedSize: proposed.size)
        }
        guard frontier.size == previous.size, frontier.root() == previous.rootHash else {
            return .frontierMismatch(frontierSize: frontier.size)
        }
        return try extend(frontier, to: proposed, leafHashes: leafHashes)
    }

    private static func extend<Failure: Error>(
        _ frontier: MerkleFrontier, to proposed: TreeHead,
        leafHashes: (Range<UInt64>) throws(Failure) -> [[UInt8]]
    ) throws(Failure) -> Verdict {
        var frontier = frontier
        if proposed.size > frontier.size {
            for leaf in try leafHashes(frontier.size..<proposed.size) { frontier.append(leaf) }
        }
        let root = frontier.root()
        guard frontier.size == proposed.size, root == proposed.rootHash else {
            return .proposedRootMismatch(size: proposed.size, recomputed: root)
        }
        return .consistent
    }
}
