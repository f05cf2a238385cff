import Foundation
import LaForgeHost

// Opens the runtime from laforge.yaml (or the path given), records one event, asks for two
// decisions and shuts down; prints what happened. Exit 0 when the event reached the sink.
let configPath = CommandLine.arguments.dropFirst().first ?? "laforge.yaml"

let runtime: LaForgeRuntime
do {
    runtime = try LaForgeRuntime.open(configPath: configPath)
    try runtime.start()
} catch {
    FileHandle.standardError.write(Data("embedding-example: \(error)\n".utf8))
    exit(3)
}

let ada = Principal(subject: "u-ada", roles: ["developers"], tenant: "acme", username: "ada")
do {
    let event = AuditEvent(
        actor: AuditActor(user: "ada", roles: ada.roles), action: "schema.change", tenant: "acme",
        target: "tenant/acme/schema/users", data: ["column": "email"])
    if let receipt = try runtime.emit(event) {
        print("recorded seq \(receipt.seq) \(receipt.hash.hexString)")
    }
    let change = try runtime.authorize(ada, action: "schema.change", resource: "tenant/acme/schema")
    print("schema.change on tenant/acme/schema: \(change.allowed ? "allow" : "deny")")
    let drop = try runtime.authorize(ada, action: "schema.change", resource: "tenant/globex/schema")
    print("schema.change on tenant/globex/schema: \(drop.allowed ? "allow" : "deny") (\(drop.reason))")
} catch {
    FileHandle.standardError.write(Data("embedding-example: \(error)\n".utf8))
    runtime.shutdown()
    exit(2)
}

let report = runtime.shutdown()
for (sink, caughtUp) in report.caughtUp.sorted(by: { $0.key < $1.key }) {
    print("sink \(sink): \(caughtUp ? "has everything" : "is behind")")
}
print("final checkpoint covers \(report.checkpointSize ?? 0) entries")
exit(report.isClean ? 0 : 1)
