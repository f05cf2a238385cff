import ArgumentParser
import Foundation
import LaForgeHost

struct PluginsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugins", abstract: "Inspect, check, sign and verify plugin libraries.",
        subcommands: [List.self, Inspect.self, Check.self, Sign.self, Verify.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the configured plugin instances: library, version, ABI, capabilities, signature.")

        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let config = try global.loadConfig()
            let listings = PluginInventory.list(config: config, options: global.runtimeOptions())
            if json {
                printJSON(.array(listings.map { $0.jsonValue() }))
            } else {
                for listing in listings {
                    if let descriptor = listing.descriptor {
                        print(
                            "\(listing.instance)\t\(listing.library)\t\(descriptor.name) \(descriptor.version)\tABI \(descriptor.abi)\t"
                                + descriptor.capabilities.map(\.rawValue).joined(separator: ",")
                                + "\t\(listing.signature?.description ?? "")")
                    } else {
                        print("\(listing.instance)\t\(listing.library)\tNOT LOADABLE: \(listing.error?.message ?? "")")
                    }
                }
            }
            if let broken = listings.first(where: { $0.error != nil })?.error {
                throw fail(broken.description, LaForgeExit.pluginLoadError)
            }
        }
    }

    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a plugin library's descriptor and config schemas (no configuration needed).",
            discussion: "Lists the optional functions a sink provides. Exit 4 when the library cannot be loaded or a config schema is one the host would refuse.")

        @Argument(help: "A path (containing /) or a library name inside the plugin directory.") var library: String
        @Option(help: ArgumentHelp("Where library names are looked up.", valueName: "dir")) var pluginDir: String?
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let descriptor = try openLibrary(library, pluginDir: pluginDir).descriptor
            let problems = descriptor.capabilities.compactMap { capability in
                descriptor.configSchemaProblem(for: capability).map { "\(capability.rawValue): \($0)" }
            }
            if json {
                printJSON(descriptor.jsonValue(includeSchemas: true))
            } else {
                printText(descriptor)
            }
            // The host would refuse to create an instance with such a schema: say so in the exit code.
            if !problems.isEmpty { throw fail(problems.joined(separator: "; "), LaForgeExit.pluginLoadError) }
        }

        private func printText(_ descriptor: PluginDescriptor) {
            print("\(descriptor.name) \(descriptor.version) (ABI \(descriptor.abi), \(descriptor.license))")
            if !descriptor.description.isEmpty { print(descriptor.description) }
            for capability in descriptor.capabilities {
                print("\n\(capability.rawValue) (\(descriptor.isConcurrent(capability) ? "concurrent" : "serial"))")
                if capability == .auditSink {
                    let functions = descriptor.auditSinkOptionalFunctions
                    let present = functions.filter(\.present).map(\.name)
                    let absent = functions.filter { !$0.present }.map(\.name)
                    print("  optional functions: \(present.isEmpty ? "none" : present.joined(separator: ", "))"
                        + (absent.isEmpty ? "" : " (absent: \(absent.joined(separator: ", ")))"))
                }
                if capability == .secretBackend {
                    print("  operations: \(descriptor.secretBackendOperations.joined(separator: ", "))")
                }
                if capability == .idpConnector {
                    print("  flows: \(descriptor.idpConnectorFlows.joined(separator: ", "))")
                }
                let schema = descriptor.configSchemaText(for: capability) ?? "none (no configuration)"
                if let problem = descriptor.configSchemaProblem(for: capability) {
                    print("  config schema: INVALID: \(problem)\n  \(schema)")
                } else {
                    print("  config schema: \(schema)")
                }
            }
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the conformance kit against a plugin library and print what is wrong.",
            discussion: "Loads the plugin, creates instances with good and bad configs, writes empty and real "
                + "batches, checks lifecycle order, error strings, concurrent calls where allowed. Exit 1 when "
                + "a check fails, 4 when the library cannot be loaded.")

        @Argument(help: "A path (containing /) or a library name inside the plugin directory.") var library: String
        @Option(help: ArgumentHelp("Where library names are looked up.", valueName: "dir")) var pluginDir: String?
        @Option(name: .customLong("sink-config"), help: ArgumentHelp("Audit sink config as JSON (default: synthesized from the schema).", valueName: "json"))
        var sinkConfig: String?
        @Option(name: .customLong("secret-config"), help: ArgumentHelp("Secret backend config as JSON (default: synthesized).", valueName: "json"))
        var secretConfig: String?
        @Option(name: .customLong("secret"), help: ArgumentHelp("A secret name that exists in the backend (only its length is shown).", valueName: "name"))
        var secretName: String?
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let path: String
            do {
                path = try PluginInventory.resolveCommandLineLibrary(
                    library, pluginDirectory: pluginDir ?? PluginPathResolver.defaultDirectory())
            } catch {
                throw fail(error.description, LaForgeExit.pluginLoadError)
            }
            var configs: [PluginCapability: JSONValue] = [:]
            for (capability, text, flag) in [(PluginCapability.auditSink, sinkConfig, "--sink-config"), (.secretBackend, secretConfig, "--secret-config")] {
                guard let text else { continue }
                do { configs[capability] = try JSONParser.parse(text) } catch {
                    throw ValidationError("\(flag) is not valid JSON: \(error)")
                }
            }
            let report = PluginConformanceKit(
                libraryPath: path, configs: configs, secretName: secretName,
                logger: .standardError(minimumLevel: .error)
            ).run()
            if json {
                printJSON(report.jsonValue())
            } else {
                for result in report.results {
                    let scope = result.capability.map { "\($0) " } ?? ""
                    print("\(result.outcome.rawValue.uppercased().padding(toLength: 4, withPad: " ", startingAt: 0)) \(scope)\(result.check): \(result.detail)")
                }
                print("\(report.passed) passed, \(report.failed) failed, \(report.warnings) warnings")
            }
            if report.results.contains(where: { $0.check == "load" && $0.outcome == .fail }) {
                throw LaForgeExit.pluginLoadError
            }
            if report.failed > 0 { throw LaForgeExit.verificationFailed }
        }
    }

    struct Sign: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a detached Ed25519 signature LIB.sig over the library's SHA-256.")

        @Argument(help: "The plugin library file.") var library: String
        @Option(help: ArgumentHelp("Signing key file (from `laforge keys generate`).", valueName: "path")) var key: String

        func run() throws {
            let signingKey: Ed25519SigningKey
            do { signingKey = try Ed25519SigningKey(contentsOfFile: key) } catch {
                throw fail(error.description, LaForgeExit.configError)
            }
            guard FileManager.default.fileExists(atPath: library) else {
                throw fail("\(library): no such file", LaForgeExit.pluginLoadError)
            }
            do {
                let path = try PluginSignature.sign(libraryAt: library, with: signingKey)
                print("wrote \(path) (signed by \(signingKey.verifierKey))")
            } catch {
                throw fail("cannot sign \(library): \(error.localizedDescription)", LaForgeExit.runtimeError)
            }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a library's signature against trusted keys (exit 1 when not valid).",
            discussion: "Trusted keys come from --key files, else from trusted_keys in the configuration.")

        @Argument(help: "The plugin library file.") var library: String
        @Option(name: .customLong("key"), help: ArgumentHelp("A trusted verifier key file (PATH.pub); repeatable.", valueName: "path"))
        var keyFiles: [String] = []
        /// The spelling before `--key` (the name every other verify command uses for a trusted
        /// verifier key); accepted with a deprecation note for one release.
        @Option(name: .customLong("trusted-key"), help: .hidden) var deprecatedTrustedKeyFiles: [String] = []
        @Flag(help: "Print the verdict as JSON.") var json = false
        @OptionGroup var global: GlobalOptions

        var trustedKeyFiles: [String] { keyFiles + deprecatedTrustedKeyFiles }

        func validate() throws {
            if !deprecatedTrustedKeyFiles.isEmpty { warnDeprecated("--trusted-key", use: "--key") }
        }

        func run() throws {
            var keys: [Ed25519VerifierKey] = []
            if trustedKeyFiles.isEmpty {
                let config = try global.loadConfig()
                for key in config.trustedKeys {
                    if let verifier = try? Ed25519VerifierKey(name: key.name, publicKey: key.publicKey) { keys.append(verifier) }
                }
            }
            for file in trustedKeyFiles {
                do {
                    let text = try String(contentsOfFile: file, encoding: .utf8)
                    keys.append(try Ed25519VerifierKey(parsing: text))
                } catch let error as KeyFormatError {
                    throw fail("\(file): \(error)", LaForgeExit.configError)
                } catch {
                    throw fail("cannot read \(file): \(error.localizedDescription)", LaForgeExit.configError)
                }
            }
            guard FileManager.default.fileExists(atPath: library) else {
                throw fail("\(library): no such file", LaForgeExit.pluginLoadError)
            }
            let verdict = PluginSignature.verify(libraryAt: library, trustedKeys: keys)
            if json {
                var object: [String: JSONValue] = ["library": .string(library), "valid": .bool(verdict.isValid), "verdict": .string(verdict.description)]
                if case .valid(let key) = verdict { object["key"] = .string(key) }
                printJSON(.object(object))
            }
            guard verdict.isValid else { throw fail("\(library): \(verdict)", LaForgeExit.verificationFailed) }
            if !json { print("\(library): \(verdict)") }
        }
    }
}

/// Opens a library named on the command line, printing load errors with exit code 4.
func openLibrary(_ library: String, pluginDir: String?) throws(ExitCode) -> PluginLibrary {
    do {
        let path = try PluginInventory.resolveCommandLineLibrary(
            library, pluginDirectory: pluginDir ?? PluginPathResolver.defaultDirectory())
        return try PluginLibrary.open(path: path)
    } catch {
        throw fail(error.description, LaForgeExit.pluginLoadError)
    }
}
