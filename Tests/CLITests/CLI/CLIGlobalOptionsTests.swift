import Foundation
import Testing
@testable import LaForgeCore
@testable import LaForgeTestSupport

/// docs/CLI.md: global options before or after the subcommand, one option name per concept (the
/// old spellings still work, with a deprecation note), `--json` on every reading command, and
/// the shell completion scripts.
@Suite struct CLIGlobalOptionsTests {
    /// A configuration with a journal in a fresh folder and no sinks.
    func scratchConfig() throws -> (directory: String, config: String) {
        let directory = try makePluginDirectory([:])
        let config = directory + "/laforge.yaml"
        try "version: 1\nstate_dir: \(directory)/state\n".write(toFile: config, atomically: true, encoding: .utf8)
        return (directory, config)
    }

    @Test func globalOptionsWorkBeforeAndAfterTheSubcommand() throws {
        let (directory, config) = try scratchConfig()
        let placements: [[String]] = [
            ["--config", config, "audit", "emit", "--actor", "before", "--action", "a.b"],
            ["audit", "--config", config, "emit", "--actor", "between", "--action", "a.b"],
            ["audit", "emit", "--actor", "after", "--action", "a.b", "--config", config],
            ["--config=\(config)", "--verbose", "audit", "emit", "--actor", "equals", "--action", "a.b"],
        ]
        for arguments in placements {
            let result = try CLIRunner.run(arguments, in: directory)
            #expect(result.status == 0, "\(arguments): \(result.output)")
        }
        // --state-dir before the subcommand wins over the file's state_dir as after it does.
        let other = directory + "/other"
        #expect(try CLIRunner.run(["--state-dir", other, "--config", config, "audit", "emit", "--actor", "o", "--action", "a.b"]).status == 0)
        let tail = try CLIRunner.run(["--config", config, "audit", "tail", "--json"])
        #expect(tail.status == 0, "\(tail.output)")
        let users = tail.stdout.split(separator: "\n").compactMap { try? JSONParser.parse(String($0))["event"]?["actor"]?["user"]?.stringValue }
        #expect(users == ["before", "between", "after", "equals"], "\(tail.stdout)")
        let moved = try CLIRunner.run(["audit", "tail", "--json", "--state-dir", other, "--config", config])
        #expect(moved.stdout.contains("\"o\""), "\(moved.output)")
    }

    /// A command that takes no global options refuses them in either place, as a usage error.
    @Test func aCommandWithoutGlobalOptionsRefusesThemEitherWay() throws {
        let (directory, config) = try scratchConfig()
        for arguments in [["--config", config, "keys", "generate", "--out", directory + "/k"], ["keys", "generate", "--out", directory + "/k", "--config", config]] {
            let result = try CLIRunner.run(arguments)
            #expect(result.status == 64, "\(arguments): \(result.output)")
            #expect(result.stderr.contains("--config"), "\(result.stderr)")
        }
    }

    @Test func oldSpellingsWorkWithADeprecationNote() throws {
        let (directory, config) = try scratchConfig()
        let old = try CLIRunner.run(["audit", "emit", "--user", "legacy", "--action", "a.b", "--config", config], in: directory)
        #expect(old.status == 0, "\(old.output)")
        #expect(old.stderr.contains("laforge: warning: --user is deprecated and will be removed in the next release; use --actor"), "\(old.stderr)")
        let new = try CLIRunner.run(["audit", "emit", "--actor", "current", "--action", "a.b", "--config", config], in: directory)
        #expect(new.status == 0 && !new.stderr.contains("deprecated"), "\(new.output)")
        let both = try CLIRunner.run(["audit", "emit", "--user", "x", "--actor", "y", "--action", "a.b", "--config", config])
        #expect(both.status == 64, "\(both.output)")
        let tail = try CLIRunner.run(["audit", "tail", "--config", config])
        #expect(tail.stdout.contains("legacy") && tail.stdout.contains("current"), "\(tail.stdout)")

        let library = directory + "/libsink.so"
        try FileManager.default.copyItem(atPath: CPluginBuilder.build(sourceURL("abi_1_0_sink.c")).path, toPath: library)
        #expect(try CLIRunner.run(["keys", "generate", "--out", directory + "/release"]).status == 0)
        #expect(try CLIRunner.run(["plugins", "sign", library, "--key", directory + "/release"]).status == 0)
        let trusted = try CLIRunner.run(["plugins", "verify", library, "--trusted-key", directory + "/release.pub"])
        #expect(trusted.status == 0, "\(trusted.output)")
        #expect(trusted.stderr.contains("--trusted-key is deprecated"), "\(trusted.stderr)")
        let json = try CLIRunner.run(["plugins", "verify", library, "--key", directory + "/release.pub", "--json"])
        #expect(json.status == 0, "\(json.output)")
        #expect(try JSONParser.parse(json.stdout)["valid"] == .bool(true))
    }

