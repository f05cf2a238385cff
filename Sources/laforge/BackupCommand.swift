import ArgumentParser
import Foundation
import LaForgeHost

struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Back a state directory up while the host runs, verify a backup, restore one into a new directory.",
        discussion: """
            A backup holds the journal up to its newest signed checkpoint, the checkpoint log, the \
            sink cursors (capped there), the snapshot and approval chains, the dead letters and the \
            public keys. A private key is in it only when wrapped by a KMS key, or with \
            --include-private-keys. docs/OPERATIONS.md has the drill.
            """,
        subcommands: [Create.self, Verify.self, Restore.self])
}

extension BackupError {
    var exitCode: ExitCode {
        switch kind {
        case .configuration: return LaForgeExit.configError
        case .corrupt: return LaForgeExit.verificationFailed
        case .input, .output: return LaForgeExit.runtimeError
        }
    }
}

/// What a verified backup holds, as `verify` and `restore` print it.
func backupSummary(_ result: BackupVerifier.Result) -> JSONValue {
    .object([
        "chain_id": .string(result.manifest.chainID), "created": .string(result.manifest.created),
        "journal_entries": .number(Double(result.manifest.journalEntries)), "checkpoints": .number(Double(result.report.checkpoints)),
        "checkpoint_root": .string(result.report.lastCheckpointRoot?.hexString ?? ""), "files": .number(Double(result.manifest.files.count)),
        "private_keys": .string(result.manifest.privateKeys),
        "excluded_private_keys": .array(result.manifest.excludedPrivateKeys.map(JSONValue.string)),
    ])
}

extension BackupCommand {
    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write a backup of the state directory (safe while laforge serve runs).")

        @OptionGroup var global: GlobalOptions
        @Option(help: ArgumentHelp("The backup file to create (never overwritten).", valueName: "file")) var out: String
        @Flag(help: "Also copy private keys that are not wrapped by a KMS key (the backup is then as secret as the keys).")
        var includePrivateKeys = false
        @Flag(help: "Print the manifest as JSON.") var json = false

        func run() throws {
            let config = try global.loadConfig()
            let result: StateBackup.Result
            do { result = try StateBackup.create(config: config, output: out, includePlainPrivateKeys: includePrivateKeys) } catch {
                throw fail(error.description, error.exitCode)
            }
            for notice in result.notices { printError("laforge: \(notice)") }
            if json {
                printJSON(result.manifest.jsonValue)
            } else {
                print("backup \(out): \(result.manifest.journalEntries) entries up to the signed checkpoint of that size, \(result.manifest.files.count) files, private keys: \(result.manifest.privateKeys)")
            }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check every file of a backup and verify the chain it holds.")

        // Accepted like everywhere; the backup carries what verifying it needs.
        @OptionGroup var global: GlobalOptions
        @Argument(help: ArgumentHelp("The backup file.", valueName: "file")) var file: String
        @Option(name: .customLong("key"), help: ArgumentHelp("Trust only this checkpoint verifier key (PATH.pub; repeatable) instead of the backup's own.", valueName: "path"))
        var keyFiles: [String] = []
        @Flag(help: "Print the summary as JSON.") var json = false

        func run() throws {
            let keys = try readVerifierKeys(keyFiles)
            let result: BackupVerifier.Result
            do { result = try BackupVerifier.verify(path: file, pinnedKeys: keys) } catch { throw fail(error.description, error.exitCode) }
            if json {
                printJSON(backupSummary(result))
            } else {
                print("backup \(file) OK: \(result.manifest.journalEntries) entries, \(result.report.checkpoints) checkpoints, root \(result.report.lastCheckpointRoot?.hexString ?? "-"), \(result.manifest.files.count) files")
            }
        }
    }

    struct Restore: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Verify a backup and restore it into a new state directory (never overwrites).")

        /// `--state-dir DIR` names the state directory to create (absent or empty).
        @OptionGroup var global: GlobalOptions
        @Argument(help: ArgumentHelp("The backup file.", valueName: "file")) var file: String
        @Option(name: .customLong("key"), help: ArgumentHelp("Trust only this checkpoint verifier key (PATH.pub; repeatable).", valueName: "path"))
        var keyFiles: [String] = []
        @Flag(help: "Print the summary as JSON.") var json = false

        func validate() throws {
            guard global.stateDir != nil else { throw ValidationError("--state-dir DIR is required: the new state directory to restore into") }
        }

        func run() throws {
            let stateDir = global.stateDir ?? ""
            let keys = try readVerifierKeys(keyFiles)
            let result: BackupVerifier.Result
            do { result = try BackupRestore.restore(path: file, stateDirectory: stateDir, pinnedKeys: keys) } catch {
                throw fail(error.description, error.exitCode)
            }
            if json {
                printJSON(backupSummary(result))
            } else {
                print("restored \(result.manifest.journalEntries) entries into \(stateDir); point state_dir at it (or pass --state-dir) and start the host")
                if !result.manifest.excludedPrivateKeys.isEmpty {
                    print("not in the backup, restore them from where you keep them: \(result.manifest.excludedPrivateKeys.joined(separator: ", "))")
                }
            }
        }
    }
}
