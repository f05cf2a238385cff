import Foundation

/// `laforge audit emit --stdin`: NDJSON events from a file descriptor, recorded in groups (one
/// fsync per group) in input order. A reader thread cuts the input into groups of lines; each
/// group is parsed, validated and canonicalized on a worker (all cores), while the caller's
/// thread records the groups strictly in order: the CPU work and the disk overlap. At most a
/// few groups are in flight, so memory stays flat for any input size.
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
        case group(PreparedGroup)
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
            var lines: [(number: Int, bytes: ArraySlice<UInt8>)] = []
            func ship() {
                guard !lines.isEmpty else { return }
                let group = PreparedGroup()
                let batch = lines
                lines = []
                lines.reserveCapacity(groupSize)
                queue.push(.group(group))
                DispatchQueue.global().async { group.fill { prepare(batch, log: log) } }
            }
            let end = LineReader().forEachLine(of: input, acceptingUnterminatedLastLine: true) { line, number, _ in
                if line.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) {
                    // Copied out of the reader's block: the group outlives this call.
                    lines.append((number, ArraySlice(line)))
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
        var summary = Summary()
        while true {
            let prepared: Prepared
            switch queue.pop() {
            case .end:
                return summary
            case .failed(let error):
                throw Failure(underlying: error, recorded: summary)
            case .group(let group):
                prepared = group.wait()
            }
            // The lines before a bad one are recorded; the bad one and everything after are not.
            let receipts: [JournalEntryReceipt]
            do { receipts = try log.record(prepared.bodies) } catch {
                queue.close()
                throw Failure(underlying: error, recorded: summary)
            }
            if let first = receipts.first {
                if summary.first == nil { summary.first = first }
                summary.last = receipts.last
                summary.count += receipts.count
                onRecorded(receipts)
            }
            if let failure = prepared.failure {
                queue.close()
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
        for line in lines {
            do {
                if transcode, let body = AuditEventTranscoder.canonicalBody(line.bytes) {
                    bodies.append(body)
                    continue
                }
                // Both decoding paths validate every event they return.
                let event: AuditEvent
                if let decoded = AuditEventDecoder.decode(line.bytes) {
                    event = decoded
                } else {
                    let value: JSONValue
                    do { value = try JSONParser.parse(line.bytes) } catch {
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

/// One group's prepared bodies, filled by a worker and awaited by the writer in input order.
final class PreparedGroup: @unchecked Sendable {
    private let condition = NSCondition()
    private var result: NDJSONIngest.Prepared?

    func fill(_ work: () -> NDJSONIngest.Prepared) {
        let outcome = work()
        condition.lock()
        result = outcome
        condition.broadcast()
        condition.unlock()
    }

    func wait() -> NDJSONIngest.Prepared {
        condition.lock()
        defer { condition.unlock() }
        while result == nil { condition.wait() }
        return result!
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

    func pop() -> Element {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty { condition.wait() }
        condition.broadcast()
        return items.removeFirst()
    }

    /// Drops what is queued and makes further pushes no-ops (the consumer gave up).
    func close() {
        condition.lock()
        closed = true
        items.removeAll()
        condition.broadcast()
        condition.unlock()
    }
}
