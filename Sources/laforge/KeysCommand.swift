import ArgumentParser
import LaForgeHost

struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Manage Ed25519 signing keys (plugins, checkpoints).",
        subcommands: [Generate.self, Wrap.self])

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create PATH (private key, mode 0600) and PATH.pub (verifier key); never overwrites.")

        @Option(help: ArgumentHelp("Where to write the private key.", valueName: "path")) var out: String
        @Option(help: ArgumentHelp("The key's name, shown in signatures (no spaces or '+').", valueName: "name"))
        var name = "laforge"

        func run() throws {
            do {
                let key = try Ed25519SigningKey.generate(name: name)
                try KeyFileWriter.write(key, to: out)
                print("wrote \(out) (private, mode 0600) and \(out).pub: \(key.verifierKey.encoded)")
            } catch {
                throw fail(error.description, LaForgeExit.runtimeError)
            }
        }
    }
}
