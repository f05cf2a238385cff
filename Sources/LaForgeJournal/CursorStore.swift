import Foundation
import LaForgeCore

#if canImport(Glibc)
    import Glibc
#endif

/// Per-sink delivery cursors, one small file each in `<state_dir>/cursors/<sink name>`, holding
/// two slots of `slotSize` bytes, each a record (zero-padded) like
///
///     laforge-cursor 1
///     next_seq 1234
///     checkpoint_size 1200
///     sha256 <hex SHA-256 of the lines above, newlines included>
///
/// An update overwrites the slot that does not hold the current cursor (and syncs it with one
/// `fdatasync`, or leaves that to a later `sync`), so a crash mid-write tears at most the slot
/// being written and the other still holds an earlier cursor; the newest valid slot wins. (Replacing the file — temporary file,
/// `fsync`, `rename`, directory `fsync` — cost two syncs and a file creation per delivered batch,
/// as much disk time as the journal's own group commit.) The file itself is created once, whole,
/// by rename. A file with no valid slot is an error naming it — guessing a cursor would
/// re-deliver or, worse, skip entries. A single-record file (the earlier layout) reads as slot 0.
public struct CursorStore: Sendable {
    public let directory: String
    static let slotSize = 256

    /// `directory` is the cursors directory itself (`<state_dir>/cursors`); created on first store.
    public init(directory: String) {
        self.directory = directory
    }

    public init(stateDirectory: String) {
        self.init(directory: stateDirectory + "/cursors")
    }

    public func path(for sink: String) -> String { directory + "/" + sink }

    /// The stored cursor, or nil when the sink has none yet.
    public func load(_ sink: String) throws(JournalError) -> SinkCursor? {
        try Self.checkName(sink, directory: directory)
        let path = path(for: sink)
        let fd: Int32
        switch FileIO.open(path, O_RDONLY) {
        case .failure(let error) where error.code == ENOENT: return nil
        case .failure(let error): throw JournalError.io(error.code, path: path, "cannot open the cursor")
        case .success(let value): fd = value
        }
        defer { _ = Glibc.close(fd) }
        guard let slots = try Self.readSlots(fd, path: path), let newest = slots.compactMap({ $0 }).max(by: Self.older) else {
            throw JournalError(
                .corrupt, path: path,
                "not a valid cursor file (torn or edited); restore it or remove it to re-deliver from seq 0 (sinks are idempotent by seq)"
            )
        }
        return newest
    }

    /// Stores the sink's cursor; with `sync` durably at once, else when `sync(_:)` is next called
    /// (or the kernel writes it back). Either way a crash leaves this cursor or an earlier one,
    /// never a torn one: an earlier cursor only means re-sending to a sink idempotent by seq.
    public func store(_ sink: String, _ cursor: SinkCursor, sync: Bool = true) throws(JournalError) {
        try Self.checkName(sink, directory: directory)
        let path = path(for: sink)
        let fd: Int32
        switch FileIO.open(path, O_RDWR) {
        case .failure(let error) where error.code == ENOENT: return try create(path, sink: sink, cursor)
        case .failure(let error): throw JournalError.io(error.code, path: path, "cannot open the cursor")
        case .success(let value): fd = value
        }
        defer { _ = Glibc.close(fd) }
        // Overwrite the slot that does not hold the newest valid cursor (slot 1 when neither does).
        let slots = try Self.readSlots(fd, path: path) ?? [nil, nil]
        let target: Int
        switch (slots[0], slots[1]) {
        case (let first?, let second?): target = Self.older(first, second) ? 0 : 1
        case (nil, _?): target = 0
        default: target = 1
        }
        let bytes = Self.slot(cursor)
        var error = bytes.withUnsafeBytes { FileIO.pwriteAll(fd, $0, at: UInt64(target * Self.slotSize)) }
        var action = "cannot write"
        if error == 0 && sync {
            var result: Int32
            repeat { result = fdatasync(fd) } while result != 0 && errno == EINTR
            if result != 0 { (error, action) = (errno, "cannot sync") }
        }
        if error != 0 { throw JournalError.io(error, path: path, action) }
    }

    /// Makes the sink's stored cursor durable (after stores with `sync: false`).
    public func sync(_ sink: String) throws(JournalError) {
        try Self.checkName(sink, directory: directory)
        let path = path(for: sink)
        let fd: Int32
        switch FileIO.open(path, O_RDWR) {
        case .failure(let error) where error.code == ENOENT: return
        case .failure(let error): throw JournalError.io(error.code, path: path, "cannot open the cursor")
        case .success(let value): fd = value
        }
        defer { _ = Glibc.close(fd) }
        var result: Int32
        repeat { result = fdatasync(fd) } while result != 0 && errno == EINTR
        if result != 0 { throw JournalError.io(errno, path: path, "cannot sync") }
    }