    /// Every command that reads and reports takes --json: the list is checked against the
    /// command tree ArgumentParser dumps, so a new reading command without it fails here.
    @Test func everyReadingCommandTakesJSON() throws {
        // Commands that write, run a service, or print exactly one value for scripts.
        let noJSON: Set<String> = [
            "plugins sign", "keys generate", "keys wrap", "audit deliver", "audit hash-value", "provenance export",
            "secrets get", "secrets encrypt", "secrets decrypt", "approve", "reject", "annotate", "serve", "help",
            "deadletter replay", "deadletter purge",
        ]
        let dump = try CLIRunner.run(["--experimental-dump-help"])
        #expect(dump.status == 0)
        var leaves: [(name: String, options: Set<String>)] = []
        func walk(_ command: JSONValue, _ path: [String]) {
            let name = path + [command["commandName"]?.stringValue ?? "?"]
            let subcommands = command["subcommands"]?.arrayValue ?? []
            if subcommands.isEmpty {
                let options = (command["arguments"]?.arrayValue ?? []).flatMap { ($0["names"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue } }
                leaves.append((name.dropFirst().joined(separator: " "), Set(options)))
            }
            for subcommand in subcommands { walk(subcommand, name) }
        }
        walk(try #require(try JSONParser.parse(dump.stdout)["command"]), [])
        #expect(leaves.count > 30)
        for leaf in leaves where !noJSON.contains(leaf.name) {
            // audit emit's --json is the event; its JSON output is --json-output (docs/CLI.md).
            let flag = leaf.name == "audit emit" ? "json-output" : "json"
            #expect(leaf.options.contains(flag), "laforge \(leaf.name) has no --\(flag)")
        }
    }

    @Test func theNewJSONOutputsParse() throws {
        let (directory, config) = try scratchConfig()
        let validate = try CLIRunner.run(["config", "validate", "--json", "--config", config])
        #expect(validate.status == 0, "\(validate.output)")
        let document = try JSONParser.parse(validate.stdout)
        #expect(document["valid"] == .bool(true))
        #expect(document["state_dir"]?.stringValue == directory + "/state")
        #expect(try CLIRunner.run(["audit", "emit", "--actor", "a", "--action", "a.b", "--config", config]).status == 0)
        let prove = try CLIRunner.run(["audit", "prove", "0", "--json", "--config", config])
        #expect(prove.status == 0, "\(prove.output)")
        #expect(try JSONParser.parse(prove.stdout)["seq"] != nil, "\(prove.stdout)")
    }

    /// The completion scripts docs/CLI.md installs: generated for each shell, naming the
    /// subcommands and the global options; bash's parses (`bash -n`).
    @Test func completionScriptsAreGeneratedForEachShell() throws {
        let directory = try makePluginDirectory([:])
        for shell in ["bash", "zsh", "fish"] {
            let result = try CLIRunner.run(["--generate-completion-script", shell])
            #expect(result.status == 0, "\(shell): \(result.output)")
            // fish names options without their dashes (`-l 'state-dir'`).
            for word in ["audit", "snapshot", "verify", "plugin-dir", "state-dir"] {
                let found = result.stdout.contains(word)
                #expect(found, "\(shell) completion lacks \(word)")
            }
            try result.stdout.write(toFile: directory + "/laforge." + shell, atomically: true, encoding: .utf8)
        }
        let syntax = try CLIRunner.runShell("bash -n \(directory)/laforge.bash")
        #expect(syntax.status == 0, "\(syntax.output)")
        let unknown = try CLIRunner.run(["--generate-completion-script", "tcsh"])
        #expect(unknown.status == 64)
    }
}
