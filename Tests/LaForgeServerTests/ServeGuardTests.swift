import Foundation
import Testing
@testable import LaForgeCore
@testable import LaForgeTestSupport

/// `POST /v1/guard/deploy` beside `laforge snapshot sign` on the same state directory.
@Suite struct ServeGuardTests {
    @Test func theDeploymentGuardDecidesAndRecordsItsVerdict() throws {
        let sandbox = try AuditSandbox()
        let server = try RunningServer(sandbox: sandbox)
        try FileManager.default.createDirectory(atPath: sandbox.root + "/db", withIntermediateDirectories: true)
        try "CREATE TABLE orders (id int);\n".write(toFile: sandbox.root + "/db/schema.sql", atomically: true, encoding: .utf8)
        let signed = try sandbox.laforge(["snapshot", "sign", "db", "--actor", "carol", "--message", "release 1"])
        #expect(signed.status == 0, "\(signed.output)")

        let allowed = try server.request("POST", "/v1/guard/deploy", body: #"{"snapshot":"latest","require_signed":true}"#)
        #expect(allowed.status == 200, "\(allowed.body)")
        #expect(allowed.json?["allowed"]?.boolValue == true, "\(allowed.body)")
        let unapproved = try server.request("POST", "/v1/guard/deploy", body: #"{"snapshot":"latest","require_approved":true}"#)
        #expect(unapproved.json?["allowed"]?.boolValue == false)
        #expect(unapproved.json?["unmet"]?.arrayValue?.isEmpty == false)
        #expect(try server.request("POST", "/v1/guard/deploy", body: #"{"require_signed":"yes"}"#).json?["error"]?["field"]?.stringValue == "require_signed")
        #expect(try server.request("POST", "/v1/guard/deploy", body: #"{"snapshot":"ffffffff"}"#).status == 404)
        #expect(server.stop() == 0)

        let guards = try sandbox.journalEntries().compactMap { $0.entry["event"] }.filter { $0["action"]?.stringValue == "deploy.guard" }
        #expect(guards.count == 2)
        #expect(guards.allSatisfy { $0["actor"]?["user"]?.stringValue == "tests" })
    }
}
