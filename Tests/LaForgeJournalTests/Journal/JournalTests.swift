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

@Suite struct JournalAppendTests {
    @Test func appendedEntriesReadBackByteExactAndChained() throws {
        let directory = makeJournalDirectory()
        let journal = try openJournal(directory)
        #expect(journal.size == 0)
        #expect(try journal.entries(from: 0, maxCount: 10, maxBytes: 1 << 20).isEmpty)

        let first = try journal.append([body("a"), body("bb")])
        let second = try journal.append([body("ccc")])
        #expect(first.map(\.seq) == [0, 1])
        #expect(second.map(\.seq) == [2])
        #expect(journal.size == 3)

        let entries = try expectValidChain(journal, count: 3)
        #expect(entries.map { extractBody($0.payload) } == [body("a"), body("bb"), body("ccc")])
        #expect(entries[0].prevHash == [UInt8](repeating: 0, count: 32))
        #expect(entries.map(\.hash) == (first + second).map(\.hash))
        #expect(try journal.leafHashes(from: 0, to: 3) == entries.map(\.hash))
        #expect(try journal.leafHashes(from: 1, to: 2) == [entries[1].hash])
        #expect(try journal.entries(from: 1, maxCount: 1, maxBytes: 1 << 20) == [entries[1]])
        // maxBytes stops before the entry that would exceed it, but never returns nothing.
        #expect(try journal.entries(from: 0, maxCount: 10, maxBytes: 1).count == 1)
        #expect(try journal.entries(from: 3, maxCount: 10, maxBytes: 1 << 20).isEmpty)
        // Past the end is an error, not "nothing to deliver": a cursor ahead of the journal
        // means entries were lost.
        _ = expectJournalError(.invalidArgument) { _ = try journal.entries(from: 4, maxCount: 10, maxBytes: 1 << 20) }
        _ = expectJournalError(.invalidArgument) { _ = try journal.leafHashes(from: 0, to: 4) }
        journal.close()

        // Reopened, the chain continues from the tail on disk.
        let reopened = try openJournal(directory)
        #expect(reopened.size == 3)
        #expect(reopened.recoveries.isEmpty)
        let third = try reopened.append([body("d")])
        #expect(third[0].seq == 3)
        let all = try expectValidChain(reopened, count: 4)
        #expect(all[3].prevHash == entries[2].hash)
    }

    @Test func closedJournalRefusesCalls() throws {
        let journal = try openJournal(makeJournalDirectory())
        _ = try journal.append([body("x")])
        journal.close()
        _ = expectJournalError(.closed) { _ = try journal.append([body("y")]) }
        _ = expectJournalError(.closed) { _ = try journal.entries(from: 0, maxCount: 1, maxBytes: 100) }
    }

    @Test func concurrentAppendersFormOneChainWithFewSyncs() throws {
        let directory = makeJournalDirectory()
        let journal = try openJournal(directory)
        let threads = 8
        let perThread = 500
        let receipts = LockedValue<[[JournalEntryReceipt]]>(Array(repeating: [], count: threads))
        onThreads(threads) { thread in
            for index in 0..<perThread {
                do {
                    let receipt = try journal.append([body("t\(thread)-\(index)")])
                    receipts.withLock { $0[thread] += receipt }
                } catch {
                    Issue.record("append failed: \(error)")
                }
            }
        }
        let total = threads * perThread
        #expect(journal.size == UInt64(total))
        let entries = try expectValidChain(journal, count: UInt64(total))
        let all = receipts.withLock { $0 }
        #expect(Set(all.flatMap { $0.map(\.seq) }) == Set(0..<UInt64(total)))
        for (thread, mine) in all.enumerated() {
            // Each thread's own appends keep its order, and each receipt names the stored entry.
            #expect(mine.map(\.seq) == mine.map(\.seq).sorted())
            for (index, receipt) in mine.enumerated() {
                #expect(extractBody(entries[Int(receipt.seq)].payload) == body("t\(thread)-\(index)"))
                #expect(entries[Int(receipt.seq)].hash == receipt.hash)
            }
        }
        let syncs = journal.datasyncCalls.load(ordering: .relaxed)
        print("journal: \(total) concurrent appends from \(threads) threads took \(syncs) fdatasync calls")
        #expect(syncs < total / 2)
    }

