import Foundation
import Testing
@testable import LaForgeTestSupport

@testable import LaForgeAudit
@testable import LaForgeCore
@testable import LaForgeGovernance

/// #17 Tests section, the approvals record: every deletion, byte flip, swap, duplication,
/// truncation and forged append of approvals.ndjson is found by `verify chain --snapshots`, at
/// the record's line (or the journal seq of the event whose record is gone), and
/// `contrib/verify.py --approvals` (from docs/FORMATS.md) finds the same problems. Neither
/// changes a byte of the store.
@Suite struct ApprovalTamperCorpusTests {
    @Test func everyTamperOfTheApprovalsRecordIsFoundByBothVerifiers() throws {
        let sandbox = try SnapshotSandbox()
        let alice = try sandbox.generateKey("alice")
        try sandbox.sign(["db", "policy"], actor: "carol")
        let decisions: [(String, String, String?)] = [
            ("approve", "alice", alice.path), ("reject", "bob", nil), ("annotate", "erin", nil),
            ("approve", "bob", nil), ("reject", "alice", alice.path), ("approve", "dave", nil),
        ]
        for (decision, user, key) in decisions {
            var arguments = [decision, "latest", "--comment", "\(decision) by \(user): é✓ \"ok\"", "--actor", user]
            if let key { arguments += ["--key", key] }
            let result = try sandbox.laforge(arguments)
            #expect(result.status == 0, "\(result.output)")
        }
        let original = try Array(Data(contentsOf: URL(fileURLWithPath: sandbox.approvalsPath)))
        let lines = String(decoding: original, as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(lines.count == 6)
        guard let python = testPythonInterpreter() else { throw AuditTestFailure("no test Python (run scripts/test)") }
        let verifier = CPluginBuilder.packageRoot.appendingPathComponent("contrib/verify.py").path

        func judge(_ name: String, _ bytes: [UInt8]) throws -> (swift: Set<String>, python: Set<String>, name: String) {
            try Data(bytes).write(to: URL(fileURLWithPath: sandbox.approvalsPath))
            defer { try? Data(original).write(to: URL(fileURLWithPath: sandbox.approvalsPath)) }
            let before = try StoreDigest(sandbox.stateDirectory)
            let swift = try sandbox.verifySnapshots()
            let peer = try CLIRunner.runExecutable(
                python, [verifier, "--key", sandbox.stateDirectory + "/keys/checkpoint.pub", "--approvals", sandbox.approvalsPath,
                         sandbox.stateDirectory + "/journal"])
            #expect(try StoreDigest(sandbox.stateDirectory) == before, "\(name): a verifier changed the store")
            func key(_ kind: String?, _ location: String?) -> String {
                "\(kind ?? "?") @ \(((location ?? "") as NSString).lastPathComponent)"
            }
            let found = Set((swift.report?["problems"]?.arrayValue ?? []).map { key($0["kind"]?.stringValue, $0["location"]?.stringValue) })
            let report = try? JSONParser.parse(peer.stdout)
            let peerFound = Set((report?["approval_problems"]?.arrayValue ?? []).map { key($0["kind"]?.stringValue, $0["location"]?.stringValue) })
            #expect((swift.status == 0) == found.isEmpty, "\(name): \(swift.result.output)")
            #expect((peer.status == 0) == peerFound.isEmpty, "\(name): verify.py: \(peer.output)")
            return (found, peerFound, name)
        }

        var results = [try judge("pristine", original)]
        #expect(results[0].swift.isEmpty && results[0].python.isEmpty, "\(results[0])")
        func rewrite(_ edited: [String]) -> [UInt8] { Array(edited.map { $0 + "\n" }.joined().utf8) }
        for index in lines.indices {
            var edited = lines
            edited.remove(at: index)
            results.append(try judge("delete record \(index + 1)", rewrite(edited)))
            results.append(try judge("keep records 1…\(index)", rewrite(Array(lines[..<index]))))
        }
        for offset in stride(from: 3, to: original.count, by: max(original.count / 40, 1)) where original[offset] != 0x0A {
            var bytes = original
            bytes[offset] ^= 0x01
            results.append(try judge("flip byte \(offset)", bytes))
        }
        var swapped = lines
        swapped.swapAt(2, 3)
        results.append(try judge("swap records 3 and 4", rewrite(swapped)))
        var duplicated = lines
        duplicated.insert(lines[2], at: 3)
        results.append(try judge("duplicate record 3", rewrite(duplicated)))
        // A forged record: alice's approval again with another comment, rehashed and linked.
        var forged = try Approval(json: JSONParser.parse(lines[0]))
        forged.comment = "approved again"
        forged.prevHash = try Approval(json: JSONParser.parse(lines[5])).hash
        forged.signature = nil
        forged.hash = forged.computedHash()
        results.append(try judge("forged append", rewrite(lines + [String(decoding: JSONCanonicalizer.canonicalize(forged.jsonValue()), as: UTF8.self)])))
        // The signature removed from a signed record (the hash does not cover it).
        var unsigned = try Approval(json: JSONParser.parse(lines[4]))
        unsigned.signature = nil
        var stripped = lines
        stripped[4] = String(decoding: JSONCanonicalizer.canonicalize(unsigned.jsonValue()), as: UTF8.self)
        results.append(try judge("signature removed from record 5", rewrite(stripped)))

        var disagreements: [String] = []
        for (swift, python, name) in results where name != "pristine" {
            #expect(!swift.isEmpty, "\(name): verify chain --snapshots found nothing")
            if swift != python { disagreements.append("\(name): laforge \(swift.sorted()), verify.py \(python.sorted())") }
        }
        #expect(disagreements.isEmpty, "\(disagreements.count) of \(results.count) cases disagree:\n\(disagreements.joined(separator: "\n"))")
        #expect(results.count > 40)
    }
}
