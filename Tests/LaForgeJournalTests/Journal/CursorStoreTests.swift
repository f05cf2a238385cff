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

@Suite struct JournalCursorStoreTests {
    @Test func roundTrip() throws {
        let store = CursorStore(stateDirectory: makeJournalDirectory())
        #expect(try store.load("siem") == nil)
        try store.store("siem", SinkCursor(nextSeq: 42, checkpointSize: 40))
        #expect(try store.load("siem") == SinkCursor(nextSeq: 42, checkpointSize: 40))
        try store.store("siem", SinkCursor(nextSeq: 1 << 40, checkpointSize: 7))
        #expect(try store.load("siem") == SinkCursor(nextSeq: 1 << 40, checkpointSize: 7))
        #expect(try store.load("other") == nil)
        // No temporary files left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.directory) == ["siem"])
    }

    @Test(arguments: ["half", "garbage", "edited", "empty"])
    func damagedCursorFileIsAnErrorNamingIt(damage: String) throws {
        let store = CursorStore(stateDirectory: makeJournalDirectory())
        try store.store("file-sink", SinkCursor(nextSeq: 1234, checkpointSize: 1200))
        let path = store.path(for: "file-sink")
        // The record in slot 0, without the padding of the two slots.
        let original = String(try String(contentsOfFile: path, encoding: .utf8).prefix { $0 != "\u{0}" })
        let damaged: String
        switch damage {
        case "half": damaged = String(original.prefix(original.count / 2))
        case "garbage": damaged = "\u{0}\u{1}binary"
        case "edited": damaged = original.replacingOccurrences(of: "1234", with: "9234")
        default: damaged = ""
        }
        try damaged.write(toFile: path, atomically: false, encoding: .utf8)
        let error = expectJournalError(.corrupt) { _ = try store.load("file-sink") }
        #expect(error?.path == path)
        #expect(error?.description.contains(path) == true)
    }

    /// An update writes the slot the current cursor is not in: tearing it (a crash mid-write)
    /// leaves the previous cursor readable.
    @Test func aTornUpdateLeavesThePreviousCursor() throws {
        let store = CursorStore(stateDirectory: makeJournalDirectory())
        let path = store.path(for: "siem")
        try store.store("siem", SinkCursor(nextSeq: 10, checkpointSize: 8))
        try store.store("siem", SinkCursor(nextSeq: 20, checkpointSize: 16))
        try store.store("siem", SinkCursor(nextSeq: 30, checkpointSize: 24))
        #expect(try store.load("siem") == SinkCursor(nextSeq: 30, checkpointSize: 24))
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int == 2 * CursorStore.slotSize)

        // The newest record is in one slot; tear it half way.
        let handle = try #require(FileHandle(forUpdatingAtPath: path))
        let bytes = [UInt8](try handle.readToEnd() ?? Data())
        let slot = String(decoding: bytes.prefix(CursorStore.slotSize), as: UTF8.self).contains("next_seq 30") ? 0 : 1
        try handle.seek(toOffset: UInt64(slot * CursorStore.slotSize + 20))
        handle.write(Data(repeating: 0x41, count: 40))
        try handle.close()
        #expect(try store.load("siem") == SinkCursor(nextSeq: 20, checkpointSize: 16))

        // The next store overwrites the torn slot, not the good one.
        try store.store("siem", SinkCursor(nextSeq: 40, checkpointSize: 32))
        #expect(try store.load("siem") == SinkCursor(nextSeq: 40, checkpointSize: 32))
    }

    @Test(arguments: ["", "../escape", ".hidden", "a/b"])
    func unusableSinkNamesAreRefused(name: String) throws {
        let store = CursorStore(stateDirectory: makeJournalDirectory())
        _ = expectJournalError(.invalidArgument) { try store.store(name, SinkCursor(nextSeq: 0, checkpointSize: 0)) }
    }
}
