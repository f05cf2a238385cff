import Foundation

/// Whether a sink's plugin has started, kept where other processes can read it
/// (`<state_dir>/cursors/<sink>.not-started`, present only while its create fails), so
/// `laforge audit status` says which sink is not started and why while `audit deliver
/// --follow` retries it.
public struct SinkStartStatus: Sendable {
    public let path: String

    public init(stateDirectory: String, sink: String) {
        path = (stateDirectory as NSString).appendingPathComponent("cursors/\(sink).not-started")
    }

    /// Records why the latest create failed.
    func recordFailure(_ message: String, attempts: Int) {
        let directory = (path as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let line = "\(ISO8601DateFormatter().string(from: Date())) attempt \(attempts): \(message)\n"
        try? Data(line.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    func recordStarted() { try? FileManager.default.removeItem(atPath: path) }

    /// The latest failure (`<time> attempt N: <reason>`), nil when the sink started or was
    /// never tried.
    public func failure() -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
