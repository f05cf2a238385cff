import Foundation
import Testing
@testable import LaForgeTestSupport

@testable import LaForgeAudit
@testable import LaForgeCore
@testable import LaForgeGovernance
@testable import LaForgeIdentity
@testable import LaForgeJournal
@testable import LaForgePlugins
@testable import LaForgeSecrets

/// Approvals (`laforge approve|reject|annotate`), the approvals policy and the deployment guard
/// (`laforge guard deploy` and the `DeploymentGuard` API the compiler's deploy path calls).
@Suite struct ApprovalGuardTests {
    /// A sandbox whose policy trusts signed approvals by alice (dba) and bob (security).
    func signedPolicySandbox(quorum: Int = 2, extraPolicy: String = "") throws -> (SnapshotSandbox, alice: String, bob: String, mallory: String) {
        let sandbox = try SnapshotSandbox()
        let alice = try sandbox.generateKey("alice")
        let bob = try sandbox.generateKey("bob")
        let mallory = try sandbox.generateKey("mallory")
        try sandbox.writeConfig(extra: """
            approvals:
              quorum: \(quorum)
              required_roles: [dba]
              require_signed: true
              trusted_keys:
                - user: alice
                  roles: [dba]
                  key: "\(alice.verifier)"
                - user: bob
                  key_file: \(bob.path).pub
            \(extraPolicy)
            """)
        return (sandbox, alice.path, bob.path, mallory.path)
    }

    func guardDeploy(_ sandbox: SnapshotSandbox, _ flags: [String] = ["--require-signed", "--require-approved"]) throws -> (status: Int32, verdict: JSONValue?, result: CLIResult) {
        let result = try sandbox.laforge(["guard", "deploy", "latest", "--json"] + flags)
        return (result.status, try? JSONParser.parse(result.stdout), result)
    }

    static func unmet(_ verdict: JSONValue?) -> [String] {
        verdict?["unmet"]?.arrayValue?.compactMap(\.stringValue) ?? []
    }

    @Test func signedQuorumWithRolesAllowsDeploy() throws {
        let (sandbox, alice, bob, _) = try signedPolicySandbox()
        let snapshot = try sandbox.sign(["db", "policy"], actor: "carol")
        var (status, verdict, result) = try guardDeploy(sandbox)
        #expect(status == 1, "\(result.output)")
        #expect(Self.unmet(verdict).contains("not approved: quorum not met: 0 of 2 approvals"), "\(result.output)")
        #expect(Self.unmet(verdict).contains("not approved: no counted approval by the required role dba"))

        let approve = try sandbox.laforge(["approve", "latest", "--comment", "schema reviewed", "--actor", "alice", "--role", "dba", "--sign", "--key", alice])
        #expect(approve.status == 0, "\(approve.output)")
        #expect(approve.stdout.contains("signed with alice+"))
        try sandbox.laforge(["annotate", String(snapshot.prefix(8)), "--comment", "index looks fine", "--actor", "dave"]).expectSuccess()
        try sandbox.laforge(["approve", "latest", "--comment", "RLS ok", "--actor", "bob", "--role", "security", "--key", bob]).expectSuccess()

        (status, verdict, result) = try guardDeploy(sandbox)
        #expect(status == 0, "\(result.output)")
        #expect(verdict?["allowed"]?.boolValue == true)
        #expect(verdict?["approvals_counted"]?.arrayValue?.compactMap(\.stringValue).sorted() == ["alice", "bob"])
        let text = try sandbox.laforge(["guard", "deploy", "latest", "--require-signed", "--require-approved"])
        #expect(text.status == 0)
        #expect(text.stdout.contains("may be deployed"))

        // Every approval is an audit event, signed ones name their key; each guard run is one too.
        let actions = try sandbox.audit.journalEntries().compactMap { $0.entry["event"]?["action"]?.stringValue }
        #expect(actions.filter { $0.hasPrefix("approval.") } == ["approval.approve", "approval.annotate", "approval.approve"])
        #expect(actions.filter { $0 == "deploy.guard" }.count == 3)
        let records = try String(contentsOfFile: sandbox.approvalsPath, encoding: .utf8).split(separator: "\n")
            .map { try Approval(json: try JSONParser.parse(String($0))) }
        #expect(records.count == 3)
        #expect(records[0].signature?.isValid(for: records[0].signedMessage) == true)
        #expect(records[1].signature == nil)

        // A signed approval edited afterwards (its decision turned around) no longer counts.
        var lines = try String(contentsOfFile: sandbox.approvalsPath, encoding: .utf8).split(separator: "\n").map(String.init)
        lines[2] = try replacing(lines[2]) { $0["comment"] = .string("RLS is wrong but ship it") }
        try lines.map { $0 + "\n" }.joined().write(toFile: sandbox.approvalsPath, atomically: true, encoding: .utf8)
        (status, verdict, result) = try guardDeploy(sandbox)
        #expect(status == 1)
        #expect(Self.unmet(verdict).contains { $0.contains("bob") && $0.contains("changed after it was written") }, "\(result.output)")
    }

