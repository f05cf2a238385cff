import Foundation
import Testing
@testable import LaForgeTestSupport

@testable import LaForgeAudit
@testable import LaForgeCore
@testable import LaForgeGovernance
@testable import LaForgeIdentity
@testable import LaForgeJournal
@testable import LaForgePlugins
@testable import LaForgeSecrets

/// Crash leftovers are cut off on open; anything else wrong is an error naming file and offset
/// (Vector #17644/#19759, Fluent Bit #2274: corrupted buffers silently skipping records).
@Suite struct JournalRecoveryTests {
    /// A journal of `count` entries; returns the directory and the (only) segment's path.
    func makeJournal(count: Int, segmentBytes: Int = 64 << 20) throws -> (String, String) {
        let directory = makeJournalDirectory()
        let journal = try openJournal(directory, segmentBytes: segmentBytes)
        _ = try journal.append((0..<count).map { body("entry \($0)") })
        journal.close()
        return (directory, directory + "/" + SegmentName.fileName(firstSeq: 0))
    }

    @Test(arguments: [1, 40, 79, 80, 85])
    func tornLastFrameIsTruncated(keptBytesOfLastFrame: Int) throws {
        let (directory, segment) = try makeJournal(count: 10)
        let offsets = try frameOffsets(segment)
        let cut = offsets[9] + UInt64(keptBytesOfLastFrame)
        try truncateFile(segment, to: cut)

        let journal = try openJournal(directory)
        #expect(journal.size == 9)
        #expect(journal.recoveries.map(\.offset) == [offsets[9]])
        #expect(journal.recoveries.first?.discardedBytes == UInt64(keptBytesOfLastFrame))
        #expect(try fileSize(segment) == offsets[9])
        _ = try journal.append([body("new 9")])
        let entries = try expectValidChain(journal, count: 10)
        #expect(extractBody(entries[8].payload) == body("entry 8"))
        #expect(extractBody(entries[9].payload) == body("new 9"))
    }

    @Test(arguments: [
        [UInt8](repeating: 0, count: 3), Array("LFJ1".utf8) + [UInt8](repeating: 0xFF, count: 200),
        Array("garbage after the last frame".utf8),
    ])
    func garbageAfterTheLastFrameIsTruncated(garbage: [UInt8]) throws {
        let (directory, segment) = try makeJournal(count: 5)
        let size = try fileSize(segment)
        try appendToFile(segment, garbage)
        let journal = try openJournal(directory)
        #expect(journal.size == 5)
        #expect(journal.recoveries.count == 1)
        #expect(try fileSize(segment) == size)
        try expectValidChain(journal, count: 5)
    }

    /// A last frame of full length whose hash does not verify, with nothing after it, is what a
    /// power loss leaves when the size reached the disk before the data.
    @Test func unverifiableFinalFrameIsTruncated() throws {
        let (directory, segment) = try makeJournal(count: 5)
        let offsets = try frameOffsets(segment)
        try patchFile(segment, at: try fileSize(segment) - 1) { $0 ^ 0x01 }
        let journal = try openJournal(directory)
        #expect(journal.size == 4)
        #expect(journal.recoveries.map(\.offset) == [offsets[4]])
    }

    @Test(arguments: [0, 4, 8, 20, 60, 90])
    func flippedByteInAMiddleFrameIsAnErrorNamingTheOffset(byteInFrame: Int) throws {
        let (directory, segment) = try makeJournal(count: 10)
        let offsets = try frameOffsets(segment)
        let size = try fileSize(segment)
        try patchFile(segment, at: offsets[3] + UInt64(byteInFrame)) { $0 ^ 0x20 }
        let error = expectJournalError(.corrupt) { _ = try openJournal(directory) }
        #expect(error?.path == segment)
        #expect(error?.offset == offsets[3])
        #expect(error?.description.contains("at byte \(offsets[3])") == true)
        // Nothing was truncated.
        #expect(try fileSize(segment) == size)
    }

