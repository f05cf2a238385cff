import ArgumentParser
import Foundation
import LaForgeHost

struct SecretsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secrets", abstract: "Read secrets and seal or open fields through the configured secret backends.",
        discussion: "Exit codes: 1 a sealed field does not verify (altered, or another tenant/field/context), "
            + "2 the backend failed (not found, access denied, unreachable), 3 configuration, 4 plugin load, 64 usage.",
        subcommands: [Get.self, Encrypt.self, Decrypt.self])

    /// Which backend, key and context a field belongs to.
    struct FieldOptions: ParsableArguments {
        @Option(help: ArgumentHelp("The secret backend instance (default: the only one configured).", valueName: "name"))
        var backend: String?
        @Option(help: ArgumentHelp("The KMS key that wraps data keys (default: the backend's key_id).", valueName: "key"))
        var key: String?
        @Option(help: ArgumentHelp("The tenant the field belongs to.", valueName: "tenant")) var tenant: String
        @Option(help: ArgumentHelp("The field's path, e.g. users.ssn.", valueName: "path")) var field: String
        @Option(name: .customLong("context"), help: ArgumentHelp("More context to bind (repeatable).", valueName: "key=value"))
        var context: [String] = []

        func envelopeContext() throws(ExitCode) -> EnvelopeContext {
            var extra: [String: String] = [:]
            for pair in context {
                guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                    throw fail("--context \(pair): expected key=value", ExitCode.validationFailure)
                }
                extra[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
            }
            do {
                return try EnvelopeContext(tenant: tenant, fieldPath: field, extra: extra)
            } catch {
                throw fail(error.description, ExitCode.validationFailure)
            }
        }

        func cipher(_ runtime: PluginRuntime) throws(ExitCode) -> EnvelopeCipher {
            try requireSecretBackend(runtime)
            do {
                return try EnvelopeCipher(backend: runtime.secretBackend(named: backend), keyID: key)
            } catch {
                // Backends exist, but --backend names none of them or several need naming.
                throw fail(error.description, LaForgeExit.usage)
            }
        }
    }

    struct Get: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a secret (BACKEND/NAME, or NAME with one backend) on standard output.",
            discussion: "The value goes to standard output only, never into a log line; pipe it where it is needed.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "BACKEND/NAME or NAME.") var reference: String
        @Flag(help: "Print the value in base64 (for binary secrets).") var base64 = false

        func run() throws {
            let runtime = try global.startRuntime()
            defer { runtime.close() }
            try requireSecretBackend(runtime)
            let value: SecretValue
            do throws(SecretResolutionError) {
                value = try runtime.secrets.resolveSecret(reference)
            } catch {
                throw fail(error.description, LaForgeExit.runtimeError)
            }
            // Written from the secret's own locked bytes: no Data or String copy is left behind.
            let written = base64
                ? value.base64Encoded().write(to: STDOUT_FILENO) && SecretValue(string: "\n").write(to: STDOUT_FILENO)
                : value.write(to: STDOUT_FILENO)
            if !written {
                throw fail("cannot write the secret to standard output: \(String(cString: strerror(errno)))", LaForgeExit.runtimeError)
            }
        }
    }

    struct Encrypt: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Seal standard input as one field; prints the envelope ciphertext in base64.",
            discussion: "The plaintext is read from standard input (never from the command line, where other users can see it).")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var field: FieldOptions

        func run() throws {
            let context = try field.envelopeContext()
            let plaintext: SecretValue
            do throws(SecretValue.ReadError) {
                plaintext = try SecretValue.readingAll(from: STDIN_FILENO)
            } catch {
                throw fail("cannot read the plaintext from standard input: \(error)", LaForgeExit.runtimeError)
            }
            let runtime = try global.startRuntime()
            defer { runtime.close() }
            let cipher = try field.cipher(runtime)
            do throws(EnvelopeError) {
                print(Data(try cipher.seal(plaintext, context: context)).base64EncodedString())
            } catch {
                throw fail(error.description, LaForgeExit.runtimeError)
            }
        }
    }

    struct Decrypt: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Open an envelope ciphertext (base64, argument or standard input); prints the plaintext.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var field: FieldOptions
        @Argument(help: "The base64 ciphertext (default: read standard input).") var ciphertext: String?

        func run() throws {
            let context = try field.envelopeContext()
            let text = ciphertext ?? String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
            guard let bytes = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                throw fail("the ciphertext is not base64", ExitCode.validationFailure)
            }
            let runtime = try global.startRuntime()
            defer { runtime.close() }
            let cipher = try field.cipher(runtime)
            let plaintext: SecretValue
            do throws(EnvelopeError) {
                plaintext = try cipher.open(Array(bytes), context: context)
            } catch {
                switch error.kind {
                case .wrongContext, .tampered, .malformedCiphertext: throw fail(error.description, LaForgeExit.verificationFailed)
                default: throw fail(error.description, LaForgeExit.runtimeError)
                }
            }
            if !plaintext.write(to: STDOUT_FILENO) {
                throw fail("cannot write the plaintext to standard output: \(String(cString: strerror(errno)))", LaForgeExit.runtimeError)
            }
        }
    }
}

/// Every secrets command fails the same way, exit 3, when the configuration has no backend.
func requireSecretBackend(_ runtime: PluginRuntime) throws(ExitCode) {
    guard runtime.secretBackends.isEmpty else { return }
    throw fail("no secret backend is configured (add secret_backends to \(runtime.config.sourcePath))", LaForgeExit.configError)
}
