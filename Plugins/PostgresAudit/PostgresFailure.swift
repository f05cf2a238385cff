/// What a PostgreSQL failure means for the sink, decided from its SQLSTATE (or, for a failed
/// connection, which has no SQLSTATE in libpq's API, from libpq's message).
enum PostgresFailure: Equatable {
    /// Connection lost, server starting or shutting down, out of resources, serialization
    /// failure, deadlock: the same call may succeed later.
    case transient
    /// Authentication failed or the role lacks a privilege (28xxx, 42501).
    case accessDenied
    /// The database does not exist (3D000).
    case unknownDatabase
    /// A value the server cannot take (22xxx: bad encoding, an unparsable timestamp): the fault
    /// of one record.
    case badData
    /// TLS cannot be set up as configured (missing root certificate, verification failed).
    case tlsSetup
    /// The database cannot hold the entries byte for byte (not UTF8).
    case unsuitableDatabase
    /// Anything else (a missing table, a syntax error from a foreign trigger).
    case other

    init(sqlstate: String) {
        switch sqlstate {
        case "57P01", "57P02", "57P03", "40001", "40P01", "55P03", "57014": self = .transient
        case "42501": self = .accessDenied
        case "3D000": self = .unknownDatabase
        default:
            switch sqlstate.prefix(2) {
            case "08", "53", "58": self = .transient
            case "28": self = .accessDenied
            case "22": self = .badData
            default: self = .other
            }
        }
    }

    /// Classifies libpq's message for a connection attempt that failed. The server sends these
    /// texts in its lc_messages language; English is what initdb's C locale gives. A message
    /// not recognized here counts as transient (the host retries; nothing is lost).
    init(connectionMessage message: String) {
        let text = message.lowercased()
        if text.contains("password authentication failed") || text.contains("no password supplied")
            || text.contains("authentication failed") || text.contains("pg_hba.conf") || text.contains("permission denied")
            || text.contains("not permitted to log in") || (text.contains("role \"") && text.contains("does not exist"))
        {
            self = .accessDenied
        } else if text.contains("database \"") && text.contains("does not exist") {
            self = .unknownDatabase
        } else if text.contains("root certificate") || text.contains("certificate verify failed")
            || text.contains("server does not support ssl") || text.contains("ssl is not enabled")
            || text.contains("does not match host name") || text.contains("could not read certificate")
            || text.contains("could not load private key")
        {
            self = .tlsSetup
        } else {
            self = .transient
        }
    }

    /// The status `create` returns for this failure (header: ACCESS_DENIED for rejected
    /// credentials, INVALID_ARGUMENT for a configuration it cannot use, RETRY when the server
    /// is unavailable).
    var createStatus: Int32 {
        switch self {
        case .transient: Status.retry
        case .accessDenied: Status.accessDenied
        case .unknownDatabase, .tlsSetup, .unsuitableDatabase: Status.invalidArgument
        case .badData, .other: Status.internalError
        }
    }

    /// The status `write` returns: RETRY while the server may come back; ACCESS_DENIED when the
    /// database refuses this sink as a whole (credentials, privileges, settings: an operator must
    /// act, and the host keeps the records meanwhile); PERMANENT_ERROR only for a record the
    /// server will never take.
    var writeStatus: Int32 {
        switch self {
        case .transient, .other: Status.retry
        case .accessDenied, .unknownDatabase, .tlsSetup, .unsuitableDatabase: Status.accessDenied
        case .badData: Status.permanentError
        }
    }

    /// A hint for the person reading the message.
    var hint: String {
        switch self {
        case .transient: "the server is unreachable or restarting; the host retries with backoff"
        case .accessDenied:
            "check the user and password (dsn / password, e.g. ${secret:…} or ${env:…}) and the role's grants "
                + "(config/examples/postgres-roles.sql)"
        case .unknownDatabase: "create the database or fix dbname"
        case .tlsSetup: "check sslmode, sslrootcert, sslcert and sslkey"
        case .badData: "the server refused a value of this record"
        case .unsuitableDatabase: ""
        case .other: ""
        }
    }
}
