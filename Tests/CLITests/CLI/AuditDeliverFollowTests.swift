import Foundation
import Testing
@testable import LaForgeTestSupport

@testable import LaForgeAudit
@testable import LaForgeCore
@testable import LaForgePlugins

#if canImport(Glibc)
    import Glibc
#endif

/// `laforge audit deliver --follow` runs the host as a long-running process (through
/// `LaForgeRuntime`): entries another writer records reach the sink with a checkpoint over them
/// (signed on time by one of the two), and SIGTERM stops it cleanly, with a sink file that verifies.
@Suite struct AuditDeliverFollowTests {
    @Test func followingDeliversAndSignsWhatOthersRecordAndStopsOnSIGTERM() throws {
        let sandbox = try AuditSandbox()
        let sinkPath = sandbox.root + "/sink/audit.ndjson"
        try sandbox.writeConfig(audit: """
              checkpoints:
                every_entries: 0
                every_ms: 100
              sinks:
                - name: file
                  library: libFileSink.so
                  config:
                    path: \(sinkPath)
            """)
        let follower = try LaForgeChild(
            ["audit", "deliver", "--follow", "--config", sandbox.configPath, "--plugin-dir", CLIRunner.buildDirectory],
            in: sandbox.root, tag: "follow")
        defer { if follower.process.isRunning { follower.kill() } }

        // Another writer, once the follower has generated the development keys (one key for both).
        #expect(eventually(within: 60) { FileManager.default.fileExists(atPath: sandbox.stateDirectory + "/keys/checkpoint.pub") })
        let log = try AuditLog.open(config: sandbox.config(), logger: CapturedLog().logger)
        try log.emit([auditEvent("ada"), auditEvent("bob"), auditEvent("eve")])
        log.journal.close()

        let delivered = eventually(within: 60) {
            let lines = ((try? sandbox.read(sinkPath)) ?? "").split(separator: "\n")
            return lines.count == 4 && lines.last?.hasPrefix(#"{"checkpoint":"laforge/default\n3\n"#) == true
        }
        #expect(delivered, "sink: \((try? sandbox.read(sinkPath)) ?? "none"); follower: \(follower.stderr)")

        kill(follower.process.processIdentifier, SIGTERM)
        let exited = eventually(within: 30) { !follower.process.isRunning }
        #expect(exited, "deliver --follow did not stop on SIGTERM: \(follower.stderr)")
        #expect(follower.wait() == 0, "\(follower.stderr)")
        let verify = try sandbox.verifyChain(["--sink", "file"])
        #expect(verify.status == 0, "\(verify.result.output)")
    }
}
