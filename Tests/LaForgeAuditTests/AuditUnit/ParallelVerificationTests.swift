import Foundation
import Testing
@testable import LaForgeAudit
@testable import LaForgeCore
@testable import LaForgeGovernance
@testable import LaForgeIdentity
@testable import LaForgeJournal
@testable import LaForgePlugins
@testable import LaForgeSecrets
@testable import LaForgeTestSupport

/// Verification hashes on other cores (`LeafHashPipeline`, `ParallelFrontier`); these inputs
/// span many batches and runs, so a result that depended on where a batch or a run ends would
/// show. The reports must be exactly those of the verifier fed entry by entry on one thread.
@Suite struct ParallelVerificationTests {
    let key = try! Ed25519SigningKey.generate(name: "test-log")
    let origin = "laforge/test"

    static func leaves(_ count: Int, from first: Int = 0) -> [[UInt8]] {
        (first..<(first + count)).map { SHA256.leafHash(Array("entry \($0)".utf8)) }
    }

    @Test("the parallel frontier gives the leaf-by-leaf root at every size asked, from any start")
    func frontierRoots() {
        // Fixed pseudo-random sizes (a linear congruential step), so a failure reproduces.
        var state: UInt64 = 0x7061_7261_6c6c_656c
        for startSize in [0, 1, 777, 1024, 3000] {
            var reference = MerkleFrontier()
            for leaf in Self.leaves(startSize) { reference.append(leaf) }
            let parallel = ParallelFrontier(reference)
            // Roots asked at run ends, inside runs and at random points, as checkpoints are.
            var asks: Set<Int> = [1, 1023, 1024, 1025, 2048, 4000, 5000]
            for _ in 0..<12 {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                asks.insert(1 + Int(state >> 33) % 5000)
            }
            for (index, leaf) in Self.leaves(5000, from: startSize).enumerated() {
                reference.append(leaf)
                parallel.append(leaf)
                #expect(parallel.size == reference.size)
                if asks.contains(index + 1) {
                    #expect(parallel.root() == reference.root(), "start \(startSize), size \(reference.size)")
                }
            }
            #expect(parallel.root() == reference.root(), "start \(startSize), end")
        }
    }

    @Test("a subtree root appended at its alignment equals its leaves appended one by one")
    func subtreeAppend() {
        let leaves = Self.leaves(64)
        for height in 0...4 {
            var byLeaf = MerkleFrontier()
            var bySubtree = MerkleFrontier()
            for leaf in leaves[..<16] { byLeaf.append(leaf); bySubtree.append(leaf) }
            for leaf in leaves[16..<(16 + (1 << height))] { byLeaf.append(leaf) }
            let flat = leaves[16..<(16 + (1 << height))].flatMap { $0 }
            var root = [UInt8](repeating: 0, count: 32)
            flat.withUnsafeBytes { input in root.withUnsafeMutableBytes { MerkleFrontier.subtreeRoot(leaves: input.baseAddress!, height: height, into: $0.baseAddress!) } }
            root.withUnsafeBytes { bySubtree.append(subtreeRoot: $0.baseAddress!, height: height) }
            #expect(bySubtree == byLeaf, "height \(height)")
        }
    }

    /// A FileSink-format file of `count` entries (≈ 200 B each, so many batches) with a
    /// checkpoint line after every `every` entries; the lines as written.
    func fileLines(_ count: Int, every: Int) throws -> [String] {
        var lines: [String] = []
        var previous = [UInt8](repeating: 0, count: 32)
        var frontier = MerkleFrontier()
        for seq in 0..<count {
            let event = JSONCanonicalizer.canonicalize(["action": "schema.change", "n": .number(Double(seq)), "pad": .string(String(repeating: "x", count: 60))])
            let bytes = AuditEntry.bytes(chainID: "test", event: event, seq: UInt64(seq), prevHash: previous)
            previous = SHA256.leafHash(bytes)
            frontier.append(previous)
            lines.append(String(decoding: bytes, as: UTF8.self))
            if (seq + 1) % every == 0 {
                let checkpoint = try Checkpoint(origin: origin, size: frontier.size, rootHash: frontier.root())
                lines.append(JSONCanonicalizer.canonicalString(.object(["checkpoint": .string(checkpoint.signedNote(signers: [key]))])))
            }
        }
        return lines
    }