    @Test func approvalByUntrustedKeyDoesNotCount() throws {
        let (sandbox, alice, _, mallory) = try signedPolicySandbox(quorum: 2)
        try sandbox.sign(["db"], actor: "carol")
        try sandbox.laforge(["approve", "latest", "--comment", "ok", "--actor", "alice", "--role", "dba", "--key", alice]).expectSuccess()
        let untrusted = try sandbox.laforge(["approve", "latest", "--comment", "lgtm", "--actor", "mallory", "--role", "dba", "--key", mallory])
        #expect(untrusted.status == 0, "\(untrusted.output)")
        #expect(untrusted.stderr.contains("will not count") && untrusted.stderr.contains("not in approvals.trusted_keys"))
        // Alice's key used by someone claiming to be bob does not count either.
        try sandbox.laforge(["approve", "latest", "--comment", "ok", "--actor", "bob", "--key", alice]).expectSuccess()
        // An unsigned approval does not count under require_signed.
        try sandbox.laforge(["approve", "latest", "--comment", "ok", "--actor", "erin"]).expectSuccess()

        let (status, verdict, result) = try guardDeploy(sandbox)
        #expect(status == 1, "\(result.output)")
        let unmet = Self.unmet(verdict)
        #expect(unmet.contains("not approved: quorum not met: 1 of 2 approvals (by alice)"), "\(unmet)")
        #expect(unmet.contains { $0.contains("mallory") && $0.contains("a key not in approvals.trusted_keys") }, "\(unmet)")
        #expect(unmet.contains { $0.contains("by bob") && $0.contains("binds to alice") }, "\(unmet)")
        #expect(unmet.contains { $0.contains("erin") && $0.contains("unsigned") }, "\(unmet)")
        let text = try sandbox.laforge(["guard", "deploy", "latest", "--require-approved"])
        #expect(text.status == 1)
        #expect(text.stderr.contains("may NOT be deployed") && text.stderr.contains("quorum not met"))
    }

    @Test func quorumRejectionAndSelfApproval() throws {
        let sandbox = try SnapshotSandbox(extra: "approvals:\n  quorum: 2\n")
        try sandbox.sign(["db"], actor: "carol")
        // The snapshot's signer approving her own snapshot does not count (self_approval: false).
        try sandbox.laforge(["approve", "latest", "--comment", "mine", "--actor", "carol"]).expectSuccess()
        try sandbox.laforge(["approve", "latest", "--comment", "ok", "--actor", "alice"]).expectSuccess()
        // Approving twice is still one approver (distinct_signers).
        try sandbox.laforge(["approve", "latest", "--comment", "really ok", "--actor", "alice"]).expectSuccess()
        var (status, verdict, result) = try guardDeploy(sandbox, ["--require-approved"])
        #expect(status == 1, "\(result.output)")
        #expect(Self.unmet(verdict).first == "not approved: quorum not met: 1 of 2 approvals (by alice)")
        #expect(Self.unmet(verdict).contains { $0.contains("carol signed the snapshot") })

        try sandbox.laforge(["approve", "latest", "--comment", "ok", "--actor", "bob"]).expectSuccess()
        (status, _, result) = try guardDeploy(sandbox, ["--require-approved"])
        #expect(status == 0, "\(result.output)")

        // A rejection blocks whatever the approvals…
        let reject = try sandbox.laforge(["reject", "latest", "--comment", "drops a column in use", "--actor", "dave"])
        #expect(reject.status == 0, "\(reject.output)")
        (status, verdict, result) = try guardDeploy(sandbox, ["--require-approved"])
        #expect(status == 1, "\(result.output)")
        #expect(Self.unmet(verdict).contains { $0.hasPrefix("not approved: rejected by dave") && $0.contains("drops a column in use") })
        // …until the rejecter approves (their latest decision stands)…
        try sandbox.laforge(["approve", "latest", "--comment", "fixed", "--actor", "dave"]).expectSuccess()
        (status, _, result) = try guardDeploy(sandbox, ["--require-approved"])
        #expect(status == 0, "\(result.output)")
        // …or when the policy lets rejections not block.
        try sandbox.laforge(["reject", "latest", "--comment", "changed my mind", "--actor", "bob"]).expectSuccess()
        #expect(try guardDeploy(sandbox, ["--require-approved"]).status == 1)
        try sandbox.writeConfig(extra: "approvals:\n  quorum: 2\n  rejection_blocks: false\n")
        (status, _, result) = try guardDeploy(sandbox, ["--require-approved"])
        #expect(status == 0, "\(result.output)")

        // Without --require-approved in development mode only the artifacts are checked.
        try sandbox.writeConfig(extra: "approvals:\n  quorum: 5\n")
        #expect(try guardDeploy(sandbox, []).status == 0)
    }