    @Test func corruptionInAnEarlierSegmentFailsTheRead() throws {
        let (directory, _) = try makeJournal(count: 100, segmentBytes: 2048)
        let files = try segmentFiles(directory)
        #expect(files.count > 3)
        let earlier = directory + "/" + files[1]
        let offsets = try frameOffsets(earlier)
        // The seq field of a frame in the middle of an earlier segment.
        try patchFile(earlier, at: offsets[2] + 8) { $0 ^ 0x04 }
        let journal = try openJournal(directory, segmentBytes: 2048)
        let error = expectJournalError(.corrupt) { try expectValidChain(journal, count: 100) }
        #expect(error?.path == earlier)
        #expect(error?.offset == offsets[2])

        // A changed payload is found by reads that verify hashes (and by the verifier).
        let (other, _) = try makeJournal(count: 100, segmentBytes: 2048)
        let otherEarlier = other + "/" + (try segmentFiles(other))[1]
        let otherOffsets = try frameOffsets(otherEarlier)
        try patchFile(otherEarlier, at: otherOffsets[1] + 85) { $0 ^ 0x01 }
        let reopened = try openJournal(other, segmentBytes: 2048)
        let hashError = expectJournalError(.corrupt) {
            _ = try reopened.entries(from: 0, maxCount: 100, maxBytes: 1 << 20, verifyingHashes: true)
        }
        #expect(hashError?.path == otherEarlier)
        #expect(hashError?.offset == otherOffsets[1])
    }

    @Test func missingSegmentIsAnError() throws {
        let (directory, _) = try makeJournal(count: 100, segmentBytes: 2048)
        let files = try segmentFiles(directory)
        // A middle segment gone: found when a read crosses the gap.
        try FileManager.default.removeItem(atPath: directory + "/" + files[1])
        let journal = try openJournal(directory, segmentBytes: 2048)
        let error = expectJournalError(.corrupt) { try expectValidChain(journal, count: 100) }
        #expect(error?.path == directory + "/" + files[2])
        // The segment before the last gone: found on open.
        try FileManager.default.removeItem(atPath: directory + "/" + files[files.count - 2])
        _ = expectJournalError(.corrupt) { _ = try openJournal(directory, segmentBytes: 2048) }
        // The first segment gone.
        let (other, _) = try makeJournal(count: 100, segmentBytes: 2048)
        try FileManager.default.removeItem(atPath: other + "/" + SegmentName.fileName(firstSeq: 0))
        _ = expectJournalError(.corrupt) { _ = try openJournal(other, segmentBytes: 2048) }
    }

    @Test func tornTailFoundWhenAnotherWriterDied() throws {
        let directory = makeJournalDirectory()
        let journal = try openJournal(directory)
        _ = try journal.append([body("one"), body("two")])
        // Another process crashed mid-write: half a frame after the tail, lock released.
        let segment = directory + "/" + SegmentName.fileName(firstSeq: 0)
        try appendToFile(
            segment, Array("LFJ1".utf8) + [40, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0] + [UInt8](repeating: 7, count: 30))
        let receipts = try journal.append([body("three")])
        #expect(receipts[0].seq == 2)
        #expect(journal.recoveries.count == 1)
        try expectValidChain(journal, count: 3)
    }

    @Test func tornCheckpointIsTruncatedAndMiddleCorruptionIsAnError() throws {
        let directory = makeJournalDirectory()
        var journal = try openJournal(directory)
        _ = try journal.append([body("a"), body("b")])
        for size in [1, 2, 2] as [UInt64] {
            try journal.withExclusiveLock { view in
                try view.appendCheckpoint(size: size, payload: body("checkpoint \(size)"))
            }
        }
        journal.close()
        let path = directory + "/" + CheckpointLog.fileName
        let whole = try fileSize(path)
        try appendToFile(path, Array("LFC1".utf8) + [9, 0])
        journal = try openJournal(directory)
        #expect(journal.recoveries.map(\.offset) == [whole])
        #expect(try journal.checkpoints().map(\.size) == [1, 2, 2])
        journal.close()

        // Byte 20 is inside the first checkpoint's payload.
        try patchFile(path, at: 20) { $0 ^ 0x01 }
        let error = expectJournalError(.corrupt) { _ = try openJournal(directory) }
        #expect(error?.path == path)
        #expect(error?.offset == 0)
    }

    @Test func checkpointBeyondTheJournalIsAnError() throws {
        let directory = makeJournalDirectory()
        let journal = try openJournal(directory)
        _ = try journal.append([body("a"), body("b")])
        try journal.withExclusiveLock { view in try view.appendCheckpoint(size: 2, payload: body("two")) }
        journal.close()
        try truncateFile(directory + "/" + SegmentName.fileName(firstSeq: 0), to: 1)
        // The segment's only frames are gone (a torn tail), so the checkpoint covers lost entries.
        let error = expectJournalError(.corrupt) { _ = try openJournal(directory) }
        #expect(error?.message.contains("entries were lost") == true)
    }

    @Test func malformedSegmentNameIsAnError() throws {
        let (directory, _) = try makeJournal(count: 1)
        #expect(FileManager.default.createFile(atPath: directory + "/entries-12.seg", contents: Data()))
        let error = expectJournalError(.corrupt) { _ = try openJournal(directory) }
        #expect(error?.path == directory + "/entries-12.seg")
    }
}
