import Foundation
import Synchronization
import Testing
@testable import LaForgeCore
@testable import LaForgeTestSupport

/// docs/CLI.md's exit-code table is the one the code has: every `ExitCode(N)` constant of
/// Sources/laforge/ExitCodes.swift is a row and every row a constant, `laforge --help` lists the
/// same codes, and the cases the table was wrong about before now exit as it says.
@Suite struct CLIExitCodeTableTests {
    static let root = CPluginBuilder.packageRoot

    static func tableCodes() throws -> Set<Int> {
        let text = try String(contentsOf: root.appendingPathComponent("docs/CLI.md"), encoding: .utf8)
        let section = try #require(text.components(separatedBy: "## Exit codes").dropFirst().first?.components(separatedBy: "\n## ").first)
        return Set(section.split(separator: "\n").compactMap { line -> Int? in
            guard line.hasPrefix("| ") else { return nil }
            return Int(line.dropFirst(2).prefix { $0.isNumber })
        })
    }

    static func codeConstants() throws -> Set<Int> {
        let text = try String(contentsOf: root.appendingPathComponent("Sources/laforge/ExitCodes.swift"), encoding: .utf8)
        var codes = Set(text.matches(of: #/static let \w+ = ExitCode\((\d+)\)/#).compactMap { Int($0.1) })
        if text.contains("static let usage = ExitCode.validationFailure") { codes.insert(64) }
        codes.insert(0)  // success: ArgumentParser's, not a constant
        return codes
    }

    @Test func theTableIsTheCodesConstants() throws {
        let table = try Self.tableCodes()
        let constants = try Self.codeConstants()
        #expect(table.count >= 7)
        #expect(table == constants, "docs/CLI.md lists \(table.sorted()), ExitCodes.swift has \(constants.sorted())")
        // --help wraps its text: compare with the line breaks as spaces.
        let help = try CLIRunner.run(["--help"]).stdout.replacingOccurrences(of: "\n", with: " ")
        for code in constants where code != 0 {
            #expect(help.contains(" \(code) "), "laforge --help does not list exit code \(code)")
        }
    }

    /// A configuration without secret backends or connectors, and one journal entry.
    func scratch() throws -> (directory: String, config: String) {
        let directory = try makePluginDirectory([:])
        let config = directory + "/laforge.yaml"
        try "version: 1\nstate_dir: \(directory)/state\n".write(toFile: config, atomically: true, encoding: .utf8)
        let emit = try CLIRunner.run(["audit", "emit", "--actor", "a", "--action", "a.b", "--config", config])
        #expect(emit.status == 0, "\(emit.output)")
        return (directory, config)
    }

    @Test func proveOfAMissingEntryIsNotFound() throws {
        let (_, config) = try scratch()
        let missing = try CLIRunner.run(["audit", "prove", "99999", "--config", config])
        #expect(missing.status == 6, "\(missing.output)")
        #expect(missing.stderr.contains("no entry 99999: the journal holds 1 entries"), "\(missing.stderr)")
        #expect(try CLIRunner.run(["audit", "prove", "0", "--config", config]).status == 0)
    }

    @Test func noSecretBackendIsAConfigurationErrorForEverySecretsCommand() throws {
        let (directory, config) = try scratch()
        let commands: [[String]] = [
            ["secrets", "get", "db-password"],
            ["secrets", "encrypt", "--tenant", "t", "--field", "f"],
            ["secrets", "decrypt", "--tenant", "t", "--field", "f", "AAAA"],
        ]
        for command in commands {
            let result = try CLIRunner.runShell(
                "echo hi | \(CLIRunner.buildDirectory)/laforge \(command.joined(separator: " ")) --config \(config)")
            #expect(result.status == 3, "\(command): \(result.output)")
            #expect(result.stderr.contains("no secret backend is configured"), "\(command): \(result.stderr)")
        }
        _ = directory
    }

    @Test func authCheckWithoutAConnectorIsAConfigurationError() throws {
        let (directory, config) = try scratch()
        try "not-a-token\n".write(toFile: directory + "/token", atomically: true, encoding: .utf8)
        let result = try CLIRunner.run(["auth", "check", "--token-file", directory + "/token", "--action", "a", "--resource", "r", "--config", config])
        #expect(result.status == 3, "\(result.output)")
        #expect(result.stderr.contains("no IdP connector is configured"), "\(result.stderr)")
    }

    /// A production configuration whose checkpoint key is missing cannot record: validate says
    /// so (exit 3, naming the key and the setting) instead of passing.
    @Test func validateFailsAProductionConfigurationThatCannotRecord() throws {
        let directory = try makePluginDirectory([:])
        #expect(try CLIRunner.run(["keys", "generate", "--out", directory + "/release"]).status == 0)
        let config = directory + "/production.yaml"
        try """
            version: 1
            mode: production
            state_dir: \(directory)/state
            trusted_keys:
              - name: release
                public_key_file: release.pub
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let refused = try CLIRunner.run(["config", "validate", "--config", config])
        #expect(refused.status == 3, "\(refused.output)")
        #expect(refused.stderr.contains("cannot record"), "\(refused.stderr)")
        #expect(refused.stderr.contains("audit.checkpoints.key_file"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: directory + "/state/keys/checkpoint"), "validate must not generate a key")
        #expect(try CLIRunner.run(["keys", "generate", "--out", directory + "/state/keys/checkpoint"]).status == 0)
        let accepted = try CLIRunner.run(["config", "validate", "--config", config])
        #expect(accepted.status == 0, "\(accepted.output)")
    }

    /// `audit tail --follow` into a pipe: an entry recorded while it follows reaches the reader
    /// at once, not when 4 KiB have gathered or the process exits.
    @Test func tailFollowIntoAPipePrintsEachLineAtOnce() throws {
        let (_, config) = try scratch()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLIRunner.buildDirectory + "/laforge")
        process.arguments = ["audit", "tail", "--follow", "-n", "0", "--config", config]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        // SIGKILL: ends the follower whatever its signal dispositions (and does not flush stdio).
        let pid = process.processIdentifier
        defer {
            kill(pid, SIGKILL)
            process.waitUntilExit()
        }
        // A bound on the wait, not a timing claim: a follower that never writes is ended, the
        // pipe closes and the expectation below fails.
        DispatchQueue.global().asyncAfter(deadline: .now() + 60) { if process.isRunning { kill(pid, SIGKILL) } }
        // The follower takes the journal's size when it opens it, at a moment this test cannot
        // see; an entry recorded before that is behind it (-n 0). So emit once a second until
        // the reader has a line: one of them is recorded while it follows.
        let received = ReceivedFlag()
        let emitter = Thread {
            for _ in 0..<50 where !received.value.load(ordering: .acquiring) {
                _ = try? CLIRunner.run(["audit", "emit", "--actor", "followed", "--action", "a.b", "--config", config])
                usleep(1_000_000)
            }
        }
        emitter.start()
        defer { received.value.store(true, ordering: .releasing) }
        // availableData blocks until the follower writes; with block buffering it would write
        // only at exit (and the terminate above comes after this read).
        let reading = pipe.fileHandleForReading
        var text = ""
        while !text.contains("\n") {
            let data = reading.availableData
            if data.isEmpty { break }
            text += String(decoding: data, as: UTF8.self)
        }
        received.value.store(true, ordering: .releasing)
        #expect(text.contains("followed"), "\(text)")
    }
}

/// Set once the follower's line has arrived, so the emitting thread stops.
private final class ReceivedFlag: Sendable {
    let value = Atomic<Bool>(false)
}
