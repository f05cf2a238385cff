import ArgumentParser

/// ArgumentParser reads an option only in the command that declares it, and the global options
/// are declared by each command that reads the configuration (`GlobalOptions`), not by the root:
/// `laforge --config F audit emit …` would be refused as an unknown option. Before parsing, the
/// global options written before or between the subcommand names are moved to just after the
/// last name, so both placements mean the same; a command that does not take them still refuses
/// them, as it would after its name.
enum GlobalOptionPlacement {
    /// Global options that take a value (`--config F` or `--config=F`).
    static let valued: Set<String> = ["--config", "--state-dir", "--plugin-dir", "--log-format"]
    /// Global flags.
    static let flags: Set<String> = ["--verbose"]

    static func reorder(_ arguments: [String], root: any ParsableCommand.Type) -> [String] {
        var path: [String] = []
        var global: [String] = []
        var command = root
        var index = 0
        scan: while index < arguments.count {
            let argument = arguments[index]
            if valued.contains(argument) {
                global.append(argument)
                if index + 1 < arguments.count { global.append(arguments[index + 1]) }
                index += 2
            } else if flags.contains(argument) || valued.contains(where: { argument.hasPrefix($0 + "=") }) {
                global.append(argument)
                index += 1
            } else if let subcommand = command.configuration.subcommands.first(where: { names($0).contains(argument) }) {
                path.append(argument)
                command = subcommand
                index += 1
            } else {
                break scan
            }
        }
        // Nothing to move, or no subcommand named: leave the arguments as they were written.
        guard !global.isEmpty, !path.isEmpty else { return arguments }
        return path + global + arguments[index...]
    }

    private static func names(_ command: any ParsableCommand.Type) -> [String] {
        [command._commandName] + command.configuration.aliases
    }
}