    @Test func alwaysSyncsEveryCallAndNeverSyncsNone() throws {
        let always = try openJournal(makeJournalDirectory(), fsync: .always)
        for index in 0..<5 { _ = try always.append([body("\(index)"), body("more")]) }
        #expect(always.datasyncCalls.load(ordering: .relaxed) == 5)
        let never = try openJournal(makeJournalDirectory(), fsync: .never)
        for index in 0..<5 { _ = try never.append([body("\(index)")]) }
        #expect(never.datasyncCalls.load(ordering: .relaxed) == 0)
        try expectValidChain(never, count: 5)
    }

    @Test func segmentsRotateAndReadsSpanThem() throws {
        let directory = makeJournalDirectory()
        let journal = try openJournal(directory, segmentBytes: 4096)
        for batch in 0..<20 {
            _ = try journal.append((0..<10).map { body(String(repeating: "x", count: 50 + $0) + "\(batch)") })
        }
        let files = try segmentFiles(directory)
        #expect(files.count > 3)
        #expect(files.first == "entries-00000000000000000000.seg")
        for file in files { #expect(try fileSize(directory + "/" + file) <= 4096) }
        let entries = try expectValidChain(journal, count: 200)
        // Each file is named after the seq of its first frame.
        var firstSeqs: [UInt64] = []
        for file in files {
            let offsets = try frameOffsets(directory + "/" + file)
            #expect(!offsets.isEmpty)
            firstSeqs.append(UInt64(file.dropFirst(8).prefix(20))!)
        }
        #expect(firstSeqs == firstSeqs.sorted())
        // Reads starting in the middle of a segment, and spanning boundaries.
        let middle = try journal.entries(from: 37, maxCount: 100, maxBytes: 1 << 20)
        #expect(middle == Array(entries[37..<137]))
        #expect(try journal.leafHashes(from: 5, to: 195) == entries[5..<195].map(\.hash))
        // Reopen continues in the last segment.
        journal.close()
        let reopened = try openJournal(directory, segmentBytes: 4096)
        _ = try reopened.append([body("after")])
        try expectValidChain(reopened, count: 201)
    }

    @Test func oversizeEntryIsRefusedAlone() throws {
        let journal = try openJournal(makeJournalDirectory(), fsync: .never)
        _ = try journal.append([body("ok")])
        _ = expectJournalError(.invalidArgument) {
            _ = try journal.append([[UInt8](repeating: 0x61, count: EntryFrame.maxPayload + 1)])
        }
        _ = try journal.append([body("still ok")])
        try expectValidChain(journal, count: 2)
    }
}

@Suite struct JournalMultiInstanceTests {
    /// flock locks belong to open file descriptions, so two `Journal`s in one process contend
    /// exactly as two processes would.
    @Test func twoInstancesOnOneDirectoryAppendOneChain() throws {
        let directory = makeJournalDirectory()
        let first = try openJournal(directory, segmentBytes: 16 << 10)
        let second = try openJournal(directory, segmentBytes: 16 << 10)
        let journals = [first, second]
        onThreads(8) { thread in
            for index in 0..<150 {
                do {
                    _ = try journals[thread % 2].append([body("i\(thread % 2)-t\(thread)-\(index)"), body("pair")])
                } catch {
                    Issue.record("append failed: \(error)")
                }
            }
        }
        #expect(first.size == 2400)
        #expect(second.size == 2400)
        try expectValidChain(first, count: 2400)
        try expectValidChain(second, count: 2400)
        let third = try openJournal(directory, segmentBytes: 16 << 10)
        #expect(third.recoveries.isEmpty)
        try expectValidChain(third, count: 2400)
        #expect(try segmentFiles(directory).count > 2)
    }

