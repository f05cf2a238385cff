#if canImport(Glibc)
    import Glibc
#endif

/// When the sink calls fdatasync.
enum FsyncMode: String {
    /// After every write call, and the directory after every file it creates or rotates.
    case always
    /// After every write call (one write call is one host batch: a group commit).
    case batch
    /// Never on write; the kernel writes back when it likes. `flush` still syncs.
    case never
}

/// The validated configuration of one instance.
struct FileSinkConfig {
    /// Absolute path of the active file (a relative configured path is resolved against the
    /// working directory at create, so a later chdir of the embedder does not move the file).
    var path: String
    var fsync: FsyncMode = .batch
    /// Rotate once the active file holds this many bytes; 0 = never by size.
    var rotateBytes: UInt64 = 0
    /// Rotate once the active file has been open this many seconds; 0 = never by age.
    var rotateSeconds: UInt64 = 0
    var fileMode: mode_t = 0o600
    var createDirectories = true

    /// The schema the host validates against and takes defaults from. Keep in step with
    /// `init(json:)` and docs/FILESINK.md.
    static let schema = """
        {"type":"object","additionalProperties":false,"required":["path"],"properties":{\
        "path":{"type":"string","minLength":1,"description":"the active file; rotated files get a numeric suffix"},\
        "fsync":{"enum":["always","batch","never"],"default":"batch"},\
        "rotate_bytes":{"type":"integer","minimum":0,"default":0},\
        "rotate_seconds":{"type":"integer","minimum":0,"default":0},\
        "file_mode":{"type":"string","pattern":"^0?[0-7]{3}$","default":"0600"},\
        "create_directories":{"type":"boolean","default":true}}}
        """

    /// Reads the host's canonical JSON. The host has validated it against `schema`, but the
    /// plugin checks again: it may be loaded by a host that does not.
    init(json bytes: [UInt8]) throws(FileSinkError) {
        let members = try ConfigJSON.members(bytes, invalid: FileSinkError.invalidConfig)
        var path: String?
        for (key, member) in members {
            switch key {
            case "path":
                guard case .string(let text) = member, !text.isEmpty else {
                    throw .invalidConfig("path: expected a non-empty string")
                }
                guard !text.utf8.contains(0) else { throw .invalidConfig("path: must not contain NUL") }
                guard !text.hasSuffix("/") else { throw .invalidConfig("path: names a directory; give a file name") }
                path = text
            case "fsync":
                guard case .string(let text) = member, let mode = FsyncMode(rawValue: text) else {
                    throw .invalidConfig("fsync: expected one of \"always\", \"batch\", \"never\"")
                }
                fsync = mode
            case "rotate_bytes":
                rotateBytes = try Self.unsignedInteger(member, key)
            case "rotate_seconds":
                rotateSeconds = try Self.unsignedInteger(member, key)
            case "file_mode":
                guard case .string(let text) = member, let mode = Self.octalMode(text) else {
                    throw .invalidConfig("file_mode: expected an octal mode like \"0600\" or \"640\"")
                }
                fileMode = mode
            case "create_directories":
                guard case .bool(let flag) = member else { throw .invalidConfig("create_directories: expected true or false") }
                createDirectories = flag
            default:
                throw .invalidConfig(
                    "unknown key \"\(key)\" (known: path, fsync, rotate_bytes, rotate_seconds, file_mode, create_directories)")
            }
        }
        guard let path else { throw .invalidConfig("path is required") }
        self.path = PathName.absolute(path)
    }

    private static func unsignedInteger(_ value: JSONValue, _ key: String) throws(FileSinkError) -> UInt64 {
        if let number = value.unsignedInteger { return number }
        throw .invalidConfig("\(key): expected a non-negative integer (0 disables)")
    }

    /// `^0?[0-7]{3}$`, as the schema says.
    private static func octalMode(_ text: String) -> mode_t? {
        var digits = Array(text.utf8)
        if digits.count == 4, digits[0] == UInt8(ascii: "0") { digits.removeFirst() }
        guard digits.count == 3 else { return nil }
        var mode: mode_t = 0
        for digit in digits {
            guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "7") else { return nil }
            mode = mode << 3 | mode_t(digit - UInt8(ascii: "0"))
        }
        return mode
    }
}
