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
            var lineNumber = 0
            func ship() {
                guard !lines.isEmpty else { return }
                let group = PreparedGroup()
                let batch = lines
                lines = []
                lines.reserveCapacity(groupSize)
                queue.push(.group(group))
                DispatchQueue.global().async { group.fill { try prepare(batch, log: log) } }
            }
            do {
                try DescriptorLineReader.forEach(fd: input) { line in
                    lineNumber += 1
                    guard line.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) else { return }
                    lines.append((lineNumber, line))
                    if lines.count >= groupSize { ship() }
                }
                ship()
                queue.push(.end)
            } catch {
                queue.push(.failed(error))
            }
        }
        reader.start()
        var summary = Summary()
        while true {
            let bodies: [[UInt8]]
            switch queue.pop() {
            case .end:
                return summary
            case .failed(let error):
                throw Failure(underlying: error, recorded: summary)
            case .group(let group):
                do { bodies = try group.wait() } catch {
                    queue.close()
                    throw Failure(underlying: error, recorded: summary)
                }
            }
            let receipts: [JournalEntryReceipt]
            do { receipts = try log.record(bodies) } catch {
                queue.close()
                throw Failure(underlying: error, recorded: summary)
            }
            guard let first = receipts.first else { continue }
            if summary.first == nil { summary.first = first }
            summary.last = receipts.last
            summary.count += receipts.count
            onRecorded(receipts)
        }
    }

    /// Parses, validates and canonicalizes one group of lines (on a worker thread).
    private static func prepare(_ lines: [(number: Int, bytes: ArraySlice<UInt8>)], log: AuditLog) throws -> [[UInt8]] {
        var events: [AuditEvent] = []
        events.reserveCapacity(lines.count)
        for line in lines {
            if let event = AuditEventDecoder.decode(line.bytes) {
                events.append(event)
                continue
            }
            let value: JSONValue
            do { value = try JSONParser.parse(line.bytes) } catch {
                throw AuditEventError(field: "", "not valid JSON: \(error)", line: line.number)
            }
            events.append(try AuditEvent(json: value, line: line.number))
        }
        return try log.prepare(events)
    }
}

/// One group's prepared bodies, filled by a worker and awaited by the writer in input order.
final class PreparedGroup: @unchecked Sendable {
    private let condition = NSCondition()
    private var result: Result<[[UInt8]], any Error>?

    func fill(_ work: () throws -> [[UInt8]]) {
        let outcome = Result { try work() }
        condition.lock()
        result = outcome
        condition.broadcast()
        condition.unlock()
    }

    func wait() throws -> [[UInt8]] {
        condition.lock()
        defer { condition.unlock() }
        while result == nil { condition.wait() }
        return try result!.get()
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

/// Reads a file descriptor line by line in 1 MiB chunks, handing out slices without copying.
enum DescriptorLineReader {
    static func forEach(fd: Int32, _ body: (ArraySlice<UInt8>) throws -> Void) throws {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = read(fd, &chunk, chunk.count)
            if count < 0 {
                if errno == EINTR { continue }
                throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
            }
            if count == 0 { break }
            buffer.append(contentsOf: chunk[0..<count])
            var start = 0
            while let newline = nextNewline(in: buffer, from: start) {
                try body(buffer[start..<newline])
                start = newline + 1
            }
            buffer.removeFirst(start)
        }
        if !buffer.isEmpty { try body(buffer[...]) }
    }

    private static func nextNewline(in buffer: [UInt8], from start: Int) -> Int? {
        buffer.withUnsafeBufferPointer { bytes in
            guard start < bytes.count, let found = memchr(bytes.baseAddress! + start, 0x0A, bytes.count - start) else {
                return nil
            }
            return bytes.baseAddress!.distance(to: found.assumingMemoryBound(to: UInt8.self))
        }
    }
}
