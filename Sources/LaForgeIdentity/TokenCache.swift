import Foundation
import LaForgeCore

/// The logged-in session on disk: `<state_dir>/identity/session.json`, mode 0600 in a 0700
/// folder, written to a temporary file, synced and renamed so a crash leaves the old or the new
/// session, never half of one. It holds tokens: a file readable by others is refused.
public struct TokenCache: Sendable {
    public let directory: String
    public var path: String { (directory as NSString).appendingPathComponent("session.json") }

    public init(stateDir: String) {
        directory = (stateDir as NSString).appendingPathComponent("identity")
    }

    /// What the cache holds: which connector issued it, and the connector's session object.
    public struct Entry: Sendable {
        public var connector: String
        public var session: JSONValue
        public var savedAt: Int64

        public var identity: JSONValue? { session["identity"] }
        public var expiresAt: Int64? { session["expires_at"]?.intValue.map(Int64.init) }
        public var connectorData: String? { session["connector_data"]?.stringValue }
        public var accessToken: String? { session["access_token"]?.stringValue }
    }

    public func save(_ entry: Entry) throws(IdentityError) {
        let text = JSONCanonicalizer.canonicalString(.object([
            "connector": .string(entry.connector), "session": entry.session, "saved_at": .number(Double(entry.savedAt)),
        ]))
        do {
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw IdentityError(.io, "cannot create \(directory): \(error.localizedDescription)")
        }
        let temporary = path + ".tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard descriptor >= 0 else { throw IdentityError(.io, "cannot write \(temporary): \(String(cString: strerror(errno)))") }
        var bytes = Array(text.utf8)
        defer { bytes.withUnsafeMutableBufferPointer { $0.update(repeating: 0) } }
        let failed = fchmod(descriptor, 0o600) != 0
            || bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) } != bytes.count
            || fsync(descriptor) != 0
        let reason = String(cString: strerror(errno))
        close(descriptor)
        if failed {
            unlink(temporary)
            throw IdentityError(.io, "cannot write \(temporary): \(reason)")
        }
        guard rename(temporary, path) == 0 else {
            throw IdentityError(.io, "cannot replace \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// The cached session, nil when nobody is logged in.
    public func load() throws(IdentityError) -> Entry? {
        var status = stat()
        guard lstat(path, &status) == 0 else {
            if errno == ENOENT { return nil }
            throw IdentityError(.io, "cannot read \(path): \(String(cString: strerror(errno)))")
        }
        guard status.st_mode & S_IFMT == S_IFREG else { throw IdentityError(.io, "\(path) is not a regular file") }
        guard status.st_mode & 0o077 == 0 else {
            throw IdentityError(
                .io, "\(path) holds tokens but is readable by others (mode \(String(status.st_mode & 0o777, radix: 8))); "
                    + "run `chmod 600 \(path)` or log in again")
        }
        let json: JSONValue
        do {
            json = try JSONParser.parse(Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw IdentityError(.io, "\(path) is not a session this laforge wrote (\(error)); log in again")
        }
        guard let connector = json["connector"]?.stringValue, let session = json["session"], case .object = session else {
            throw IdentityError(.io, "\(path) is not a session this laforge wrote; log in again")
        }
        return Entry(connector: connector, session: session, savedAt: json["saved_at"]?.intValue.map(Int64.init) ?? 0)
    }

    /// Forgets the session (logout).
    public func remove() throws(IdentityError) {
        guard unlink(path) == 0 || errno == ENOENT else {
            throw IdentityError(.io, "cannot remove \(path): \(String(cString: strerror(errno)))")
        }
    }
}
