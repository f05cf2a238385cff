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

#if canImport(Glibc)
    import Glibc
#endif

/// Nothing is reported as written that is not durable; nothing half-written stays in a file.
@Suite(.serialized) struct JournalFailClosedTests {
    /// RLIMIT_FSIZE makes a write past the limit fail with EFBIG, like a full disk. The limit
    /// is per process, and other suites write files concurrently: a 15 MiB first entry puts the
    /// limit above anything they write.
    @Test func writeFailureRollsBackAndReportsTheError() throws {
        let directory = makeJournalDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let journal = try openJournal(directory, fsync: .always)
        _ = try journal.append([[UInt8](repeating: 0x61, count: 15 << 20), body("small")])
        let segment = directory + "/" + SegmentName.fileName(firstSeq: 0)
        let before = try fileSize(segment)

        var saved = rlimit()
        #expect(getrlimit(Int32(RLIMIT_FSIZE.rawValue), &saved) == 0)
        let previousHandler = signal(SIGXFSZ, SIG_IGN)
        var limit = saved
        limit.rlim_cur = rlim_t(before + 1000)
        #expect(setrlimit(Int32(RLIMIT_FSIZE.rawValue), &limit) == 0)
        let error = expectJournalError(.io(errno: EFBIG)) {
            _ = try journal.append((0..<10).map { _ in [UInt8](repeating: 0x62, count: 600) })
        }
        #expect(setrlimit(Int32(RLIMIT_FSIZE.rawValue), &saved) == 0)
        signal(SIGXFSZ, previousHandler)

        #expect(error?.path == segment)
        #expect(error?.description.contains("File too large") == true)
        #expect(try fileSize(segment) == before)
        #expect(journal.size == 2)
        // A write failure does not poison: the next append works (the limit is back).
        _ = try journal.append([body("after")])
        journal.close()
        let reopened = try openJournal(directory)
        #expect(reopened.recoveries.isEmpty)
        try expectValidChain(reopened, count: 3)
    }

    @Test func syncFailurePoisonsUntilReopened() throws {
        let directory = makeJournalDirectory()
        let journal = try openJournal(directory)
        _ = try journal.append([body("a")])
        let segment = directory + "/" + SegmentName.fileName(firstSeq: 0)
        let before = try fileSize(segment)
        journal.injectedDatasyncFailure.withLock { $0 = EIO }
        let failed = expectJournalError(.notDurable) { _ = try journal.append([body("b"), body("c")]) }
        #expect(failed?.message.contains("Input/output error") == true)
        #expect(try fileSize(segment) == before)
        let later = expectJournalError(.notDurable) { _ = try journal.append([body("d")]) }
        #expect(later?.message.contains("reopen") == true)
        #expect(throws: JournalError.self) {
            try journal.withExclusiveLock { view in try view.appendCheckpoint(size: 1, payload: []) }
        }
        journal.close()
        let reopened = try openJournal(directory)
        _ = try reopened.append([body("e")])
        try expectValidChain(reopened, count: 2)
    }

    /// Every waiting caller of a failed group gets the error, none a receipt.
    @Test func everyCallerOfAFailedGroupGetsTheError() throws {
        let directory = makeJournalDirectory()
        let journal = try openJournal(directory)
        journal.injectedDatasyncFailure.withLock { $0 = EIO }
        let outcomes = LockedValue<(ok: Int, failed: Int)>((0, 0))
        onThreads(6) { thread in
            for index in 0..<20 {
                do {
                    _ = try journal.append([body("\(thread)-\(index)")])
                    outcomes.withLock { $0.ok += 1 }
                } catch {
                    outcomes.withLock { $0.failed += 1 }
                }
            }
        }
        #expect(outcomes.withLock { $0.ok } == 0)
        #expect(outcomes.withLock { $0.failed } == 120)
        // The group that would have created the first segment removed it again.
        #expect(try segmentFiles(directory).isEmpty)
        journal.close()
        #expect(try openJournal(directory).size == 0)
    }
}
