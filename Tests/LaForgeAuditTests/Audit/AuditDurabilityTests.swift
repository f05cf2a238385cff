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

#if canImport(Glibc)
    import Glibc
#endif

/// An acknowledged event survives SIGKILL of any process at any moment: `laforge audit emit`
/// children are started in waves and some are killed at random points of their run (opening the
/// journal, appending, signing a checkpoint, printing). Every child that exited 0 printed its
/// receipt, and every receipt must be in the journal with the same hash; the chain stays valid
/// because the journal truncates a torn tail on open, so the next emit after a kill succeeds.
@Suite struct AuditDurabilityTests {
    @Test func acknowledgedEventsSurviveSIGKILLAtRandomMoments() throws {
        let sandbox = try AuditSandbox()
        try sandbox.writeConfig(audit: """
              checkpoints:
                every_entries: 4
                every_ms: 0
              journal:
                fsync: group
            """)
        // Create the signing key up front, so every child starts from the same state.
        let first = try sandbox.laforge(["audit", "emit", "--actor", "setup", "--action", "schema.change", "--json-output"])
        #expect(first.status == 0, "\(first.output)")
        var acknowledged = try parseReceipts(first.stdout)

        var generator = SystemRandomNumberGenerator()
        var kills = 0
        var killedWhileRunning = 0
        let waves = 8
        let childrenPerWave = 6
        for wave in 0..<waves {
            var children: [LaForgeChild] = []
            for index in 0..<childrenPerWave {
                let event = auditEventLine(user: "u\(wave)-\(index)", data: ["wave": .number(Double(wave))])
                children.append(
                    try LaForgeChild(
                        [
                            "audit", "emit", "--json", event, "--json-output",
                            "--config", sandbox.configPath, "--plugin-dir", CLIRunner.buildDirectory,
                        ], in: sandbox.root, tag: "\(wave)-\(index)"))
            }
            // Kill half of the wave, each at its own random moment within a child's lifetime.
            let victims = children.indices.shuffled(using: &generator).prefix(childrenPerWave / 2)
            for victim in victims.sorted() {
                usleep(UInt32.random(in: 0...40_000, using: &generator))
                if children[victim].process.isRunning { killedWhileRunning += 1 }
                children[victim].kill()
                kills += 1
            }
            for child in children {
                guard child.wait() == 0 else { continue }
                acknowledged += try parseReceipts(child.stdout)
            }
            // The next emit after the kills must succeed (torn tails are recovered on open).
            let after = try sandbox.laforge(["audit", "emit", "--actor", "after-\(wave)", "--action", "schema.change", "--json-output"])
            #expect(after.status == 0, "emit after kills in wave \(wave): \(after.output)")
            acknowledged += (try? parseReceipts(after.stdout)) ?? []
        }
        #expect(kills >= 5)
        // On a loaded machine some kills land after the child exited; most must not.
        #expect(killedWhileRunning >= 5, "only \(killedWhileRunning) of \(kills) kills hit a running child")

        let stored = Dictionary(uniqueKeysWithValues: try sandbox.journalEntries().map { ($0.seq, $0.hash) })
        #expect(Set(acknowledged.map(\.seq)).count == acknowledged.count, "two acknowledgements share a seq")
        for receipt in acknowledged {
            #expect(stored[receipt.seq] == receipt.hash, "acknowledged seq \(receipt.seq) is missing or changed")
        }
        #expect(stored.keys.sorted() == Array(0..<UInt64(stored.count)), "journal seqs are not contiguous")

        let verified = try sandbox.verifyChain()
        #expect(verified.status == 0, "\(verified.result.output)")
        #expect(verified.report?["entries"]?.intValue == stored.count)
    }
}
