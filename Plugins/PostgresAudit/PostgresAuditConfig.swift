import CLibPQ

/// The validated configuration of one instance: how to reach the server (a libpq DSN, discrete
/// fields, or both: discrete fields override what the DSN says) and where the entries go.
struct PostgresAuditConfig {
    /// libpq connection keywords in the order they are applied; a `dbname` holding the DSN comes
    /// first and is expanded (PQconnectdbParams' expand_dbname), the rest override it.
    var connection: [(keyword: String, value: String)] = []
    var hasDSN = false
    var schema = "audit"
    var table = "entries"
    var batchSize = 2000
    var manageSchema = true
    var statementTimeoutMilliseconds: UInt64 = 60_000
    /// Values that must never appear in a message: the password and the DSN.
    var secrets: [String] = []

    var checkpointsTable: String { table + "_checkpoints" }
    /// `"audit"."entries"`; names are checked against `identifierPattern`, so quoting is exact.
    var qualifiedTable: String { "\"\(schema)\".\"\(table)\"" }
    var qualifiedCheckpoints: String { "\"\(schema)\".\"\(checkpointsTable)\"" }
    /// What messages call the tables.
    var tableName: String { "\(schema).\(table)" }
    var checkpointsName: String { "\(schema).\(checkpointsTable)" }

    static let identifierPattern = "^[a-z_][a-z0-9_]*$"

    /// The schema the host validates against and takes defaults from. Keep in step with
    /// `init(json:)` and docs/POSTGRES.md.
    static let schema = """
        {"type":"object","additionalProperties":false,"properties":{\
        "dsn":{"type":"string","minLength":1,"x-laforge-secret":true,\
        "description":"libpq connection string or postgresql:// URI; discrete fields override its parts"},\
        "host":{"type":"string","minLength":1},\
        "port":{"type":"integer","minimum":1,"maximum":65535},\
        "dbname":{"type":"string","minLength":1},\
        "user":{"type":"string","minLength":1},\
        "password":{"type":"string","x-laforge-secret":true},\
        "sslmode":{"enum":["disable","allow","prefer","require","verify-ca","verify-full"]},\
        "sslrootcert":{"type":"string","minLength":1},\
        "sslcert":{"type":"string","minLength":1},\
        "sslkey":{"type":"string","minLength":1},\
        "connect_timeout":{"type":"integer","minimum":1,"maximum":3600,"default":10},\
        "application_name":{"type":"string","default":"laforge"},\
        "schema":{"type":"string","pattern":"^[a-z_][a-z0-9_]*$","maxLength":63,"default":"audit"},\
        "table":{"type":"string","pattern":"^[a-z_][a-z0-9_]*$","maxLength":48,"default":"entries"},\
        "batch_size":{"type":"integer","minimum":1,"maximum":100000,"default":2000},\
        "manage_schema":{"type":"boolean","default":true},\
        "statement_timeout_ms":{"type":"integer","minimum":0,"default":60000}}}
        """

    private static let connectionKeys = [
        "host", "port", "dbname", "user", "password", "sslmode", "sslrootcert", "sslcert", "sslkey", "connect_timeout",
        "application_name",
    ]

    /// Reads the host's canonical JSON. The host has validated it against `schema`, but the
    /// plugin checks again: it may be loaded by a host that does not.
    init(json bytes: [UInt8], production: Bool) throws(PostgresAuditError) {
        let members = try ConfigJSON.members(bytes, invalid: PostgresAuditError.invalidConfig)
        var discrete: [(String, String)] = []
        for (key, member) in members {
            switch key {
            case "dsn":
                guard case .string(let text) = member, !text.isEmpty else { throw .invalidConfig("dsn: expected a non-empty string") }
                try Self.checkNoNUL(text, key)
                secrets.append(text)
                connection.insert(("dbname", text), at: 0)
                hasDSN = true
            case "port", "connect_timeout":
                guard let number = member.unsignedInteger, number >= 1 else { throw .invalidConfig("\(key): expected a positive integer") }
                discrete.append((key, String(number)))
            case "host", "dbname", "user", "password", "sslmode", "sslrootcert", "sslcert", "sslkey", "application_name":
                guard case .string(let text) = member else { throw .invalidConfig("\(key): expected a string") }
                try Self.checkNoNUL(text, key)
                if key == "password" {
                    if !text.isEmpty { secrets.append(text) }
                } else if key == "sslmode", !["disable", "allow", "prefer", "require", "verify-ca", "verify-full"].contains(text) {
                    throw .invalidConfig("sslmode: expected one of disable, allow, prefer, require, verify-ca, verify-full")
                }
                discrete.append((key, text))
            case "schema", "table":
                guard case .string(let text) = member, Self.isIdentifier(text), text.utf8.count <= (key == "table" ? 48 : 63) else {
                    throw .invalidConfig(
                        "\(key): expected a lowercase SQL identifier (letters, digits, _; not starting with a digit; at most \(key == "table" ? 48 : 63) characters)")
                }
                if key == "schema" { schema = text } else { table = text }
            case "batch_size":
                guard let number = member.unsignedInteger, number >= 1, number <= 100_000 else {
                    throw .invalidConfig("batch_size: expected an integer from 1 to 100000")
                }
                batchSize = Int(number)
            case "manage_schema":
                guard case .bool(let flag) = member else { throw .invalidConfig("manage_schema: expected true or false") }
                manageSchema = flag
            case "statement_timeout_ms":
                guard let number = member.unsignedInteger else { throw .invalidConfig("statement_timeout_ms: expected a non-negative integer (0 disables)") }
                statementTimeoutMilliseconds = number
            default:
                throw .invalidConfig("unknown key \"\(key)\" (known: dsn, \(Self.connectionKeys.joined(separator: ", ")), schema, table, batch_size, manage_schema, statement_timeout_ms)")
            }
        }
        guard hasDSN || discrete.contains(where: { $0.0 == "host" || $0.0 == "dbname" }) else {
            throw .invalidConfig("give `dsn` (e.g. ${env:LAFORGE_PG_DSN}) or at least `host` and `dbname`")
        }
        connection += discrete
        // Byte-exact storage needs the server to see UTF-8 as it is; libpq converts nothing then.
        connection.append(("client_encoding", "UTF8"))
        try checkDSN()
        if production { try refuseUnverifiedTLS(defaults: LibPQDefaults.current()) }
    }

