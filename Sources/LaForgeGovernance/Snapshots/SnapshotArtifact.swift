import Foundation
import LaForgeCore

/// One file a snapshot vouches for (a schema, a migration, a policy bundle): its path as given
/// and the SHA-256 and size of its bytes at signing time.
public struct SnapshotArtifact: Sendable, Equatable {
    /// As given to `snapshot sign` (a relative path is relative to the directory it ran in, and
    /// is re-hashed relative to the verifier's artifact root).
    public var path: String
    public var sha256: [UInt8]
    public var size: UInt64

    public init(path: String, sha256: [UInt8], size: UInt64) {
        self.path = path
        self.sha256 = sha256
        self.size = size
    }

    /// `sha256:<hex>`, the form audit events carry.
    public var digest: String { "sha256:" + sha256.hexString }

    public func jsonValue() -> JSONValue {
        .object(["path": .string(path), "sha256": .string(sha256.hexString), "size": .number(Double(size))])
    }

    public init?(json: JSONValue) {
        guard let path = json["path"]?.stringValue, let hex = json["sha256"]?.stringValue,
            let sha256 = [UInt8](hexString: hex), sha256.count == 32, let size = json["size"]?.intValue, size >= 0
        else { return nil }
        self.init(path: path, sha256: sha256, size: UInt64(size))
    }

    /// Hashes the files named by `paths`, relative to `root`; a directory stands for every
    /// regular file below it, in path order. Duplicates are recorded once.
    public static func hashing(_ paths: [String], root: String) throws(SnapshotError) -> [SnapshotArtifact] {
        var files: [String] = []
        for given in paths {
            let path = (given as NSString).standardizingPath
            let resolved = resolve(path, root: root)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: resolved, isDirectory: &isDirectory) else {
                throw SnapshotError(.invalidInput, "artifact \(given): no such file or directory")
            }
            if isDirectory.boolValue {
                guard let enumerator = FileManager.default.enumerator(atPath: resolved) else {
                    throw SnapshotError(.invalidInput, "artifact \(given): cannot list the directory")
                }
                var found: [String] = []
                while let relative = enumerator.nextObject() as? String {
                    let child = (resolved as NSString).appendingPathComponent(relative)
                    var childIsDirectory: ObjCBool = false
                    if FileManager.default.fileExists(atPath: child, isDirectory: &childIsDirectory), !childIsDirectory.boolValue {
                        found.append((path as NSString).appendingPathComponent(relative))
                    }
                }
                guard !found.isEmpty else { throw SnapshotError(.invalidInput, "artifact \(given): the directory holds no files") }
                files += found.sorted()
            } else {
                files.append(path)
            }
        }
        var seen = Set<String>()
        var artifacts: [SnapshotArtifact] = []
        for path in files where seen.insert(path).inserted {
            let resolved = resolve(path, root: root)
            do {
                let size = (try FileManager.default.attributesOfItem(atPath: resolved)[.size] as? NSNumber)?.uint64Value ?? 0
                artifacts.append(SnapshotArtifact(path: path, sha256: try SHA256.hash(fileAt: resolved), size: size))
            } catch {
                throw SnapshotError(.invalidInput, "artifact \(path): cannot read it (\(error.localizedDescription))")
            }
        }
        return artifacts
    }

    static func resolve(_ path: String, root: String) -> String {
        path.hasPrefix("/") ? path : (root as NSString).appendingPathComponent(path)
    }
}
