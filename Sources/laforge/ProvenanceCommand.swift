import ArgumentParser
import Foundation
import LaForgeHost

struct ProvenanceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "provenance", abstract: "Export and check in-toto provenance of snapshots.",
        subcommands: [Export.self, Verify.self])

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write an in-toto Statement v1 about a snapshot in a DSSE envelope signed with the snapshot key.",
            discussion: "Subjects are the artifacts and their SHA-256; the predicate holds the snapshot, its approvals and the audit checkpoint that includes it.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "`latest` or a unique prefix of the snapshot id.") var snapshot: String
        @Option(help: ArgumentHelp("Write the envelope here (default: standard output).", valueName: "path")) var out: String?

        func run() throws {
            let config = try global.loadConfig()
            let export: ProvenanceExporter.Export
            do { export = try ProvenanceExporter(config: config).export(snapshot: snapshot) } catch {
                throw fail(error.description, error.exitCode)
            }
            for notice in export.notices { printError("laforge: \(notice)") }
            let text = JSONCanonicalizer.canonicalString(export.envelope.jsonValue())
            guard let out else {
                print(text)
                return
            }
            do { try (text + "\n").write(toFile: out, atomically: true, encoding: .utf8) } catch {
                throw fail("cannot write \(out): \(error.localizedDescription)", LaForgeExit.runtimeError)
            }
            print("wrote \(out): provenance of snapshot \(export.snapshot.shortID), signed by \(export.key) (keyid \(DSSEEnvelope.keyID(of: export.key)))")
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a provenance envelope's signature against trusted snapshot keys (exit 1 when not valid).")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The envelope file.") var file: String
        @Option(name: .customLong("key"), help: ArgumentHelp("A trusted verifier key (PATH.pub); repeatable. Default: the snapshot keys of the configuration.", valueName: "path"))
        var keyFiles: [String] = []
        @Flag(help: "Print the verdict as JSON.") var json = false

        func run() throws {
            var keys = try readVerifierKeys(keyFiles)
            if keys.isEmpty { keys = SnapshotKeys(config: try global.loadConfig()).trustedKeys() }
            let envelope: DSSEEnvelope
            do {
                let data = try Data(contentsOf: URL(fileURLWithPath: file))
                envelope = try DSSEEnvelope(json: try JSONParser.parse(data))
            } catch let error as SnapshotError {
                throw fail("\(file): \(error)", LaForgeExit.verificationFailed)
            } catch {
                throw fail("cannot read \(file): \(error)", LaForgeExit.runtimeError)
            }
            let verified = envelope.verifiedKeys(keys)
            let valid = envelope.payloadType == DSSEEnvelope.inTotoPayloadType && !verified.isEmpty
            if json {
                printJSON(.object([
                    "file": .string(file), "valid": .bool(valid), "payload_type": .string(envelope.payloadType),
                    "keys": .array(verified.map { .string($0.description) }),
                ]))
            }
            guard valid, let key = verified.first else {
                throw fail("\(file): no signature verifies under a trusted key (payloadType \(envelope.payloadType))", LaForgeExit.verificationFailed)
            }
            if !json { print("\(file): valid DSSE signature by \(key)") }
        }
    }
}
