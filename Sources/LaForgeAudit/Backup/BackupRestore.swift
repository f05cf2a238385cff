import Foundation
import LaForgeCore

#if canImport(Glibc)
    import Glibc
#endif

/// `laforge backup restore FILE --state-dir DIR`: verifies the backup (`BackupVerifier`), then
/// writes it into a new folder beside DIR and renames that into place, so DIR is either absent
/// or the whole, synced restore. Never writes into a state directory that holds anything.
public enum BackupRestore {
    public static func restore(path: String, stateDirectory: String, pinnedKeys: [Ed25519VerifierKey] = []) throws(BackupError) -> BackupVerifier.Result {
        let target = (stateDirectory as NSString).standardizingPath
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: target, isDirectory: &isDirectory) {
            let empty = isDirectory.boolValue && ((try? FileManager.default.contentsOfDirectory(atPath: target))?.isEmpty ?? false)
            guard empty else {
                throw BackupError(.output, "\(target) exists and is not an empty folder: a restore never overwrites a state directory (choose a new one)")
            }
        }
        let verified = try BackupVerifier.verify(path: path, pinnedKeys: pinnedKeys)
        let parent = (target as NSString).deletingLastPathComponent
        do { try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true) } catch {
            throw BackupError(.output, "\(parent): cannot create: \(error.localizedDescription)")
        }
        let staging = parent + "/." + (target as NSString).lastPathComponent + ".restoring-\(UUID().uuidString.prefix(8))"
        do throws(BackupError) {
            try write(verified.members, into: staging, sync: true)
            if FileManager.default.fileExists(atPath: target) { rmdir(target) }
            guard rename(staging, target) == 0 else {
                throw BackupError(.output, "\(target): cannot move the restored state into place: \(String(cString: strerror(errno)))")
            }
            let fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if fd >= 0 {
                fsync(fd)
                close(fd)
            }
        } catch {
            try? FileManager.default.removeItem(atPath: staging)
            throw error
        }
        return verified
    }

    /// Writes the members under `root` (folders 0700, files 0600), each synced when `sync`.
    static func write(_ members: [(path: String, contents: [UInt8])], into root: String, sync: Bool) throws(BackupError) {
        for member in members {
            let path = root + "/" + member.path
            do {
                try FileManager.default.createDirectory(
                    atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true,
                    attributes: [.posixPermissions: 0o700])
            } catch {
                throw BackupError(.output, "\(path): cannot create its folder: \(error.localizedDescription)")
            }
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw BackupError(.output, "\(path): cannot create: \(String(cString: strerror(errno)))") }
            defer { close(fd) }
            var done = 0
            while done < member.contents.count {
                let count = member.contents.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, member.contents.count - done) }
                if count < 0, errno == EINTR { continue }
                guard count > 0 else { throw BackupError(.output, "\(path): cannot write: \(String(cString: strerror(errno)))") }
                done += count
            }
            if sync, fsync(fd) != 0 { throw BackupError(.output, "\(path): cannot sync: \(String(cString: strerror(errno)))") }
        }
        // The journal's writers' lock file: the host creates it on open, verification needs none.
    }
}
