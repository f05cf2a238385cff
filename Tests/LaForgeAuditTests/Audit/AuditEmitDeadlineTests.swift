import Foundation
import Testing
@testable import LaForgeTestSupport

@testable import LaForgeAudit
@testable import LaForgeCore
@testable import LaForgeJournal
@testable import LaForgePlugins

#if canImport(Glibc)
    import Glibc
#endif

/// `audit emit --flush-timeout` holds while another process holds a sink's delivery lock (a
/// running `audit deliver --follow`): the event is recorded, its receipt printed, and emit exits
/// at its deadline, saying the sink has not received everything yet (#17: it never exited).
@Suite struct AuditEmitDeadlineTests {
    @Test func emitKeepsItsDeadlineWhileAnotherProcessHoldsTheDeliveryLock() throws {
        let sandbox = try AuditSandbox()
        try sandbox.writeConfig(audit: """
              sinks:
                - name: file
                  library: libFileSink.so
                  config:
                    path: \(sandbox.root)/sink/audit.ndjson
            """)
        // Hold the lock as a following deliverer would.
        let cursors = sandbox.stateDirectory + "/cursors"
        try FileManager.default.createDirectory(atPath: cursors, withIntermediateDirectories: true)
        let fd = open(cursors + "/file.lock", O_RDWR | O_CREAT, 0o600)
        #expect(fd >= 0)
        defer { close(fd) }
        #expect(flock(fd, LOCK_EX) == 0)

        let child = try LaForgeChild(
            ["audit", "emit", "--action", "schema.change", "--actor", "ada", "--flush-timeout", "1", "--json-output",
             "--config", sandbox.configPath, "--plugin-dir", CLIRunner.buildDirectory],
            in: sandbox.root, tag: "emit")
        let exited = eventually(within: 60) { !child.process.isRunning }
        if !exited { child.kill() }
        #expect(exited, "emit did not exit while the delivery lock was held: \(child.stderr)")
        #expect(child.wait() == 0, "\(child.stderr)")
        #expect(try parseReceipts(child.stdout).map(\.seq) == [0], "\(child.stdout)")
        #expect(child.stderr.contains("sink file has not received everything yet"), "\(child.stderr)")
    }
}