    private static func checkNoNUL(_ text: String, _ key: String) throws(PostgresAuditError) {
        guard !text.utf8.contains(0) else { throw .invalidConfig("\(key): must not contain NUL") }
    }

    private static func isIdentifier(_ text: String) -> Bool {
        guard let first = text.utf8.first, first == UInt8(ascii: "_") || (first >= 0x61 && first <= 0x7A) else { return false }
        return text.utf8.allSatisfy { $0 == UInt8(ascii: "_") || ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) }
    }

    /// The options the DSN sets, parsed by libpq itself (so both URI and keyword forms count).
    /// Also learns the DSN's password, so it is scrubbed from messages on its own too.
    private mutating func checkDSN() throws(PostgresAuditError) {
        guard hasDSN else { return }
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(connection[0].value, &errorMessage) else {
            // libpq's parse error may quote the DSN; say only what kind of problem it is.
            if let errorMessage { PQfreemem(errorMessage) }
            throw .invalidConfig("dsn: not a valid libpq connection string or postgresql:// URI")
        }
        defer { PQconninfoFree(options) }
        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val {
                let name = String(cString: keyword)
                dsnOptions[name] = String(cString: value)
                if name == "password", !dsnOptions[name]!.isEmpty { secrets.append(dsnOptions[name]!) }
            }
            option += 1
        }
    }

    private var dsnOptions: [String: String] = [:]

    /// The value libpq will use for `keyword` and where it comes from: a discrete field, else the
    /// DSN's, else libpq's defaults (service file, environment, compiled-in).
    func effective(_ keyword: String, defaults: LibPQDefaults) -> LibPQDefaults.Value? {
        if let field = connection.dropFirst(hasDSN ? 1 : 0).last(where: { $0.keyword == keyword }) {
            return LibPQDefaults.Value(value: field.value, origin: "the field \(keyword)")
        }
        if let value = dsnOptions[keyword] { return LibPQDefaults.Value(value: value, origin: "the dsn") }
        return defaults[keyword]
    }

    /// Production: every connection over the network verifies the server's certificate and that it
    /// names the host (`sslmode=verify-full`), decided on the parameters libpq will really use, the
    /// environment and PGSERVICE's service file included. Only a Unix-domain socket (no network;
    /// the socket directory's permissions guard it) needs no TLS. Loopback TCP is network too: any
    /// local user can listen on a port the server is not holding.
    func refuseUnverifiedTLS(defaults: LibPQDefaults) throws(PostgresAuditError) {
        if dsnOptions["service"] != nil {
            // Its values would come from a pg_service.conf the configuration does not show.
            throw .invalidConfig(
                "dsn: service= is refused in mode: production (its parameters live in pg_service.conf, outside the configuration); give host, sslmode=verify-full and the rest in dsn or the fields")
        }
        let hostaddr = effective("hostaddr", defaults: defaults)
        let host = effective("host", defaults: defaults)
        let networkHost: LibPQDefaults.Value? =
            if let hostaddr, !hostaddr.value.isEmpty {
                hostaddr
            } else if let host, host.value.split(separator: ",").contains(where: { !$0.hasPrefix("/") && !$0.hasPrefix("@") }) {
                host
            } else {
                nil
            }
        guard let networkHost else { return }
        let mode = effective("sslmode", defaults: defaults) ?? LibPQDefaults.Value(value: "prefer", origin: "libpq's default")
        guard mode.value == "verify-full" else {
            let which = networkHost.value == hostaddr?.value ? "hostaddr" : "host"
            throw .invalidConfig(
                "sslmode \(mode.value) (from \(mode.origin)) does not verify that the server's certificate names \(which) \(networkHost.value) (from \(networkHost.origin)); mode: production needs sslmode verify-full (with sslrootcert) for a connection over the network")
        }
    }
}
