import ArgumentParser
import Foundation
import LaForgeClient
import LaForgeHost
import LaForgeServer

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Delivery per sink, the journal and the newest checkpoint: from a running laforge serve, else from the state directory.",
        discussion: """
            With a server listening on serve.socket this is its /readyz (live retries, last errors); \
            without one it is read from the state directory (cursors, dead-letter files).
            """)

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON (the shape of GET /readyz).") var json = false

    func run() throws {
        let config = try global.loadConfig()
        let socket = config.serve.socketPath(stateDirectory: config.stateDir)
        let status: JSONValue
        if FileManager.default.fileExists(atPath: socket), let client = try? LaForgeClient(socketPath: socket, timeoutMilliseconds: 5_000),
            let body = try? client.send("GET", "/readyz", body: nil, contentType: nil), let parsed = try? JSONParser.parse(body)
        {
            status = parsed
        } else {
            do { status = try ServeStatus.fromStateDirectory(config: config) } catch { throw fail(error.description, error.exitCode) }
        }
        if json {
            printJSON(status)
            return
        }
        let source = status["source"]?.stringValue == "server" ? "laforge serve is running on \(socket)" : "no server running: read from the state directory"
        print(source)
        let entries = status["journal_entries"]?.intValue ?? 0
        let covered = status["newest_covered"]?.boolValue == true ? "yes" : "no"
        var checkpoint = "checkpoint: size \(status["checkpoint_size"]?.intValue ?? 0)"
        if let age = status["checkpoint_age_seconds"]?.numberValue { checkpoint += String(format: ", signed %.1f s ago", age) }
        print("journal: \(entries) entries; \(checkpoint); newest entries covered: \(covered)")
        for sink in status["sinks"]?.arrayValue ?? [] {
            let name = sink["sink"]?.stringValue ?? "?"
            let lag = sink["lag_entries"]?.intValue ?? 0
            let seconds = sink["lag_seconds"]?.numberValue ?? 0
            let error = sink["last_error"]?.stringValue ?? "-"
            print(
                "sink \(name): lag \(lag) entries (\(String(format: "%.1f", seconds)) s), retries \(sink["retries"]?.intValue ?? 0), "
                    + "dead letters \(sink["dead_letters"]?.intValue ?? 0), \(sink["failing"]?.boolValue == true ? "FAILING" : "ok"), last error: \(error)")
        }
    }
}
