import Foundation

/// Locates the vendored test vectors under `Fixtures/` (copied into the test bundle).
enum JSONFixtures {
    static func url(_ relativePath: String) -> URL {
        guard let root = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else {
            // Fall back to the source tree so the tests also run from an unbundled build.
            return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("Fixtures").appendingPathComponent(relativePath)
        }
        return root.appendingPathComponent(relativePath)
    }

    static func bytes(_ relativePath: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: url(relativePath)))
    }
}
