import LaForgeCore

/// The `serve:` section: where `laforge serve` listens, how much work it takes on at once, and
/// which local callers may use which operations (docs/API.md is the user's reference).
public struct ServeConfig: Sendable {
    /// What a client may be allowed to do; each route needs one of these.
    public enum Operation: String, Sendable, CaseIterable {
        /// Record audit events.
        case emit
        /// Read entries, proofs and checkpoints.
        case read
        /// Ask for authorization decisions.
        case authorize
        /// Create and read snapshots, check deployments.
        case snapshots
        /// Envelope encryption and decryption.
        case envelope
    }

    /// A local caller, recognised by the kernel's account of the peer (`SO_PEERCRED`).
    public struct Client: Sendable, Equatable {
        public var name: String
        /// The peer's user id; nil matches any user (then `gid` must be given).
        public var uid: UInt32?
        /// The peer's primary group id; nil matches any group.
        public var gid: UInt32?
        public var operations: Set<Operation>
        /// `BACKEND/NAME` glob patterns (`*` matches any run of characters) of the secrets this
        /// client may read.
        public var secrets: [String]
        public var mark: SourceMark

        public init(name: String, uid: UInt32?, gid: UInt32?, operations: Set<Operation>, secrets: [String] = [], mark: SourceMark) {
            self.name = name
            self.uid = uid
            self.gid = gid
            self.operations = operations
            self.secrets = secrets
            self.mark = mark
        }

        public func matches(uid: UInt32, gid: UInt32) -> Bool {
            (self.uid == nil || self.uid == uid) && (self.gid == nil || self.gid == gid)
        }

        /// Whether `backend/name` matches one of `secrets`.
        public func maySee(secret: String) -> Bool {
            secrets.contains { Self.glob($0, matches: secret) }
        }

        static func glob(_ pattern: String, matches text: String) -> Bool {
            let parts = pattern.split(separator: "*", omittingEmptySubsequences: false).map(String.init)
            guard parts.count > 1 else { return pattern == text }
            guard text.hasPrefix(parts[0]) else { return false }
            var rest = text.dropFirst(parts[0].count)
            for part in parts.dropFirst().dropLast() where !part.isEmpty {
                guard let range = rest.range(of: part) else { return false }
                rest = rest[range.upperBound...]
            }
            return rest.hasSuffix(parts.last!) && rest.count >= parts.last!.count
        }
    }

    /// The Unix socket's path; nil means `<state_dir>/laforge.sock`.
    public var socket: String?
    /// Requests being worked on at once; more are answered 503 with Retry-After.
    public var maxInFlight = 256
    /// Request bodies larger than this are answered 413.
    public var maxBodyBytes = 4 << 20
    /// Threads that wait on the journal for emits (concurrent emits share one group commit).
    public var emitThreads = 64
    /// How long SIGTERM may spend finishing requests and delivering to sinks before exiting.
    public var shutdownTimeoutMilliseconds = 10_000
    public var clients: [Client] = []

    public init() {}

    /// The first client the peer matches, in file order.
    public func client(uid: UInt32, gid: UInt32) -> Client? {
        clients.first { $0.matches(uid: uid, gid: gid) }
    }

    public func socketPath(stateDirectory: String) -> String {
        socket ?? (stateDirectory.hasSuffix("/") ? stateDirectory : stateDirectory + "/") + "laforge.sock"
    }

    static let keys = ["socket", "max_in_flight", "max_body_bytes", "emit_threads", "shutdown_timeout_ms", "clients"]
    static let clientKeys = ["name", "uid", "gid", "allow", "secrets"]

    static func decode(_ value: ConfigValue?) throws(ConfigError) -> ServeConfig {
        var serve = ServeConfig()
        guard let value else { return serve }
        let section = try value.mapping()
        try section.rejectUnknownKeys(keys)
        if let socket = section.optional("socket") { serve.socket = try socket.nonEmptyString() }
        if let value = section.optional("max_in_flight") { serve.maxInFlight = try value.positiveInt(atMost: 1 << 16) }
        if let value = section.optional("max_body_bytes") { serve.maxBodyBytes = try value.positiveInt(atMost: 1 << 30) }
        if let value = section.optional("emit_threads") { serve.emitThreads = try value.positiveInt(atMost: 1024) }
        if let value = section.optional("shutdown_timeout_ms") { serve.shutdownTimeoutMilliseconds = try value.positiveInt(atMost: 3_600_000) }
        if let clients = section.optional("clients") {
            var seen: [String: SourceMark] = [:]
            for item in try clients.sequence() {
                let client = try decodeClient(item)
                if let first = seen[client.name] {
                    throw ConfigError(
                        .duplicate, at: item.mark, path: item.path + ["name"],
                        "duplicate client \(quotedForMessage(client.name)) (first defined at \(first))", firstMark: first)
                }
                seen[client.name] = item.mark
                serve.clients.append(client)
            }
        }
        return serve
    }

    private static func decodeClient(_ item: ConfigValue) throws(ConfigError) -> Client {
        let entry = try item.mapping()
        try entry.rejectUnknownKeys(clientKeys)
        let name = try entry.required("name").nonEmptyString()
        let uid = try entry.optional("uid").map { value throws(ConfigError) in UInt32(try value.positiveInt(atMost: Int(UInt32.max), allowZero: true)) }
        let gid = try entry.optional("gid").map { value throws(ConfigError) in UInt32(try value.positiveInt(atMost: Int(UInt32.max), allowZero: true)) }
        guard uid != nil || gid != nil else {
            throw ConfigError(
                .missingKey, at: entry.mark, path: entry.path,
                "a client needs \"uid\" or \"gid\" (or both): the kernel identifies callers on the socket by them")
        }
        var operations: Set<Operation> = []
        if let allow = entry.optional("allow") {
            for item in try allow.sequence() { operations.insert(try item.oneOf(Operation.self)) }
        }
        let secrets = try entry.optional("secrets")?.stringList() ?? []
        return Client(name: name, uid: uid, gid: gid, operations: operations, secrets: secrets, mark: item.mark)
    }
}

extension ConfigValue {
    /// An integer in 1…`limit` (0…`limit` with `allowZero`).
    func positiveInt(atMost limit: Int, allowZero: Bool = false) throws(ConfigError) -> Int {
        let number = try int()
        guard number >= (allowZero ? 0 : 1), number <= limit else {
            throw ConfigError(.invalidValue, at: mark, path: path, "must be between \(allowZero ? 0 : 1) and \(limit), got \(number)")
        }
        return number
    }
}
