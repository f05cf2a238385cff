import Dispatch
import LaForgeCore

/// The verifier's Merkle frontier with the node hashes — one per leaf, a fifth of verification's
/// hashing — taken on other cores. Accepted leaf hashes are collected in runs; a full run is cut
/// into the complete subtrees of the tree it covers (aligned at multiples of their size, as
/// RFC 6962 §2.1 splits), a worker hashes each subtree's root, and the roots are folded into the
/// frontier in order when a root is asked for (a checkpoint, the end). The roots are the same as
/// appending leaf by leaf (`MerkleFrontierTests`, `ParallelVerificationTests`).
final class ParallelFrontier {
    /// Leaves per run handed to a worker: big enough that a dispatch is noise beside the 1023
    /// node hashes, small enough that the part a checkpoint finds unsubmitted is hashed quickly
    /// on the verifier's own thread.
    static let runLeaves = 1024

    private var frontier: MerkleFrontier
    private var filling: Run
    private var submitted: [Run] = []
    private var spare: [Run] = []

    init(_ start: MerkleFrontier = MerkleFrontier()) {
        frontier = start
        filling = Run(start: start.size)
    }

    /// Leaves appended so far, hashed into the tree or not yet.
    var size: UInt64 { filling.start + UInt64(filling.count) }

    func append(_ leafHash: [UInt8]) {
        precondition(leafHash.count == SHA256.digestCount, "Merkle leaves are 32-byte leaf hashes")
        leafHash.withUnsafeBytes { filling.leaves.advanced(by: filling.count * SHA256.digestCount).copyMemory(from: $0.baseAddress!, byteCount: SHA256.digestCount) }
        filling.count += 1
        if filling.count == Self.runLeaves { submit() }
    }

    /// MTH of the leaves appended so far: waits for the submitted runs and folds them in.
    func root() -> [UInt8] {
        if filling.count > 0 {
            // The tail of a run: hashing it here is quicker than waking a worker and waiting.
            filling.hashSubtrees()
            filling.done.signal()
            submitted.append(filling)
            filling = takeRun(start: size)
        }
        for run in submitted {
            run.done.wait()
            run.fold(into: &frontier)
            spare.append(run)
        }
        submitted.removeAll(keepingCapacity: true)
        return frontier.root()
    }

    private func submit() {
        let run = filling
        filling = takeRun(start: size)
        submitted.append(run)
        DispatchQueue.global().async {
            run.hashSubtrees()
            run.done.signal()
        }
    }

    private func takeRun(start: UInt64) -> Run {
        guard let run = spare.popLast() else { return Run(start: start) }
        run.reset(start: start)
        return run
    }
}

/// One run of consecutive leaf hashes and the roots of the complete subtrees it splits into.
/// Owned by one thread at a time: filled by the verifier, hashed by a worker, whose `done`
/// signal publishes the roots back.
private final class Run: @unchecked Sendable {
    private(set) var start: UInt64
    var count = 0
    let leaves = UnsafeMutableRawPointer.allocate(byteCount: ParallelFrontier.runLeaves * SHA256.digestCount, alignment: 16)
    /// (height, root) per subtree, left to right; at most two per bit of the run's size.
    private var roots: [(height: Int, root: ChainHashBytes)] = []
    let done = DispatchSemaphore(value: 0)

    init(start: UInt64) {
        self.start = start
        roots.reserveCapacity(2 * 64)
    }

    deinit { leaves.deallocate() }

    func reset(start: UInt64) {
        self.start = start
        count = 0
        roots.removeAll(keepingCapacity: true)
    }

    /// Cuts `start ..< start + count` into the largest subtrees aligned at multiples of their
    /// size and hashes each one's root.
    func hashSubtrees() {
        var position = start
        var offset = 0
        while offset < count {
            let alignment = position == 0 ? 62 : position.trailingZeroBitCount
            let fits = Int.bitWidth - 1 - (count - offset).leadingZeroBitCount
            let height = min(alignment, fits)
            var root = ChainHashBytes()
            withUnsafeMutableBytes(of: &root) { output in
                MerkleFrontier.subtreeRoot(leaves: leaves + offset * SHA256.digestCount, height: height, into: output.baseAddress!)
            }
            roots.append((height, root))
            offset += 1 << height
            position += 1 << UInt64(height)
        }
    }

    func fold(into frontier: inout MerkleFrontier) {
        precondition(frontier.size == start, "runs are folded in order")
        for (height, root) in roots {
            withUnsafeBytes(of: root) { frontier.append(subtreeRoot: $0.baseAddress!, height: height) }
        }
    }
}

/// 32 bytes inline, so a run's subtree roots need no array each.
private struct ChainHashBytes {
    var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
}
