import CLibPQ

#if canImport(Glibc)
    import Glibc
#endif

/// What libpq fills in for a connection parameter the configuration does not set, read from libpq
/// itself (`PQconndefaults`): the service file named by `PGSERVICE`, then the `PG*` environment
/// (`PGHOST`, `PGHOSTADDR`, `PGSSLMODE`, the deprecated `PGREQUIRESSL` …), then its compiled-in
/// defaults. Each value says where it came from, for messages.
struct LibPQDefaults {
    struct Value {
        var value: String
        var origin: String
    }

    private var values: [String: Value] = [:]

    /// The defaults as libpq sees them now (its environment is this process's).
    static func current() -> LibPQDefaults {
        var defaults = LibPQDefaults()
        guard let options = PQconndefaults() else { return defaults }
        defer { PQconninfoFree(options) }
        let service = getenv("PGSERVICE").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 }
        var option = options
        while let keyword = option.pointee.keyword {
            defer { option += 1 }
            guard let value = option.pointee.val else { continue }
            let name = String(cString: keyword)
            let text = String(cString: value)
            let origin: String
            if let variable = option.pointee.envvar.map({ String(cString: $0) }), let set = getenv(variable), String(cString: set) == text {
                origin = "environment \(variable)"
            } else if let service {
                origin = "service \(service) (PGSERVICE) or libpq's default"
            } else {
                origin = "libpq's default"
            }
            defaults.values[name] = Value(value: text, origin: origin)
        }
        return defaults
    }

    subscript(keyword: String) -> Value? { values[keyword] }
}
