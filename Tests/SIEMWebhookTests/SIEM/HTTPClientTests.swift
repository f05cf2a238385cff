import Foundation
import HTTPClient
import Testing
@testable import LaForgeTestSupport

@testable import LaForgeAudit
@testable import LaForgeCore
@testable import LaForgeGovernance
@testable import LaForgeIdentity
@testable import LaForgeJournal
@testable import LaForgePlugins
@testable import LaForgeSecrets

/// The shared HTTP client on its own, against the webhook receiver and sockets on 127.0.0.1:
/// keep-alive reuse, response headers and bodies, and the classification of failures.
@Suite(.serialized) struct HTTPClientTests {
    @Test func requestsReuseOneConnectionAndResponsesCarryStatusHeadersAndBody() throws {
        let root = try AuditSandbox()
        let receiver = try ReceiverProcess("webhook_receiver.py", [], in: root.root)
        defer { receiver.stop() }
        let client = try HTTPClient()
        for number in 0..<5 {
            let body = Array("{\"kind\":\"entry\",\"n\":\(number)}\n".utf8)
            let response = try client.send(HTTPRequest(
                method: "POST", url: "http://127.0.0.1:\(receiver.port)/hook?x=\(number)",
                headers: [HTTPHeader("Content-Type", "application/x-ndjson"), HTTPHeader("webhook-id", "id-\(number)")],
                body: body))
            #expect(response.status == 200)
            #expect(response.header("content-type") == nil || response.header("Content-Length") == String(response.body.count))
            #expect(String(decoding: response.body, as: UTF8.self) == "{\"accepted\": 1}")
        }
        let requests = try receiver.requests()
        #expect(requests.count == 5)
        #expect(Set(requests.compactMap { $0["peer"]?.intValue }).count == 1, "one keep-alive connection for all requests")
        #expect(requests.map { $0["path"]?.stringValue } == (0..<5).map { "/hook?x=\($0)" })
    }

    @Test func failuresAreClassified() throws {
        let client = try HTTPClient(options: HTTPClientOptions(connectTimeoutMilliseconds: 2_000, totalTimeoutMilliseconds: 1_000))
        func failure(_ url: String) -> HTTPClientError? {
            do {
                _ = try client.send(HTTPRequest(method: "POST", url: url, body: Array("x".utf8)))
                return nil
            } catch {
                return error
            }
        }
        let closedPort = try freePort()
        #expect(failure("http://127.0.0.1:\(closedPort)/")?.kind == .connectionRefused)
        #expect(failure("http://nonexistent.invalid/")?.kind == .dns)
        #expect(failure("ftp://127.0.0.1/")?.kind == .invalidRequest)

        // A listener that accepts and never answers: the total timeout.
        let root = try AuditSandbox()
        let hanging = try ReceiverProcess("webhook_receiver.py", ["--faults", "--seed", "3", "--hang-seconds", "5"], in: root.root)
        defer { hanging.stop() }
        // The faulty receiver answers most requests (5xx is a response, not a failure) and hangs
        // or resets on some: ask until one hangs past the 1 s total timeout.
        var kinds: Set<String> = []
        for _ in 0..<40 where !kinds.contains("timeout") {
            if let error = failure("http://127.0.0.1:\(hanging.port)/") { kinds.insert(error.kind.rawValue) }
        }
        #expect(kinds.contains("timeout"))
        #expect(kinds.isSubset(of: ["timeout", "connectionReset"]))

        // TLS against a plain HTTP listener is a TLS failure, and credentials never show.
        let error = failure("https://user:sekrit-pass@127.0.0.1:\(hanging.port)/path?token=sekrit-token")
        #expect(error?.kind == .tls || error?.kind == .connectionReset || error?.kind == .timeout)
        #expect(error.map { !"\($0)".contains("sekrit") } == true)
    }

    @Test func urlsAreShownWithoutCredentialsOrQuery() {
        #expect(HTTPRequest.displayURL("https://user:pw@siem.example:8443/a/b?token=x#f") == "https://siem.example:8443/a/b")
        #expect(HTTPRequest.displayURL("http://siem.example/") == "http://siem.example/")
        #expect(HTTPHeader("Authorization", "Splunk x").isSensitive)
        #expect(HTTPHeader("X-API-Key", "x").isSensitive)
        #expect(!HTTPHeader("Content-Type", "x").isSensitive)
    }
}
