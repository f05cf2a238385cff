import Foundation
import LaForgePluginKit
import Synchronization
import Testing

/// `last_error` storage: never NULL, one message per calling thread, cut at a character boundary.
@Suite struct LastErrorBufferTests {
    @Test func startsEmptyAndKeepsTheLatestMessage() {
        let buffer = LastErrorBuffer()
        #expect(String(cString: buffer.current) == "")
        buffer.record("first")
        buffer.record("cannot open /var/log/laforge.log: Permission denied")
        #expect(String(cString: buffer.current) == "cannot open /var/log/laforge.log: Permission denied")
    }

    @Test func eachThreadReadsItsOwnFailure() {
        let buffer = LastErrorBuffer()
        buffer.record("this thread's failure")
        let seen = Mutex<[String]>([])
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            let before = String(cString: buffer.current)
            buffer.record("other thread's failure")
            seen.withLock { $0 = [before, String(cString: buffer.current)] }
            done.signal()
        }
        done.wait()
        #expect(seen.withLock { $0 } == ["", "other thread's failure"])
        #expect(String(cString: buffer.current) == "this thread's failure")
    }

    @Test func longMessagesAreCutAtACharacterBoundary() {
        let buffer = LastErrorBuffer()
        buffer.record(String(repeating: "é", count: LastErrorBuffer.capacity))  // two bytes each
        let kept = String(cString: buffer.current)
        #expect(kept.utf8.count < LastErrorBuffer.capacity)
        #expect(kept.utf8.count >= LastErrorBuffer.capacity - 2)
        #expect(kept == String(repeating: "é", count: kept.count), "no half character at the end")
    }
}