    /// Groups linked ahead (as `audit emit --stdin` does) land as linked when the chain still
    /// ends where they assumed, and are linked again when another writer moved the tail or a
    /// segment boundary falls inside them: the chain is the same either way.
    @Test func groupsLinkedAheadStayOneChainWhenAnotherWriterInterleaves() throws {
        let directory = makeJournalDirectory()
        let journal = try openJournal(directory, segmentBytes: 4096)
        let other = try openJournal(directory, segmentBytes: 4096)
        var tail = journal.knownTail
        var stale = 0
        for group in 0..<30 {
            let linked = journal.link((0..<7).map { body("g\(group)-\($0)-" + String(repeating: "y", count: 20)) }, after: tail)
            if group % 4 == 3 { _ = try other.append([body("other-\(group)")]) }
            let receipts = try journal.append(linked)
            #expect(receipts.count == 7)
            if receipts.last!.seq + 1 != linked.end.nextSeq || receipts.last!.hash != linked.end.lastHash.bytes { stale += 1 }
            tail = journal.knownTail
        }
        #expect(stale >= 7, "another writer appended before 7 of the groups, so they had to be linked again")
        try expectValidChain(journal, count: 30 * 7 + 7)
        #expect(try segmentFiles(directory).count > 3)
        // An oversize entry in a linked group is refused like any other, naming its seq.
        let tooLarge = journal.link([[UInt8](repeating: 0x61, count: EntryFrame.maxPayload + 1)], after: journal.knownTail)
        _ = expectJournalError(.invalidArgument) { _ = try journal.append(tooLarge) }
        try expectValidChain(journal, count: 30 * 7 + 7)
    }

    @Test func checkpointsAreAppendedUnderTheExclusiveLock() throws {
        let directory = makeJournalDirectory()
        let journal = try openJournal(directory)
        let other = try openJournal(directory)
        let receipts = try journal.append([body("a"), body("b"), body("c")])
        try other.withExclusiveLock { view in
            #expect(view.size == 3)
            #expect(view.lastEntryHash == receipts[2].hash)
            #expect(try view.leafHashes(from: 0, to: 3) == receipts.map(\.hash))
            #expect(view.lastCheckpoint() == nil)
            try view.appendCheckpoint(size: 3, payload: body("note 3"))
            #expect(view.lastCheckpoint() == StoredCheckpoint(size: 3, payload: body("note 3")))
        }
        _ = try other.append([body("d")])
        try journal.withExclusiveLock { view in
            #expect(view.size == 4)
            #expect(view.lastCheckpoint()?.size == 3)
            _ = expectJournalError(.invalidArgument) { try view.appendCheckpoint(size: 5, payload: []) }
            _ = expectJournalError(.invalidArgument) { try view.appendCheckpoint(size: 2, payload: []) }
            try view.appendCheckpoint(size: 4, payload: body("note 4"))
        }
        let expected = [
            StoredCheckpoint(size: 3, payload: body("note 3")), StoredCheckpoint(size: 4, payload: body("note 4")),
        ]
        #expect(try journal.checkpoints() == expected)
        #expect(try other.checkpoints() == expected)
        journal.close()
        other.close()
        #expect(try openJournal(directory).checkpoints() == expected)
    }
}

@Suite struct JournalThroughputTests {
    /// Not a benchmark gate: prints what this machine does, for docs/PERFORMANCE.md.
    @Test func appendAndReadThroughput() throws {
        let directory = makeJournalDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let journal = try openJournal(directory, segmentBytes: 8 << 20)
        let bodies = (0..<1000).map { index in [UInt8](repeating: UInt8(0x61 + index % 26), count: 600) }
        let groups = 40
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<groups { _ = try journal.append(bodies) }
        let appendSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let total = groups * bodies.count
        var bytes = 0
        let readStart = DispatchTime.now().uptimeNanoseconds
        var next: UInt64 = 0
        while true {
            let batch = try journal.entries(from: next, maxCount: 10_000, maxBytes: 64 << 20)
            guard let last = batch.last else { break }
            bytes += batch.reduce(0) { $0 + $1.payload.count + 80 }
            next = last.seq + 1
        }
        let readSeconds = Double(DispatchTime.now().uptimeNanoseconds - readStart) / 1e9
        let hashStart = DispatchTime.now().uptimeNanoseconds
        let hashes = try journal.leafHashes(from: 0, to: UInt64(total))
        let hashSeconds = Double(DispatchTime.now().uptimeNanoseconds - hashStart) / 1e9
        #expect(next == UInt64(total))
        #expect(hashes.count == total)
        print(
            "journal throughput: append \(Int(Double(total) / appendSeconds)) entries/s (600 B bodies, groups of 1000, "
                + "\(journal.datasyncCalls.load(ordering: .relaxed)) fdatasync); entries() \(Int(Double(bytes) / readSeconds / 1e6)) MB/s; "
                + "leafHashes \(Int(Double(total) / hashSeconds)) hashes/s")
    }
}
