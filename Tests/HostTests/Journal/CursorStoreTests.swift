import Foundation
import Testing

@testable import LaForgeHost

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
        let original = try String(contentsOfFile: path, encoding: .utf8)
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

    @Test(arguments: ["", "../escape", ".hidden", "a/b"])
    func unusableSinkNamesAreRefused(name: String) throws {
        let store = CursorStore(stateDirectory: makeJournalDirectory())
        _ = expectJournalError(.invalidArgument) { try store.store(name, SinkCursor(nextSeq: 0, checkpointSize: 0)) }
    }
}