    @Test func productionModeRequiresSignedAndApproved() throws {
        let sandbox = try SnapshotSandbox()
        // A snapshot signed in development mode with a generated key…
        try sandbox.sign(["db", "policy"], actor: "carol")
        // …then production: a different snapshot key, the old one not listed as retired.
        let checkpoint = try sandbox.generateKey("checkpoints")
        let snapshotKey = try sandbox.generateKey("snapshots")
        let approver = try sandbox.generateKey("alice")
        let release = try Ed25519VerifierKey(parsing: try sandbox.generateKey("release").verifier)
        let production = """
            trusted_keys:
              - name: release
                public_key: \(Data(release.publicKey).base64EncodedString())
            audit:
              checkpoints:
                key_file: \(checkpoint.path)
                verifier_keys: ["\(try String(contentsOfFile: sandbox.stateDirectory + "/keys/checkpoint.pub", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))"]
            snapshots:
              key_file: \(snapshotKey.path)
            approvals:
              trusted_keys:
                - user: alice
                  key_file: \(approver.path).pub

            """
        try sandbox.writeConfig(mode: "production", extra: production)
        // No flags: production requires both.
        var (status, verdict, result) = try guardDeploy(sandbox, [])
        #expect(status == 1, "\(result.output)")
        #expect(verdict?["require_signed"]?.boolValue == true && verdict?["require_approved"]?.boolValue == true)
        let unmet = Self.unmet(verdict)
        #expect(unmet.contains { $0.hasPrefix("not signed: untrusted key at snapshot 0") }, "\(unmet)")
        #expect(unmet.contains("not approved: quorum not met: 0 of 1 approval"), "\(unmet)")

        // In production an unsigned approval does not count either.
        try sandbox.laforge(["approve", "latest", "--comment", "ok", "--actor", "alice"]).expectSuccess()
        (status, verdict, _) = try guardDeploy(sandbox, [])
        #expect(Self.unmet(verdict).contains { $0.contains("alice") && $0.contains("unsigned") })

        // The same through the Swift API the compiler's deploy path calls.
        let config = try sandbox.config()
        let verdictAPI = try DeploymentGuard(config: config, artifactRoot: sandbox.work).evaluate(
            snapshot: "latest", requireSigned: false, requireApproved: false)
        #expect(!verdictAPI.isAllowed)
        #expect(verdictAPI.requiredSigned && verdictAPI.requiredApproved)
        #expect(verdictAPI.unmet == unmet + ["not approved: not counted: approve by alice (\(verdictAPI.approvals.ignored.first!.approval.shortID)): unsigned, and the policy counts signed approvals only (approvals.require_signed, or production mode)"])

        // Signed with the production key and approved with a signed approval: allowed.
        try sandbox.sign(["db", "policy"], actor: "carol")
        try sandbox.laforge(["approve", "latest", "--comment", "ok", "--actor", "alice", "--key", approver.path]).expectSuccess()
        (status, verdict, result) = try guardDeploy(sandbox, [])
        #expect(status == 0, "\(result.output)")
        #expect(verdict?["allowed"]?.boolValue == true)
    }

