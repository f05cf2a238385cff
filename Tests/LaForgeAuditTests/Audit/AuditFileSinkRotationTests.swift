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

/// A FileSink file set rotated by size verifies as a whole, and each rotated file verifies on
/// its own: it starts with the checkpoint that sealed the previous file, whose signed Merkle
/// frontier is the starting point.
@Suite struct AuditFileSinkRotationTests {
    /// A copy of the active file under a name without rotated siblings, to verify it alone.
    func copyAlone(_ path: String) throws -> String {
        let copy = (path as NSString).deletingLastPathComponent + "/active-alone.ndjson"
        try FileManager.default.copyItem(atPath: path, toPath: copy)
        return copy
    }

    @Test func rotatedFilesVerifyTogetherAndAlone() throws {
        let sandbox = try AuditSandbox()
        let path = try sandbox.deliveredRotatedFileSink()

        let rotated = ChainSource.fileSet(for: path).dropLast()
        #expect(rotated.count >= 3, "files: \(ChainSource.fileSet(for: path))")
        let whole = try sandbox.verifyChain(["--file", path])
        #expect(whole.status == 0, "\(whole.result.output)")
        #expect(whole.report?["entries"]?.intValue == 40)
        #expect(whole.report?["last_checkpoint_size"]?.intValue == 40)

        var covered = 0
        for (index, file) in rotated.enumerated() {
            let lines = try sandbox.read(file).split(separator: "\n")
            // Each rotated file ends with the checkpoint that seals it; every file after the
            // first starts with that checkpoint of the previous file.
            #expect(lines.last?.hasPrefix(#"{"checkpoint":"#) == true, "\(file) is not sealed")
            if index > 0 { #expect(lines.first?.hasPrefix(#"{"checkpoint":"#) == true, "\(file) does not start at a checkpoint") }
            let alone = try sandbox.verifyChain(["--file", file])
            #expect(alone.status == 0, "\(file): \(alone.result.output)")
            #expect(alone.report?["warnings"]?.arrayValue?.isEmpty == true)
            covered += alone.report?["entries"]?.intValue ?? 0
        }
        if let active = try? sandbox.read(path), !active.isEmpty {
            let alone = try sandbox.verifyChain(["--file", copyAlone(path), "--from-checkpoint"])
            #expect(alone.status == 0, "active file: \(alone.result.output)")
            covered += alone.report?["entries"]?.intValue ?? 0
        }
        // Each entry is in exactly one file.
        #expect(covered == 40)
        let second = try sandbox.verifyChain(["--file", path + ".2"])
        #expect(second.status == 0, "\(second.result.output)")
        #expect((second.report?["first_seq"]?.intValue ?? 0) > 0)
    }
}
