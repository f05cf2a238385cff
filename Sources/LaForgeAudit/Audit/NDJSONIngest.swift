import Foundation
import LaForgeCore
import LaForgeJournal

/// `laforge audit emit --stdin`: NDJSON events from a file descriptor, recorded in groups (one
/// fsync per group) in input order. A reader thread cuts the input into groups of lines; each
/// group is parsed, validated and canonicalized on a worker (all cores); a linker thread links
/// the groups into hash-chained frames in order, ahead of their commit; and the caller's thread
/// commits them strictly in order. So parsing, hashing and the disk's syncs overlap, and the
/// commit itself is a write and a sync. At most a few groups are in flight, so memory stays
/// flat for any input size.
public enum NDJSONIngest {
    public struct Summary: Sendable {
        public var count = 0
        public var first: JournalEntryReceipt?
        public var last: JournalEntryReceipt?
    }

    /// Stops the run: what was recorded before it is in `recorded`; nothing after it is.
    public struct Failure: Error, CustomStringConvertible {
        public var underlying: any Error
        public var recorded: Summary
        public var description: String { "\(underlying)" }
    }

    private enum Item {
        case group(PendingValue<Prepared>)
        case failed(any Error)
        case end

        /// The end or failure of the input, passed on to the committing thread.
        var linkedItem: LinkedItem {
            switch self {
            case .failed(let error): .failed(error)
            default: .end
            }
        }
    }

    private enum LinkedItem {
        case group(LinkedGroup, failure: (any Error)?)
        case failed(any Error)
        case end
    }

