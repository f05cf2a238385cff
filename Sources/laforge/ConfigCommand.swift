import ArgumentParser
import LaForgeHost

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Check and show the configuration.",
        subcommands: [Validate.self, Show.self])

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the configuration in force and where it came from, secrets redacted.",
            discussion: "The first of --config, $LAFORGE_CONFIG, /etc/laforge/laforge.yaml, else the built-in "
                + "default (docs/CONFIG.md). Loads and checks the file but starts no plugin.")

        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print {source, origin, path, configuration} as JSON.") var json = false

        func run() throws {
            let shown = EffectiveConfiguration(location: global.configLocation, config: try global.loadConfig())
            if json {
                printJSON(shown.jsonValue())
            } else {
                for line in shown.lines() { print(line) }
            }
        }
    }

    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load the configuration and start every plugin in it, then stop them.",
            discussion: "Checks YAML, keys and types, interpolation, plugin loading and signatures, each "
                + "plugin's config against its schema, and each plugin's create().")

        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print the result as JSON.") var json = false

        func run() throws {
            let runtime = try global.startRuntime()
            defer { runtime.close() }
            let config = runtime.config
            do { try AuditKeys(config: config).checkRecordable() } catch {
                throw fail("\(config.sourcePath): this configuration cannot record: \(error.message)", error.exitCode)
            }
            if json {
                func instance(_ name: String, _ library: PluginLibrary) -> JSONValue {
                    .object(["name": .string(name), "plugin": .string(library.descriptor.name), "version": .string(library.descriptor.version)])
                }
                printJSON(.object([
                    "config": .string(config.sourcePath), "valid": .bool(true), "mode": .string(config.mode.rawValue),
                    "state_dir": .string(config.stateDir),
                    "secret_backends": .array(runtime.secretBackends.map { instance($0.name, $0.library) }),
                    "audit_sinks": .array(runtime.sinks.map { instance($0.name, $0.library) }),
                ]))
                return
            }
            print("\(config.sourcePath): OK (mode \(config.mode.rawValue), state_dir \(config.stateDir))")
            for backend in runtime.secretBackends {
                print("  secret backend \(backend.name): \(backend.library.descriptor.name) \(backend.library.descriptor.version)")
            }
            for sink in runtime.sinks {
                print("  audit sink \(sink.name): \(sink.library.descriptor.name) \(sink.library.descriptor.version)")
            }
        }
    }
}
