import Foundation
import LaForgeCore

/// SHA-256 of every file under a directory, by relative path: equal before and after means
/// nothing was written, created or removed.
struct StoreDigest: Equatable {
    var files: [String: String]

    init(_ root: String) throws {
        files = [:]
        guard let enumerator = FileManager.default.enumerator(atPath: root) else { return }
        for case let relative as String in enumerator {
            var isDirectory: ObjCBool = false
            let path = root + "/" + relative
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
            files[relative] = isDirectory.boolValue ? "dir" : SHA256.hash([UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))).hexString
        }
    }
}
