import Foundation
import Testing

import LaForgeAudit
import LaForgeCore
import LaForgeGovernance
import LaForgeIdentity
import LaForgeJournal
import LaForgePlugins
import LaForgeSecrets

#if canImport(Glibc)
    import Glibc
#endif

/// A fresh, empty journal directory under the temporary directory.
func makeJournalDirectory() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("laforge-journal-\(UUID().uuidString)").path
}

/// A stand-in for the audit layer's canonical entry: the body wrapped with its seq and
/// prev_hash, so a test can see that the linker got the right ones.
let testLinker: Journal.Linker = { body, seq, prevHash, output in
    output += Array("{\"seq\":\(seq),\"prev\":\"\(Array(prevHash).hexString)\",\"body\":\"".utf8) + body + Array("\"}".utf8)
}

/// `testLinker`'s output for one entry.
func linked(_ body: [UInt8], _ seq: UInt64, _ prevHash: [UInt8]) -> [UInt8] {
    var output: [UInt8] = []
    prevHash.withUnsafeBytes { testLinker(body, seq, $0, &output) }
    return output
}

func openJournal(
    _ directory: String, fsync: JournalFsync = .group, segmentBytes: Int = 64 << 20
) throws -> Journal {
    try Journal.open(JournalOptions(directory: directory, fsync: fsync, segmentBytes: segmentBytes), linker: testLinker)
}

func body(_ text: String) -> [UInt8] { Array(text.utf8) }

/// Reads the whole journal, recomputing every hash, and checks seq and prev_hash links.
@discardableResult
func expectValidChain(_ journal: Journal, count: UInt64, sourceLocation: SourceLocation = #_sourceLocation) throws
    -> [JournalEntry]
{
    var all: [JournalEntry] = []
    var next: UInt64 = 0
    while true {
        let batch = try journal.entries(from: next, maxCount: 777, maxBytes: 1 << 20, verifyingHashes: true)
        if batch.isEmpty { break }
        all += batch
        next = batch.last!.seq + 1
    }
    #expect(UInt64(all.count) == count, sourceLocation: sourceLocation)
    var previous = [UInt8](repeating: 0, count: 32)
    for (index, entry) in all.enumerated() {
        #expect(entry.seq == UInt64(index), sourceLocation: sourceLocation)
        #expect(entry.prevHash == previous, sourceLocation: sourceLocation)
        #expect(entry.hash == SHA256.leafHash(entry.payload), sourceLocation: sourceLocation)
        #expect(
            entry.payload == linked(extractBody(entry.payload), entry.seq, entry.prevHash),
            sourceLocation: sourceLocation)
        previous = entry.hash
    }
    return all
}

/// The body `testLinker` wrapped.
func extractBody(_ payload: [UInt8]) -> [UInt8] {
    let text = String(decoding: payload, as: UTF8.self)
    guard let start = text.range(of: "\"body\":\"") else { return [] }
    return Array(text[start.upperBound...].dropLast(2).utf8)
}

func segmentFiles(_ directory: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".seg") }.sorted()
}

func fileSize(_ path: String) throws -> UInt64 {
    (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.uint64Value ?? 0
}

/// Rewrites `count` bytes at `offset` of the file with `transform` applied.
func patchFile(_ path: String, at offset: UInt64, _ transform: (UInt8) -> UInt8) throws {
    let handle = try #require(FileHandle(forUpdatingAtPath: path))
    defer { try? handle.close() }
    try handle.seek(toOffset: offset)
    let byte = try #require(try handle.read(upToCount: 1)?.first)
    try handle.seek(toOffset: offset)
    try handle.write(contentsOf: [transform(byte)])
}

func appendToFile(_ path: String, _ bytes: [UInt8]) throws {
    let handle = try #require(FileHandle(forUpdatingAtPath: path))
    defer { try? handle.close() }
    try handle.seekToEnd()
    try handle.write(contentsOf: bytes)
}

func truncateFile(_ path: String, to length: UInt64) throws {
    #expect(truncate(path, off_t(length)) == 0)
}

/// Byte offsets of each frame in a segment file, parsed independently of the journal code.
func frameOffsets(_ path: String) throws -> [UInt64] {
    let data = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    var offsets: [UInt64] = []
    var offset = 0
    while offset + 80 <= data.count {
        offsets.append(UInt64(offset))
        let length =
            Int(data[offset + 4]) | Int(data[offset + 5]) << 8 | Int(data[offset + 6]) << 16 | Int(data[offset + 7])
            << 24
        offset += 80 + length
    }
    return offsets
}

/// Runs `body(thread)` on `count` threads at once and waits for all.
func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let group = DispatchGroup()
    for index in 0..<count {
        group.enter()
        let thread = Thread {
            body(index)
            group.leave()
        }
        thread.start()
    }
    group.wait()
}

func expectJournalError(
    _ kind: JournalError.Kind? = nil, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void
) -> JournalError? {
    do {
        try body()
        Issue.record("expected a JournalError", sourceLocation: sourceLocation)
        return nil
    } catch let error as JournalError {
        if let kind { #expect(error.kind == kind, "\(error)", sourceLocation: sourceLocation) }
        return error
    } catch {
        Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        return nil
    }
}