    /// The report of `verifyFiles` (pipelined) and of the same lines fed to a verifier one by
    /// one on this thread, with the same locations.
    func bothReports(_ lines: [String], name: String) throws -> (pipelined: VerificationReport, serial: VerificationReport) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("laforge-parallel-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/\(name).ndjson"
        try lines.map { $0 + "\n" }.joined().write(toFile: path, atomically: true, encoding: .utf8)
        let pipelined = ChainSource.verifyFiles([path], verifier: ChainVerifier(verifierKeys: [key.verifierKey], origin: origin, chainID: "test"))
        let serial = ChainVerifier(verifierKeys: [key.verifierKey], origin: origin, chainID: "test")
        serial.requireGenesis = true
        for (index, line) in lines.enumerated() {
            let location = "\(path):\(index + 1)"
            if line.hasPrefix(#"{"checkpoint":"#) {
                serial.checkpoint(try #require(JSONParser.parse(line)["checkpoint"]?.stringValue), location: location)
            } else {
                serial.entry(Array(line.utf8), location: location)
            }
            if serial.hasFailed { break }
        }
        return (pipelined, serial.finish())
    }

    @Test("a large file verifies, and each kind of damage deep in it is named as the serial verifier names it")
    func largeFile() throws {
        let lines = try fileLines(6000, every: 1000)
        let intact = try bothReports(lines, name: "intact")
        #expect(intact.pipelined.isValid)
        #expect(intact.pipelined.entries == 6000)
        #expect(intact.pipelined.checkpoints == 6)
        #expect(intact.pipelined.lastCheckpointRoot == intact.serial.lastCheckpointRoot)

        let entryLine = { (seq: Int) in seq + seq / 1000 }
        var changed = lines
        changed[entryLine(5500)] = changed[entryLine(5500)].replacingOccurrences(of: "\"n\":5500", with: "\"n\":5501")
        var removed = lines
        removed.remove(at: entryLine(4321))
        var swapped = lines
        swapped.swapAt(entryLine(3001), entryLine(3002))
        var lastBeforeCheckpoint = lines
        lastBeforeCheckpoint[entryLine(4999)] = lastBeforeCheckpoint[entryLine(4999)].replacingOccurrences(of: "xxxx", with: "xxxy")
        for (name, damaged, seq) in [("changed", changed, 5500), ("removed", removed, 4321), ("swapped", swapped, 3001), ("before-checkpoint", lastBeforeCheckpoint, 4999)] {
            let reports = try bothReports(damaged, name: name)
            let failure = try #require(reports.pipelined.failure, "\(name)")
            #expect(failure.seq == UInt64(seq), "\(name): \(failure)")
            #expect(failure.kind == reports.serial.failure?.kind, "\(name)")
            #expect(failure.message == reports.serial.failure?.message, "\(name)")
            #expect(failure.location.hasSuffix(reports.serial.failure?.location.split(separator: "/").last.map(String.init) ?? "?"), "\(name)")
        }
    }

    @Test("a journal frame changed deep in a segment is named at its seq and byte offset, as the frame reader names it")
    func journalFrameChanged() throws {
        let sandbox = try AuditSandbox()
        try sandbox.writeConfig(audit: """
              checkpoints:
                every_entries: 1000
                every_ms: 0
            """)
        let log = try AuditLog.open(config: sandbox.config(), logger: CapturedLog().logger)
        for group in 0..<6 {
            try log.emit((0..<500).map { auditEvent("user-\(group)-\($0)", data: ["pad": .string(String(repeating: "y", count: 200))]) })
        }
        try log.close()
        let pristine = try sandbox.verifyChain()
        #expect(pristine.status == 0, "\(pristine.result.output)")
        #expect(pristine.report?["entries"]?.intValue == 3000)

        // Change one payload byte of entry 2800, leaving its header (and stored hash) alone.
        let directory = sandbox.stateDirectory + "/journal"
        let reader = JournalFileReader(directory: directory)
        let extent = try reader.extent()
        var target: (path: String, offset: UInt64)?
        var offset: UInt64 = 0
        reader.walk(extent: extent, checkpoints: []) { item in
            guard case .entry(let seq, let payload, _) = item else { return true }
            if seq == extent.segments.last(where: { $0.firstSeq <= seq })!.firstSeq { offset = 0 }
            if seq == 2800 { target = (extent.segments.last { $0.firstSeq <= seq }!.path, offset) }
            offset += UInt64(80 + payload.count)
            return true
        }
        let (path, frameOffset) = try #require(target)
        let handle = try #require(FileHandle(forUpdatingAtPath: path))
        try handle.seek(toOffset: frameOffset + 80 + 20)
        let byte = try #require(try handle.read(upToCount: 1)).first!
        try handle.seek(toOffset: frameOffset + 80 + 20)
        try handle.write(contentsOf: Data([byte ^ 0x01]))
        try handle.close()

        // What the frame reader itself reports when it checks the hashes on this thread.
        var expected: JournalFileReader.Problem?
        reader.walk(extent: try reader.extent(), checkpoints: []) { item in
            if case .problem(let problem) = item { expected = problem }
            return true
        }
        let problem = try #require(expected)
        #expect(problem.offset == frameOffset)
        let damaged = try sandbox.verifyChain()
        #expect(damaged.status == 1, "\(damaged.result.output)")
        let failure = damaged.report?["failure"]
        #expect(failure?["seq"]?.intValue == 2800)
        #expect(failure?["kind"]?.stringValue == "content changed")
        #expect(failure?["location"]?.stringValue == "journal seq 2800 (\(problem.location))")
        #expect(failure?["message"]?.stringValue == problem.message)
    }
}