    @Test func guardAPIChecksArtifactsAndChain() throws {
        let sandbox = try SnapshotSandbox(extra: "approvals:\n  quorum: 1\n")
        try sandbox.sign(["db"], actor: "carol")
        try sandbox.laforge(["approve", "latest", "--comment", "ok", "--actor", "alice"]).expectSuccess()
        let config = try sandbox.config()
        let deploymentGuard = DeploymentGuard(config: config, artifactRoot: sandbox.work, logger: CapturedLog().logger)
        var verdict = try deploymentGuard.evaluate(snapshot: "latest", requireSigned: true, requireApproved: true)
        #expect(verdict.isAllowed, "\(verdict.unmet)")

        // A changed byte in a deployed artifact, and a missing one: both named.
        try sandbox.write("db/schema.sql", "drop table accounts;\n")
        try FileManager.default.removeItem(atPath: sandbox.work + "/db/m0001.sql")
        verdict = try deploymentGuard.evaluate(snapshot: "latest", requireSigned: false, requireApproved: false)
        #expect(verdict.unmet.count == 2)
        #expect(verdict.unmet.contains { $0.hasPrefix("artifact db/schema.sql: artifact changed") })
        #expect(verdict.unmet.contains { $0.hasPrefix("artifact db/m0001.sql: artifact missing") })

        // A forged snapshot signature makes it unsigned.
        let line = try String(contentsOfFile: sandbox.chainPath, encoding: .utf8).trimmingCharacters(in: .newlines)
        let forged = try replacing(line) { members in
            guard case .object(var signature)? = members["signature"] else { return }
            signature["sig"] = .string(Data(repeating: 1, count: 64).base64EncodedString())
            members["signature"] = .object(signature)
        }
        try (forged + "\n").write(toFile: sandbox.chainPath, atomically: true, encoding: .utf8)
        verdict = try deploymentGuard.evaluate(snapshot: "latest", requireSigned: true, requireApproved: false)
        #expect(verdict.unmet.contains { $0.hasPrefix("not signed: signature forged at snapshot 0") }, "\(verdict.unmet)")

        #expect(throws: SnapshotError.self) {
            try deploymentGuard.evaluate(snapshot: "abcd", requireSigned: true, requireApproved: true)
        }
    }

    @Test func approvalPolicyConfigErrorsNameTheLine() throws {
        func load(_ text: String) -> ConfigError? {
            let result = Result { () throws(ConfigError) -> LaForgeConfig in
                try LaForgeConfig.parse(text: "version: 1\n" + text, sourceName: "laforge.yaml")
            }
            guard case .failure(let error) = result else { return nil }
            return error
        }
        let typo = load("approvals:\n  quorom: 2\n")
        #expect(typo?.description == #"laforge.yaml:3:3: approvals.quorom: unknown key; did you mean "quorum"?"#)
        let type = load("approvals:\n  quorum: two\n")
        #expect(type?.description == #"laforge.yaml:3:11: approvals.quorum: expected integer, got string "two""#)
        let key = load("approvals:\n  trusted_keys:\n    - user: alice\n      key: \"alice+00000000+AAAA\"\n")
        #expect(key?.description.hasPrefix("laforge.yaml:5:12: approvals.trusted_keys[0].key: ") == true, "\(String(describing: key))")
        let missing = load("approvals:\n  trusted_keys:\n    - user: alice\n")
        #expect(missing?.kind == .missingKey)
        let snapshots = load("snapshots:\n  key_fle: k\n")
        #expect(snapshots?.description == #"laforge.yaml:3:3: snapshots.key_fle: unknown key; did you mean "key_file"?"#)
        let good = try LaForgeConfig.parse(
            text: "version: 1\napprovals:\n  quorum: 3\n  distinct_signers: false\n  required_roles: [dba, security]\n  rejection_blocks: false\n  actor:\n    user: ci\n    roles: [deployer]\n",
            sourceName: "laforge.yaml")
        #expect(good.approvals.quorum == 3 && !good.approvals.distinctSigners && !good.approvals.rejectionBlocks)
        #expect(good.approvals.requiredRoles == ["dba", "security"])
        #expect(good.approvals.actor == AuditActor(user: "ci", roles: ["deployer"]))
    }
}

extension CLIResult {
    func expectSuccess(sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(status == 0, "\(output)", sourceLocation: sourceLocation)
    }
}