    /// Reads until end of input. `onRecorded` sees each group's receipts as soon as they are
    /// durable (for streaming output); they are not kept.
    public static func run(
        log: AuditLog, input: Int32 = 0, groupSize: Int = 1000,
        onRecorded: ([JournalEntryReceipt]) -> Void = { _ in }
    ) throws(Failure) -> Summary {
        let queue = BoundedQueue<Item>(capacity: 2 * ProcessInfo.processInfo.activeProcessorCount + 2)
        let reader = Thread {
            // A group's lines are copied out of the reader's block into one buffer (the group
            // outlives the block): one allocation per group rather than one per line.
            var text: [UInt8] = []
            var lines: [(number: Int, range: Range<Int>)] = []
            func ship() {
                guard !lines.isEmpty else { return }
                let group = PendingValue<Prepared>()
                let batch = lines.map { (number: $0.number, bytes: text[$0.range]) }
                text = []
                lines.removeAll(keepingCapacity: true)
                queue.push(.group(group))
                DispatchQueue.global().async { group.fill(prepare(batch, log: log)) }
            }
            // A group is shipped when full, and whenever the input pauses: a stream's events are
            // recorded as they come, not when a thousand have arrived.
            let end = LineReader().forEachLine(of: input, acceptingUnterminatedLastLine: true, beforeWaiting: ship) {
                line, number, _ in
                if line.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) {
                    if text.isEmpty { text.reserveCapacity(min(groupSize * (line.count + 64), 4 << 20)) }
                    text.append(contentsOf: line)
                    lines.append((number, (text.count - line.count)..<text.count))
                    if lines.count >= groupSize { ship() }
                }
                return true
            }
            if case .unreadable = end {
                queue.push(.failed(POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)))
            } else {
                ship()
                queue.push(.end)
            }
        }
        reader.start()

        // Links each group where the previous one will end. If a commit finds the chain ended
        // elsewhere (another process appended), it links again itself and the linker starts
        // over from the journal's tail.
        let linkedQueue = BoundedQueue<LinkedItem>(capacity: 2)
        let rebase = LockedValue(false)
        let linker = Thread {
            var tail = log.journal.knownTail
            while let item = queue.pop() {
                switch item {
                case .end, .failed:
                    linkedQueue.push(item.linkedItem)
                    return
                case .group(let group):
                    let prepared = group.wait()
                    let stale = rebase.withLock { value in
                        defer { value = false }
                        return value
                    }
                    if stale { tail = log.journal.knownTail }
                    let linked = log.journal.link(prepared.bodies, after: tail)
                    tail = linked.end
                    linkedQueue.push(.group(linked, failure: prepared.failure))
                }
            }
        }
        linker.start()
        func stop() {
            linkedQueue.close()
            queue.close()
        }

        // Tells delivery workers when groups are waiting behind the one being committed, so
        // they hold back and leave the disk and the cores to recording for a while.
        var backlogged = false
        func markBacklogged(_ value: Bool) {
            guard value != backlogged else { return }
            backlogged = value
            log.setIngestBacklogged(value)
        }
        defer { markBacklogged(false) }

        var summary = Summary()
        while true {
            let linked: LinkedGroup
            let failure: (any Error)?
            switch linkedQueue.pop() {
            case .end, nil:
                return summary
            case .failed(let error):
                stop()
                throw Failure(underlying: error, recorded: summary)
            case .group(let group, let groupFailure):
                (linked, failure) = (group, groupFailure)
            }
            // The lines before a bad one are recorded; the bad one and everything after are not.
            let receipts: [JournalEntryReceipt]
            do { receipts = try log.record(linked) } catch {
                stop()
                throw Failure(underlying: error, recorded: summary)
            }
            if let last = receipts.last, last.seq + 1 != linked.end.nextSeq || last.chainHash != linked.end.lastHash {
                rebase.withLock { $0 = true }
            }
            markBacklogged(!linkedQueue.isEmpty || !queue.isEmpty)
            if let first = receipts.first {
                if summary.first == nil { summary.first = first }
                summary.last = receipts.last
                summary.count += receipts.count
                onRecorded(receipts)
            }
            if let failure {
                stop()
                throw Failure(underlying: failure, recorded: summary)
            }
        }
    }

    /// A group's canonical bodies, and why the group stopped early when a line was bad.
    struct Prepared {
        var bodies: [[UInt8]]
        var failure: (any Error)?
    }

    /// Parses, validates and canonicalizes one group of lines (on a worker thread), up to the
    /// first bad line. Without PII rules a line goes straight to canonical bytes; with them, or
    /// when the fast paths step aside, through an `AuditEvent`.
    private static func prepare(_ lines: [(number: Int, bytes: ArraySlice<UInt8>)], log: AuditLog) -> Prepared {
        var bodies: [[UInt8]] = []
        bodies.reserveCapacity(lines.count)
        var failure: (any Error)?
        let transcode = log.pii == nil
        var scratch = AuditEventTranscoder.Scratch()
        for line in lines {
            do {
                if transcode,
                   let body = line.bytes.withUnsafeBufferPointer({ AuditEventTranscoder.canonicalBody($0, scratch: &scratch) }) {
                    bodies.append(body)
                    continue
                }
                // Both decoding paths validate every event they return.
                let event: AuditEvent
                if let decoded = AuditEventDecoder.decode(line.bytes) {
                    event = decoded
                } else {
                    let value: JSONValue
                    do { value = try JSONParser.parse(line.bytes, exactNumbers: true) } catch {
                        if let field = error.field {
                            throw AuditEventError(field: field, "\(error.message) (column \(error.column))", line: line.number)
                        }
                        throw AuditEventError(field: "", "not valid JSON: \(error)", line: line.number)
                    }
                    event = try AuditEvent(json: value, line: line.number)
                }
                bodies.append(try log.canonicalBody(event))
            } catch {
                failure = error
                break
            }
        }
        return Prepared(bodies: bodies, failure: failure)
    }
}

/// A small blocking FIFO between the reader and the writer.
final class BoundedQueue<Element>: @unchecked Sendable {
    private var items: [Element] = []
    private let capacity: Int
    private var closed = false
    private let condition = NSCondition()

    init(capacity: Int) { self.capacity = capacity }

    func push(_ item: Element) {
        condition.lock()
        defer { condition.unlock() }
        while items.count >= capacity && !closed { condition.wait() }
        guard !closed else { return }
        items.append(item)
        condition.broadcast()
    }

    var isEmpty: Bool {
        condition.lock()
        defer { condition.unlock() }
        return items.isEmpty
    }

    /// The next item; nil once the queue is closed.
    func pop() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty && !closed { condition.wait() }
        guard !closed else { return nil }
        condition.broadcast()
        return items.removeFirst()
    }

    /// Drops what is queued, makes further pushes no-ops and wakes every waiting `pop` with nil
    /// (the consumer gave up).
    func close() {
        condition.lock()
        closed = true
        items.removeAll()
        condition.broadcast()
        condition.unlock()
    }
}
