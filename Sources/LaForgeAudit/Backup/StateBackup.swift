import Foundation
import LaForgeCore
import LaForgeJournal
import LaForgePlugins

#if canImport(Glibc)
    import Glibc
#endif

/// `laforge backup create`: a consistent copy of a state directory that a running host (serve)
/// keeps writing. The journal's file sizes are taken under its writers' lock (no append is
/// half-way through a frame at that instant), the newest checkpoint within them is the backup's
/// point, and the journal is cut exactly there: the backup holds the entries that checkpoint
/// signs, no fewer and no unsigned ones. Cursors are capped at that point (a sink that got more
/// is re-sent from there; see docs/OPERATIONS.md on what a restore loses).
///
/// Left out: login sessions (`identity/`, tokens of a person), lock files, sockets, and any
/// private key that is not wrapped by a KMS key unless `includePlainPrivateKeys` says so.
public enum StateBackup {
    public struct Result: Sendable {
        public var manifest: BackupManifest
        public var notices: [String]
    }

    public static func create(config: LaForgeConfig, output: String, includePlainPrivateKeys: Bool) throws(BackupError) -> Result {
        let state = config.stateDir
        let journalDirectory = (state as NSString).appendingPathComponent("journal")
        let reader = JournalFileReader(directory: journalDirectory)
        let extent: JournalFileReader.Extent
        do { extent = try reader.extent() } catch { throw BackupError(.configuration, "\(state): \(error)") }
        let (checkpoints, problem) = reader.checkpoints(upTo: extent.checkpointLogSize)
        if let problem { throw BackupError(.corrupt, "the checkpoint log cannot be read, nothing was backed up: \(problem)") }
        guard let newest = checkpoints.last?.0 else {
            throw BackupError(
                .configuration,
                "\(journalDirectory) has no signed checkpoint yet, and a backup ends at one (laforge serve signs one every audit.checkpoints.every_ms)")
        }
        var members: [(path: String, contents: [UInt8])] = []
        members += try journalMembers(reader: reader, extent: extent, upTo: newest.size)
        members.append(("journal/checkpoints.log", try readPrefix(reader.checkpointLogPathForBackup, count: extent.checkpointLogSize)))

        var notices: [String] = []
        var excluded: [String] = []
        var privateKeys = "none"
        for relative in try otherFiles(state) {
            let path = (state as NSString).appendingPathComponent(relative)
            let top = relative.split(separator: "/").first.map(String.init) ?? ""
            switch top {
            case "journal", "identity": continue
            case "cursors":
                guard !relative.hasSuffix(".lock") else { continue }
                members.append((relative, try cappedCursor(state: state, name: String(relative.dropFirst("cursors/".count)), at: newest.size)))
            case "keys" where !relative.hasSuffix(".pub"):
                let bytes = try readAll(path)
                if WrappedCheckpointKey.isWrapped(String(decoding: bytes, as: UTF8.self)) {
                    members.append((relative, bytes))
                    if privateKeys == "none" { privateKeys = "wrapped" }
                } else if includePlainPrivateKeys {
                    members.append((relative, bytes))
                    privateKeys = "plain"
                } else {
                    excluded.append(relative)
                    notices.append("\(relative) is a private key not wrapped by a KMS key: left out (keep it apart, or pass --include-private-keys)")
                }
            default:
                members.append((relative, try readAll(path)))
            }
        }
        if let keyFile = config.audit.checkpoints.keyFile {
            let resolved = AuditKeys(config: config).path(configured: keyFile, defaultName: "checkpoint")
            if !resolved.hasPrefix(state + "/") {
                notices.append("the checkpoint key \(resolved) lives outside the state directory: back it up apart")
            }
        }

        let verifierKeys: [String]
        do { verifierKeys = try AuditKeys(config: config).trustedVerifierKeys().map(\.key.encoded) } catch {
            throw BackupError(.configuration, "the checkpoint verifier keys: \(error)")
        }
        let manifest = BackupManifest(
            created: AuditTimestamp.now().description, hostVersion: ABIVersion.hostVersion, chainID: config.audit.chainID,
            origin: config.audit.checkpoints.origin ?? AuditLog.defaultOrigin(chainID: config.audit.chainID),
            journalEntries: newest.size, verifierKeys: Array(Set(verifierKeys)).sorted(), excludedPrivateKeys: excluded,
            privateKeys: privateKeys,
            files: members.map { .init(path: $0.path, size: $0.contents.count, sha256: SHA256.hash($0.contents).hexString) })
        let writer = try BackupArchive.Writer(creating: output)
        do throws(BackupError) {
            for member in members { try writer.add(name: "state/" + member.path, contents: member.contents) }
            try writer.add(name: "MANIFEST.json", contents: JSONCanonicalizer.canonicalize(manifest.jsonValue) + [0x0A])
            try writer.finish()
        } catch {
            unlink(output)  // never leave half a backup that looks like one
            throw error
        }
        return Result(manifest: manifest, notices: notices)
    }

