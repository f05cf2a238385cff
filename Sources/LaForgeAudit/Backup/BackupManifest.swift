import LaForgeCore

/// `MANIFEST.json`, the last member of a backup: what the backup holds and the SHA-256 of each
/// file, so `backup verify` finds any byte changed, any file missing or added.
public struct BackupManifest: Sendable, Equatable {
    public static let format = "laforge-backup/1"

    public struct File: Sendable, Equatable {
        /// Relative to the state directory (`journal/checkpoints.log`).
        public var path: String
        public var size: Int
        public var sha256: String
    }

    public var created: String
    public var hostVersion: String
    public var chainID: String
    public var origin: String
    /// Entries in the backup's journal: exactly the tree size of its newest checkpoint.
    public var journalEntries: UInt64
    /// The keys the backup's checkpoints verify with (C2SP verifier key text).
    public var verifierKeys: [String]
    /// Private key files left out (not wrapped, and no `--include-private-keys`).
    public var excludedPrivateKeys: [String]
    /// How private keys are in the backup: `none`, `wrapped` (by a KMS key), `plain` (the flag).
    public var privateKeys: String
    public var files: [File]

    public var jsonValue: JSONValue {
        .object([
            "format": .string(Self.format), "created": .string(created), "host_version": .string(hostVersion),
            "chain_id": .string(chainID), "origin": .string(origin), "journal_entries": .number(Double(journalEntries)),
            "verifier_keys": .array(verifierKeys.map(JSONValue.string)),
            "excluded_private_keys": .array(excludedPrivateKeys.map(JSONValue.string)),
            "private_keys": .string(privateKeys),
            "files": .array(files.map { .object(["path": .string($0.path), "size": .number(Double($0.size)), "sha256": .string($0.sha256)]) }),
        ])
    }

    public init(
        created: String, hostVersion: String, chainID: String, origin: String, journalEntries: UInt64, verifierKeys: [String],
        excludedPrivateKeys: [String], privateKeys: String, files: [File]
    ) {
        self.created = created
        self.hostVersion = hostVersion
        self.chainID = chainID
        self.origin = origin
        self.journalEntries = journalEntries
        self.verifierKeys = verifierKeys
        self.excludedPrivateKeys = excludedPrivateKeys
        self.privateKeys = privateKeys
        self.files = files
    }

    /// Parses the manifest, naming the field that is wrong.
    public init(parsing bytes: [UInt8], source: String) throws(BackupError) {
        guard let value = try? JSONParser.parse(bytes) else { throw BackupError(.corrupt, "\(source): not JSON") }
        func string(_ key: String) throws(BackupError) -> String {
            guard let text = value[key]?.stringValue else { throw BackupError(.corrupt, "\(source): field \"\(key)\" is missing or not a string") }
            return text
        }
        func strings(_ key: String) throws(BackupError) -> [String] {
            guard let array = value[key]?.arrayValue else { throw BackupError(.corrupt, "\(source): field \"\(key)\" is missing or not an array") }
            var result: [String] = []
            for item in array {
                guard let text = item.stringValue else { throw BackupError(.corrupt, "\(source): field \"\(key)\" holds a non-string") }
                result.append(text)
            }
            return result
        }
        let format = try string("format")
        guard format == Self.format else {
            throw BackupError(.corrupt, "\(source): field \"format\" is \(quotedForMessage(format)); this host reads \(Self.format)")
        }
        guard let entries = value["journal_entries"]?.intValue, entries >= 0 else {
            throw BackupError(.corrupt, "\(source): field \"journal_entries\" is missing or not a non-negative integer")
        }
        guard let fileValues = value["files"]?.arrayValue else { throw BackupError(.corrupt, "\(source): field \"files\" is missing or not an array") }
        var files: [File] = []
        for (index, item) in fileValues.enumerated() {
            guard let path = item["path"]?.stringValue, let size = item["size"]?.intValue, let sha = item["sha256"]?.stringValue else {
                throw BackupError(.corrupt, "\(source): files[\(index)] needs \"path\", \"size\" and \"sha256\"")
            }
            files.append(File(path: path, size: size, sha256: sha))
        }
        self.init(
            created: try string("created"), hostVersion: try string("host_version"), chainID: try string("chain_id"),
            origin: try string("origin"), journalEntries: UInt64(entries), verifierKeys: try strings("verifier_keys"),
            excludedPrivateKeys: try strings("excluded_private_keys"), privateKeys: try string("private_keys"), files: files)
    }
}
