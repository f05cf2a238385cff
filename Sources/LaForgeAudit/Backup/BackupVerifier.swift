import Foundation
import LaForgeCore
import LaForgeJournal

#if canImport(Glibc)
    import Glibc
#endif

/// `laforge backup verify` (and the first step of every restore): every member is the one the
/// manifest lists (size and SHA-256, none missing, none added, no path leaving the state
/// directory), and the journal in it verifies end to end against the checkpoint verifier keys
/// (the manifest's, or only the ones given, to pin them) up to a checkpoint signing exactly the
/// entries it holds.
public enum BackupVerifier {
    public struct Result: Sendable {
        public var manifest: BackupManifest
        public var report: VerificationReport
        /// The files, relative to the state directory, as verified.
        var members: [(path: String, contents: [UInt8])]
    }

    public static func verify(path: String, pinnedKeys: [Ed25519VerifierKey] = []) throws(BackupError) -> Result {
        var files = try BackupArchive.read(path: path)
        guard let last = files.popLast(), last.name == "MANIFEST.json" else {
            throw BackupError(.corrupt, "\(path): the last member is not MANIFEST.json (not a laforge backup, or cut short)")
        }
        let manifest = try BackupManifest(parsing: last.contents, source: "\(path): MANIFEST.json")
        var members: [(path: String, contents: [UInt8])] = []
        for file in files {
            guard file.name.hasPrefix("state/") else { throw BackupError(.corrupt, "\(path): member \(file.name) is not under state/") }
            let relative = String(file.name.dropFirst("state/".count))
            let components = relative.split(separator: "/", omittingEmptySubsequences: false)
            guard !relative.isEmpty, !components.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else {
                throw BackupError(.corrupt, "\(path): member \(file.name) is not a plain relative path")
            }
            guard !members.contains(where: { $0.path == relative }) else { throw BackupError(.corrupt, "\(path): member \(file.name) appears twice") }
            members.append((relative, file.contents))
        }
        for (index, listed) in manifest.files.enumerated() {
            guard let member = members.first(where: { $0.path == listed.path }) else {
                throw BackupError(.corrupt, "\(path): MANIFEST.json files[\(index)] \(listed.path) is not in the backup")
            }
            let digest = SHA256.hash(member.contents).hexString
            guard member.contents.count == listed.size, digest == listed.sha256 else {
                throw BackupError(.corrupt, "\(path): state/\(listed.path) has SHA-256 \(digest) (\(member.contents.count) bytes), the manifest says \(listed.sha256) (\(listed.size) bytes)")
            }
        }
        for member in members where !manifest.files.contains(where: { $0.path == member.path }) {
            throw BackupError(.corrupt, "\(path): state/\(member.path) is not listed in MANIFEST.json")
        }

        var keys = pinnedKeys
        if keys.isEmpty {
            for (index, text) in manifest.verifierKeys.enumerated() {
                do { keys.append(try Ed25519VerifierKey(parsing: text)) } catch {
                    throw BackupError(.corrupt, "\(path): MANIFEST.json verifier_keys[\(index)]: \(error)")
                }
            }
        }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("laforge-backup-verify-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        try BackupRestore.write(members.filter { $0.path.hasPrefix("journal/") }, into: scratch, sync: false)
        let verifier = ChainVerifier(verifierKeys: keys, origin: manifest.origin, chainID: manifest.chainID)
        verifier.strict = true
        let report: VerificationReport
        do { report = try ChainSource.verifyJournal(directory: scratch + "/journal", verifier: verifier) } catch {
            throw BackupError(.corrupt, "\(path): the journal in the backup cannot be read: \(error)")
        }
        if let failure = report.failure { throw BackupError(.corrupt, "\(path): the journal in the backup does not verify: \(failure)") }
        guard report.entries == manifest.journalEntries, report.lastCheckpointSize == manifest.journalEntries else {
            throw BackupError(
                .corrupt,
                "\(path): the journal holds \(report.entries) entries and its newest checkpoint signs \(report.lastCheckpointSize.map(String.init) ?? "none"); MANIFEST.json journal_entries says \(manifest.journalEntries)")
        }
        return Result(manifest: manifest, report: report, members: members)
    }
}