    /// The segments cut after entry `size - 1`: frames are `header ‖ payload` back to back, so
    /// each segment's cut is the sum of its frames below `size`. The walk checks every frame.
    private static func journalMembers(
        reader: JournalFileReader, extent: JournalFileReader.Extent, upTo size: UInt64
    ) throws(BackupError) -> [(path: String, contents: [UInt8])] {
        var lengths = [UInt64](repeating: 0, count: extent.segments.count)
        var segment = 0
        var failure: String?
        var seen: UInt64 = 0
        reader.walk(extent: extent, checkpoints: []) { item in
            switch item {
            case .entry(let seq, let payload, _):
                guard seq < size else { return false }
                while segment + 1 < extent.segments.count, extent.segments[segment + 1].firstSeq <= seq { segment += 1 }
                lengths[segment] += UInt64(80 + payload.count)
                seen = seq + 1
                return true
            case .checkpoint: return true
            case .problem(let problem):
                if problem.kind == .tornTail, seen >= size { return false }
                failure = problem.description
                return false
            }
        }
        if let failure { throw BackupError(.corrupt, "the journal does not read cleanly, nothing was backed up: \(failure)") }
        guard seen == size else {
            throw BackupError(.corrupt, "the journal holds \(seen) entries but its newest checkpoint signs \(size)")
        }
        var members: [(path: String, contents: [UInt8])] = []
        for (index, file) in extent.segments.enumerated() where lengths[index] > 0 {
            members.append(("journal/" + (file.path as NSString).lastPathComponent, try readPrefix(file.path, count: lengths[index])))
        }
        return members
    }

    private static func cappedCursor(state: String, name: String, at size: UInt64) throws(BackupError) -> [UInt8] {
        let cursor: SinkCursor?
        do { cursor = try CursorStore(stateDirectory: state).load(name) } catch {
            throw BackupError(.corrupt, "cursors/\(name): \(error)")
        }
        let capped = SinkCursor(nextSeq: min(cursor?.nextSeq ?? 0, size), checkpointSize: min(cursor?.checkpointSize ?? 0, size))
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("laforge-cursor-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        do {
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let store = CursorStore(directory: scratch)
            try store.store(name, capped, sync: false)
            return try readAll(store.path(for: name))
        } catch let error as BackupError {
            throw error
        } catch {
            throw BackupError(.output, "cursors/\(name): cannot write the capped cursor: \(error)")
        }
    }

    /// Regular files under `state`, relative, sorted (sockets and directories left out).
    private static func otherFiles(_ state: String) throws(BackupError) -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: state) else {
            throw BackupError(.configuration, "\(state): cannot list the state directory")
        }
        var files: [String] = []
        while let relative = enumerator.nextObject() as? String {
            var info = stat()
            guard lstat((state as NSString).appendingPathComponent(relative), &info) == 0, info.st_mode & S_IFMT == S_IFREG else { continue }
            files.append(relative)
        }
        return files.sorted()
    }

    static func readAll(_ path: String) throws(BackupError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else { throw BackupError(.input, "\(path): cannot read") }
        return [UInt8](data)
    }

    private static func readPrefix(_ path: String, count: UInt64) throws(BackupError) -> [UInt8] {
        let bytes = try readAll(path)
        guard UInt64(bytes.count) >= count else { throw BackupError(.corrupt, "\(path): shorter than when the journal's size was taken") }
        return Array(bytes.prefix(Int(count)))
    }
}

extension JournalFileReader {
    var checkpointLogPathForBackup: String { directory + "/" + "checkpoints.log" }
}
