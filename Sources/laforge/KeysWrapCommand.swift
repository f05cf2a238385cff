import ArgumentParser
import Foundation
import LaForgeHost

extension KeysCommand {
    struct Wrap: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a checkpoint signing key wrapped by a KMS (audit.checkpoints.key_wrapped_by).",
            discussion: "With --generate the key is made in memory and only its wrapped form is written; with --in an "
                + "existing plain key file is wrapped (remove the plain file afterwards). Writes OUT (mode 0600) and OUT.pub; "
                + "never overwrites.")

        @OptionGroup var global: GlobalOptions
        @Option(help: ArgumentHelp("The secret backend whose KMS wraps the key (default: the only one).", valueName: "name"))
        var backend: String?
        @Option(help: ArgumentHelp("The KMS key (default: the backend's key_id).", valueName: "key")) var key: String?
        @Option(name: .customLong("in"), help: ArgumentHelp("A plain key file to wrap.", valueName: "path")) var input: String?
        @Option(help: ArgumentHelp("Generate a new key with this name instead of --in.", valueName: "name")) var generate: String?
        @Option(help: ArgumentHelp("Where to write the wrapped key.", valueName: "path")) var out: String

        func validate() throws {
            guard (input == nil) != (generate == nil) else { throw ValidationError("give exactly one of --in and --generate") }
        }

        func run() throws {
            let runtime = try global.startRuntime()
            defer { runtime.close() }
            do {
                let instance = try runtime.secretBackend(named: backend)
                let signingKey = try input.map { try Ed25519SigningKey(contentsOfFile: $0) } ?? Ed25519SigningKey.generate(name: generate!)
                let text = try WrappedCheckpointKey.wrap(signingKey, backend: instance, kmsKeyID: key)
                try WrappedCheckpointKey.write(text, verifierKey: signingKey.verifierKey, to: out)
                print("wrote \(out) (wrapped by \(instance.name), mode 0600) and \(out).pub: \(signingKey.verifierKey.encoded)")
            } catch let error as EnvelopeError {
                throw fail(error.description, ExitCode.validationFailure)
            } catch let error as KeyFormatError {
                throw fail(error.message, LaForgeExit.runtimeError)
            }
        }
    }
}
