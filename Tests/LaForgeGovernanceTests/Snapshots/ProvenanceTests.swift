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

/// `laforge provenance export` checked by a real peer: the PyPI in-toto, securesystemslib and
/// in-toto-attestation packages (scripts/requirements-test.txt) load the DSSE envelope, verify its
/// Ed25519 signature under the snapshot key, and validate the in-toto Statement v1. A tampered
/// envelope must be refused there too.
@Suite struct ProvenanceTests {
    static let script = CPluginBuilder.packageRoot.appendingPathComponent("Tests/LaForgeTestSupport/Fixtures/provenance/verify_provenance.py").path

    /// Runs the peer; its exit status and the JSON line it prints.
    func peer(_ envelope: String, key: String) throws -> (status: Int32, report: JSONValue?, output: String)? {
        guard let python = testPythonInterpreter() else {
            Issue.record("no Python with in-toto for the provenance check: run `scripts/test` (it creates .build/venv from scripts/requirements-test.txt), or set LAFORGE_PYTHON")
            return nil
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [Self.script, envelope, key]
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        if stderr.contains("ModuleNotFoundError") {
            Issue.record("\(python) lacks the in-toto packages (\(stderr)): run `scripts/test`")
            return nil
        }
        return (process.terminationStatus, try? JSONParser.parse(stdout.trimmingCharacters(in: .whitespacesAndNewlines)), stdout + stderr)
    }

    @Test func inTotoVerifiesTheEnvelopeAndRefusesTampering() throws {
        let sandbox = try SnapshotSandbox(extra: "approvals:\n  quorum: 1\n")
        let snapshot = try sandbox.sign(["db", "policy"], actor: "carol", message: "release 42")
        try sandbox.laforge(["approve", "latest", "--comment", "ok", "--actor", "alice"]).expectSuccess()
        let envelopePath = sandbox.root + "/provenance.json"
        let export = try sandbox.laforge(["provenance", "export", "latest", "--out", envelopePath])
        #expect(export.status == 0, "\(export.output)")
        let keyPath = sandbox.stateDirectory + "/keys/snapshot.pub"

        guard let verified = try peer(envelopePath, key: keyPath) else { return }
        #expect(verified.status == 0, "\(verified.output)")
        #expect(verified.report?["verified"]?.boolValue == true)
        #expect(verified.report?["statement_type"]?.stringValue == "https://in-toto.io/Statement/v1")
        #expect(verified.report?["snapshot"]?.stringValue == snapshot)
        #expect(verified.report?["approvals"]?.intValue == 1)
        #expect((verified.report?["checkpoint_tree_size"]?.intValue ?? 0) >= 1, "the snapshot.sign event is in a signed checkpoint")
        let subjects = verified.report?["subjects"]?.arrayValue ?? []
        #expect(subjects.compactMap { $0["name"]?.stringValue } == ["db/m0001.sql", "db/schema.sql", "policy/rls.json"])
        #expect(subjects[1]["sha256"]?.stringValue == (try SHA256.hash(fileAt: sandbox.work + "/db/schema.sql")).hexString)
        // Our key id is securesystemslib's default key id for the key.
        let key = try Ed25519VerifierKey(parsing: String(contentsOfFile: keyPath, encoding: .utf8))
        #expect(verified.report?["keyid"]?.stringValue == DSSEEnvelope.keyID(of: key))
        // The checkpoint in the predicate proves the sign event's inclusion.
        let envelope = try DSSEEnvelope(json: try JSONParser.parse(Data(contentsOf: URL(fileURLWithPath: envelopePath))))
        let statement = try JSONParser.parse(envelope.payload)
        let checkpoint = try #require(statement["predicate"]?["checkpoint"])
        let proof = try #require(checkpoint["inclusion_proof"]?.arrayValue).compactMap { $0.stringValue.flatMap { [UInt8](hexString: $0) } }
        #expect(MerkleTree.verifyInclusion(
            leafHash: [UInt8](hexString: checkpoint["entry_hash"]!.stringValue!)!, index: UInt64(checkpoint["journal_seq"]!.intValue!),
            treeSize: UInt64(checkpoint["tree_size"]!.intValue!), proof: proof,
            root: [UInt8](hexString: checkpoint["root_hash"]!.stringValue!)!))
        #expect(try sandbox.laforge(["provenance", "verify", envelopePath]).status == 0)

        // Tampered: a subject's digest changed in the payload (signature left as it was).
        var payloadText = String(decoding: envelope.payload, as: UTF8.self)
        payloadText = payloadText.replacingOccurrences(of: subjects[1]["sha256"]!.stringValue!, with: String(repeating: "0", count: 64))
        var tampered = DSSEEnvelope(payloadType: envelope.payloadType, payload: Array(payloadText.utf8), signatures: envelope.signatures)
        try write(tampered, to: sandbox.root + "/tampered-payload.json")
        // Tampered: the payload type changed (PAE covers it).
        tampered = DSSEEnvelope(payloadType: "application/json", payload: envelope.payload, signatures: envelope.signatures)
        try write(tampered, to: sandbox.root + "/tampered-type.json")
        // Tampered: one bit of the signature flipped.
        var signatures = envelope.signatures
        signatures[0].signature[3] ^= 0x80
        tampered = DSSEEnvelope(payloadType: envelope.payloadType, payload: envelope.payload, signatures: signatures)
        try write(tampered, to: sandbox.root + "/tampered-sig.json")
        for name in ["tampered-payload", "tampered-type", "tampered-sig"] {
            let path = sandbox.root + "/\(name).json"
            guard let refused = try peer(path, key: keyPath) else { return }
            #expect(refused.status == 1, "\(name): \(refused.output)")
            #expect(refused.report?["verified"]?.boolValue == false, "\(name): \(refused.output)")
            #expect(try sandbox.laforge(["provenance", "verify", path]).status == 1, "\(name)")
        }
        // And a key other than the signer's is refused for the untouched envelope.
        let other = try sandbox.generateKey("other")
        guard let wrongKey = try peer(envelopePath, key: other.path + ".pub") else { return }
        #expect(wrongKey.status == 1, "\(wrongKey.output)")
    }

    private func write(_ envelope: DSSEEnvelope, to path: String) throws {
        try JSONCanonicalizer.canonicalString(envelope.jsonValue()).write(toFile: path, atomically: true, encoding: .utf8)
    }

    @Test func paeMatchesTheDSSESpecification() {
        // The DSSE spec's own example: PAE("http://example.com/HelloWorld", "hello world").
        let pae = DSSEEnvelope.pae(type: "http://example.com/HelloWorld", body: Array("hello world".utf8))
        #expect(String(decoding: pae, as: UTF8.self) == "DSSEv1 29 http://example.com/HelloWorld 11 hello world")
    }
}
