import Foundation
import Testing
@testable import LaForgeTestSupport

@testable import LaForgeAudit
@testable import LaForgeCore
@testable import LaForgeGovernance
@testable import LaForgeJournal

/// #17 item 11: approvals are chained (each record links to the one before by hash) and
/// cross-checked with the journal's `approval.*` events, in `verify chain --snapshots` and in
/// `guard deploy`. Deleting a signed rejection from approvals.ndjson fails both in production,
/// whether it was the newest record (only the journal remembers it) or one in the middle.
@Suite struct ApprovalChainTests {
    /// A production sandbox: a snapshot signed with the production key, approved by alice and
    /// rejected by bob (both signed, both trusted), then approved by carol.
    func production() throws -> (sandbox: SnapshotSandbox, lines: [String]) {
        let sandbox = try SnapshotSandbox()
        let checkpoint = try sandbox.generateKey("checkpoints")
        let snapshotKey = try sandbox.generateKey("snapshots")
        let alice = try sandbox.generateKey("alice")
        let bob = try sandbox.generateKey("bob")
        let carol = try sandbox.generateKey("carol")
        let release = try Ed25519VerifierKey(parsing: try sandbox.generateKey("release").verifier)
        try sandbox.writeConfig(mode: "production", extra: """
            trusted_keys:
              - name: release
                public_key: \(Data(release.publicKey).base64EncodedString())
            audit:
              checkpoints:
                key_file: \(checkpoint.path)
                verifier_keys: ["\(checkpoint.verifier)"]
            snapshots:
              key_file: \(snapshotKey.path)
            approvals:
              quorum: 1
              trusted_keys:
                - user: alice
                  key_file: \(alice.path).pub
                - user: bob
                  key_file: \(bob.path).pub
                - user: carol
                  key_file: \(carol.path).pub

            """)
        try sandbox.sign(["db", "policy"], actor: "dave")
        for (decision, user, key) in [("approve", "alice", alice.path), ("reject", "bob", bob.path), ("approve", "carol", carol.path)] {
            let result = try sandbox.laforge([decision, "latest", "--comment", "\(decision) by \(user)", "--actor", user, "--key", key])
            #expect(result.status == 0, "\(result.output)")
        }
        let lines = try String(contentsOfFile: sandbox.approvalsPath, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        return (sandbox, lines)
    }

    func guardDeploy(_ sandbox: SnapshotSandbox) throws -> (status: Int32, unmet: [String], output: String) {
        let result = try sandbox.laforge(["guard", "deploy", "latest", "--json"])
        let verdict = try? JSONParser.parse(result.stdout)
        return (result.status, verdict?["unmet"]?.arrayValue?.compactMap(\.stringValue) ?? [], result.output)
    }

    @Test func recordsAreChainedAndTheRejectionBlocks() throws {
        let (sandbox, lines) = try production()
        let records = try lines.map { try Approval(json: JSONParser.parse($0)) }
        #expect(records.map(\.version) == [2, 2, 2])
        #expect(records[0].prevHash == nil)
        #expect(records[1].prevHash == records[0].hash)
        #expect(records[2].prevHash == records[1].hash)
        let verify = try sandbox.verifySnapshots()
        #expect(verify.status == 0, "\(verify.result.output)")
        #expect(verify.report?["approvals"]?.intValue == 3)
        let deploy = try guardDeploy(sandbox)
        #expect(deploy.status == 1, "\(deploy.output)")
        #expect(deploy.unmet.contains { $0.contains("rejected by bob") || $0.contains("bob") }, "\(deploy.unmet)")
    }

    @Test(arguments: [1, 2]) func deletingASignedRejectionFailsVerifyAndTheGuard(keeping index: Int) throws {
        let (sandbox, lines) = try production()
        // Remove bob's rejection: the newest record (with carol's approval also removed), or the
        // middle one (carol's approval then links to a record that is not there).
        let kept = index == 1 ? [lines[0]] : [lines[0], lines[2]]
        try kept.map { $0 + "\n" }.joined().write(toFile: sandbox.approvalsPath, atomically: true, encoding: .utf8)

        let verify = try sandbox.verifySnapshots()
        #expect(verify.status == 1, "\(verify.result.output)")
        let kinds = SnapshotSandbox.problemKinds(verify.report)
        #expect(kinds.contains("approval missing"), "\(kinds)")
        if index == 2 { #expect(kinds.contains("content changed"), "\(kinds)") }
        let problems = verify.report?["problems"]?.arrayValue ?? []
        #expect(problems.contains { ($0["message"]?.stringValue ?? "").contains("approval.reject") }, "\(problems)")

        let deploy = try guardDeploy(sandbox)
        #expect(deploy.status == 1, "\(deploy.output)")
        #expect(deploy.unmet.contains { $0.hasPrefix("not approved: approvals record: approval missing") && $0.contains("approval.reject") }, "\(deploy.unmet)")
    }

    @Test func anApprovalAddedOutsideLaforgeIsReported() throws {
        let (sandbox, lines) = try production()
        // A copy of alice's approval with another comment, correctly hashed and linked but with
        // no audit event (and a signature that no longer verifies).
        let last = try Approval(json: JSONParser.parse(lines[2]))
        var forged = try Approval(json: JSONParser.parse(lines[0]))
        forged.comment = "approved again"
        forged.prevHash = last.hash
        forged.hash = forged.computedHash()
        try (lines + [String(decoding: JSONCanonicalizer.canonicalize(forged.jsonValue()), as: UTF8.self)]).map { $0 + "\n" }.joined()
            .write(toFile: sandbox.approvalsPath, atomically: true, encoding: .utf8)
        let kinds = SnapshotSandbox.problemKinds(try sandbox.verifySnapshots().report)
        #expect(kinds.contains("approval unrecorded"), "\(kinds)")
        #expect(kinds.contains("signature forged"), "\(kinds)")
    }
}