    /// The first store: the whole file appears at once (temporary file, sync, rename, directory sync).
    private func create(_ path: String, sink: String, _ cursor: SinkCursor) throws(JournalError) {
        if let (error, path) = FileIO.createDirectories(directory) {
            throw JournalError.io(error, path: path, "cannot create the cursor directory")
        }
        let temporary = directory + "/.\(sink).tmp-\(getpid())"
        let fd: Int32
        switch FileIO.open(temporary, O_WRONLY | O_CREAT | O_TRUNC) {
        case .failure(let error): throw JournalError.io(error.code, path: temporary, "cannot create")
        case .success(let value): fd = value
        }
        let bytes = Self.slot(cursor) + [UInt8](repeating: 0, count: Self.slotSize)
        var error = bytes.withUnsafeBytes { FileIO.pwriteAll(fd, $0, at: 0) }
        var action = "cannot write"
        if error == 0 {
            var result: Int32
            repeat { result = fsync(fd) } while result != 0 && errno == EINTR
            if result != 0 { (error, action) = (errno, "cannot sync") }
        }
        _ = Glibc.close(fd)
        if error == 0, rename(temporary, path) != 0 { (error, action) = (errno, "cannot rename into \(path)") }
        if error != 0 {
            _ = unlink(temporary)
            throw JournalError.io(error, path: temporary, action)
        }
        let syncError = FileIO.syncDirectory(directory)
        if syncError != 0 { throw JournalError.io(syncError, path: directory, "cannot sync the cursor directory") }
    }

    /// Both slots, each nil when it does not verify; nil for a file of the wrong size.
    private static func readSlots(_ fd: Int32, path: String) throws(JournalError) -> [SinkCursor?]? {
        var bytes = [UInt8](repeating: 0, count: 2 * slotSize + 1)
        let count: Int
        switch bytes.withUnsafeMutableBytes({ FileIO.pread(fd, into: $0, at: 0) }) {
        case .failure(let error): throw JournalError.io(error.code, path: path, "cannot read the cursor")
        case .success(let value): count = value
        }
        guard count > 0, count <= 2 * slotSize else { return nil }
        return [bytes[0..<min(count, slotSize)], bytes[min(count, slotSize)..<count]].map { slot in
            decode(Array(slot.prefix { $0 != 0 }))
        }
    }

    /// Cursors only move forward, so the newer of two is the larger.
    private static func older(_ first: SinkCursor, _ second: SinkCursor) -> Bool {
        (first.nextSeq, first.checkpointSize) < (second.nextSeq, second.checkpointSize)
    }

    /// A record zero-padded to a slot.
    static func slot(_ cursor: SinkCursor) -> [UInt8] {
        let record = encode(cursor)
        return record + [UInt8](repeating: 0, count: slotSize - record.count)
    }

    static func encode(_ cursor: SinkCursor) -> [UInt8] {
        let body = "laforge-cursor 1\nnext_seq \(cursor.nextSeq)\ncheckpoint_size \(cursor.checkpointSize)\n"
        return Array((body + "sha256 \(SHA256.hash(Array(body.utf8)).hexString)\n").utf8)
    }

    static func decode(_ bytes: [UInt8]) -> SinkCursor? {
        guard let text = String(validating: bytes, as: UTF8.self), text.hasSuffix("\n") else { return nil }
        let lines = text.dropLast().split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count == 4, lines[0] == "laforge-cursor 1", lines[3].hasPrefix("sha256 ") else { return nil }
        let body = lines[0...2].joined(separator: "\n") + "\n"
        guard String(lines[3].dropFirst("sha256 ".count)) == SHA256.hash(Array(body.utf8)).hexString else { return nil }
        func number(_ line: Substring, _ key: String) -> UInt64? {
            guard line.hasPrefix(key + " ") else { return nil }
            let digits = line.dropFirst(key.count + 1)
            guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            return UInt64(digits)
        }
        guard let nextSeq = number(lines[1], "next_seq"), let checkpointSize = number(lines[2], "checkpoint_size")
        else {
            return nil
        }
        return SinkCursor(nextSeq: nextSeq, checkpointSize: checkpointSize)
    }

    /// Sink names come from the configuration; one that is not a plain file name must not reach
    /// the file system (`../x` would write outside the directory).
    static func checkName(_ sink: String, directory: String) throws(JournalError) {
        let allowed = sink.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
        }
        guard allowed, !sink.isEmpty, !sink.hasPrefix("."), sink.utf8.count <= 200 else {
            throw JournalError(
                .invalidArgument, path: directory,
                "sink name \"\(sink)\" cannot name a cursor file (letters, digits, '-', '_', '.'; not starting with '.')"
            )
        }
    }
}
