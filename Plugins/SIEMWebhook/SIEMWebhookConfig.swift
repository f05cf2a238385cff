import HTTPClient

/// The validated configuration of one instance (docs/SIEM.md documents every key).
struct SIEMWebhookConfig {
    enum Format: String {
        case ndjson
        case jsonArray = "json_array"
        case splunkHEC = "splunk_hec"
        case elasticBulk = "elastic_bulk"
        case cef
    }

    enum Transport: Equatable {
        /// `http://` or `https://` URL.
        case http
        /// `tcp://host:port` or `tls://host:port`: syslog with RFC 5425 octet-counted framing.
        case syslog(host: String, port: Int, tls: Bool)
    }

    struct Splunk {
        var token: String?
        var index: String?
        var source: String?
        var sourcetype = "laforge:audit"
        var host: String?
        var channel: String?
        var acknowledgement = false
        var ackTimeoutMilliseconds = 300_000
    }

    struct Elastic {
        var index = "laforge-audit"
        var apiKey: String?
        var username: String?
        var password: String?
        var pipeline: String?
    }

    struct Syslog {
        var facility = 13  // log audit
        var hostname: String?
        var appName = "laforge"
    }

    struct CEF {
        var vendor = "LaForge"
        var product = "LaForge Runtime"
        var version = "1.0"
    }

    var url = ""
    var format = Format.ndjson
    var transport = Transport.http
    var headers: [HTTPHeader] = []
    var maxEvents = 500
    var maxBytes = 1 << 20
    var gzip = false
    var connectTimeoutMilliseconds = 5_000
    var timeoutMilliseconds = 30_000
    var tls = TLSOptions()
    var insecureSkipVerify = false
    /// Raw HMAC keys (each `whsec_<base64>` decoded): one `v1,` signature each.
    var hmacSecrets: [[UInt8]] = []
    /// libsodium Ed25519 secret keys (64 bytes): one `v1a,` signature each.
    var ed25519Keys: [[UInt8]] = []
    var splunk = Splunk()
    var elastic = Elastic()
    var syslog = Syslog()
    var cef = CEF()

    /// The schema the host validates against and takes defaults from. Keep in step with
    /// `init(json:)` and docs/SIEM.md.
    static let schema = """
        {"type":"object","additionalProperties":false,"required":["url"],"properties":{\
        "url":{"type":"string","pattern":"^(https?|tcp|tls)://","description":"http(s) receiver, or tcp:// / tls:// syslog collector (format cef)"},\
        "format":{"enum":["ndjson","json_array","splunk_hec","elastic_bulk","cef"],"default":"ndjson"},\
        "headers":{"type":"object","additionalProperties":{"type":"string","x-laforge-secret":true},"default":{}},\
        "max_events":{"type":"integer","minimum":1,"maximum":100000,"default":500},\
        "max_bytes":{"type":"integer","minimum":1024,"maximum":104857600,"default":1048576},\
        "gzip":{"type":"boolean","default":false},\
        "connect_timeout_ms":{"type":"integer","minimum":1,"maximum":600000,"default":5000},\
        "timeout_ms":{"type":"integer","minimum":1,"maximum":3600000,"default":30000},\
        "tls":{"type":"object","additionalProperties":false,"default":{},"properties":{\
        "ca_file":{"type":"string","minLength":1},\
        "client_certificate":{"type":"string","minLength":1},\
        "client_key":{"type":"string","minLength":1},\
        "pinned_public_key":{"type":"string","minLength":1},\
        "insecure_skip_verify":{"type":"boolean","default":false}}},\
        "signing":{"type":"object","additionalProperties":false,"default":{},"properties":{\
        "hmac_secrets":{"type":"array","items":{"type":"string","pattern":"^whsec_","x-laforge-secret":true},"default":[]},\
        "ed25519_keys":{"type":"array","items":{"type":"string","pattern":"^whsk_","x-laforge-secret":true},"default":[]}}},\
        "splunk":{"type":"object","additionalProperties":false,"default":{},"properties":{\
        "token":{"type":"string","minLength":1,"x-laforge-secret":true},\
        "index":{"type":"string","minLength":1},\
        "source":{"type":"string","minLength":1},\
        "sourcetype":{"type":"string","minLength":1,"default":"laforge:audit"},\
        "host":{"type":"string","minLength":1},\
        "channel":{"type":"string","pattern":"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$"},\
        "acknowledgement":{"type":"boolean","default":false},\
        "ack_timeout_ms":{"type":"integer","minimum":1000,"maximum":86400000,"default":300000}}},\
        "elastic":{"type":"object","additionalProperties":false,"default":{},"properties":{\
        "index":{"type":"string","minLength":1,"default":"laforge-audit"},\
        "api_key":{"type":"string","minLength":1,"x-laforge-secret":true},\
        "username":{"type":"string","minLength":1},\
        "password":{"type":"string","minLength":1,"x-laforge-secret":true},\
        "pipeline":{"type":"string","minLength":1}}},\
        "syslog":{"type":"object","additionalProperties":false,"default":{},"properties":{\
        "facility":{"type":"integer","minimum":0,"maximum":23,"default":13},\
        "hostname":{"type":"string","minLength":1,"maxLength":255},\
        "app_name":{"type":"string","minLength":1,"maxLength":48,"default":"laforge"}}},\
        "cef":{"type":"object","additionalProperties":false,"default":{},"properties":{\
        "vendor":{"type":"string","minLength":1,"default":"LaForge"},\
        "product":{"type":"string","minLength":1,"default":"LaForge Runtime"},\
        "version":{"type":"string","minLength":1,"default":"1.0"}}}}}
        """

    /// Reads the host's canonical JSON. The host validated it against `schema`; the plugin
    /// checks what keeps it correct anyway (it may be loaded by a host that does not).
    init(json bytes: [UInt8], production: Bool) throws(SIEMError) {
        let root = try Fields(ConfigJSON.value(bytes, invalid: SIEMError.invalidConfig), "")
        url = try root.string("url") ?? ""
        if let text = try root.string("format") {
            guard let parsed = Format(rawValue: text) else {
                throw .invalidConfig("format: expected one of ndjson, json_array, splunk_hec, elastic_bulk, cef")
            }
            format = parsed
        }
        transport = try Self.transport(url)
        if let headerObject = try root.object("headers") {
            for (name, member) in headerObject.members {
                guard case .string(let value) = member else { throw .invalidConfig("headers.\(name): expected a string") }
                guard !name.isEmpty, !name.contains(where: { $0 == ":" || $0 == " " || $0.isNewline }), !value.contains(where: \.isNewline) else {
                    throw .invalidConfig("headers.\(name): not a valid header name, or a value with a line break")
                }
                headers.append(HTTPHeader(name, value))
            }
        }
        maxEvents = try root.integer("max_events", 1...100_000) ?? maxEvents
        maxBytes = try root.integer("max_bytes", 1024...104_857_600) ?? maxBytes
        gzip = try root.bool("gzip") ?? gzip
        connectTimeoutMilliseconds = try root.integer("connect_timeout_ms", 1...600_000) ?? connectTimeoutMilliseconds
        timeoutMilliseconds = try root.integer("timeout_ms", 1...3_600_000) ?? timeoutMilliseconds

        if let tlsFields = try root.object("tls") {
            tls.caFile = try tlsFields.string("ca_file")
            tls.clientCertificate = try tlsFields.string("client_certificate")
            tls.clientKey = try tlsFields.string("client_key")
            tls.pinnedPublicKey = try tlsFields.string("pinned_public_key")
            insecureSkipVerify = try tlsFields.bool("insecure_skip_verify") ?? false
            tls.verifyPeer = !insecureSkipVerify
            if (tls.clientCertificate == nil) != (tls.clientKey == nil) {
                throw .invalidConfig("tls: client_certificate and client_key go together")
            }
        }
        if let signing = try root.object("signing") {
            for (index, secret) in try signing.strings("hmac_secrets").enumerated() {
                hmacSecrets.append(try SigningKeys.hmacSecret(secret, field: "signing.hmac_secrets[\(index)]"))
            }
            for (index, key) in try signing.strings("ed25519_keys").enumerated() {
                ed25519Keys.append(try SigningKeys.ed25519SecretKey(key, field: "signing.ed25519_keys[\(index)]"))
            }
        }
        if let fields = try root.object("splunk") {
            splunk.token = try fields.string("token")
            splunk.index = try fields.string("index")
            splunk.source = try fields.string("source")
            splunk.sourcetype = try fields.string("sourcetype") ?? splunk.sourcetype
            splunk.host = try fields.string("host")
            splunk.channel = try fields.string("channel")
            splunk.acknowledgement = try fields.bool("acknowledgement") ?? false
            splunk.ackTimeoutMilliseconds = try fields.integer("ack_timeout_ms", 1000...86_400_000) ?? splunk.ackTimeoutMilliseconds
        }
        if let fields = try root.object("elastic") {
            elastic.index = try fields.string("index") ?? elastic.index
            elastic.apiKey = try fields.string("api_key")
            elastic.username = try fields.string("username")
            elastic.password = try fields.string("password")
            elastic.pipeline = try fields.string("pipeline")
            if (elastic.username == nil) != (elastic.password == nil) {
                throw .invalidConfig("elastic: username and password go together")
            }
        }
        if let fields = try root.object("syslog") {
            syslog.facility = try fields.integer("facility", 0...23) ?? syslog.facility
            syslog.hostname = try fields.string("hostname")
            syslog.appName = try fields.string("app_name") ?? syslog.appName
        }
        if let fields = try root.object("cef") {
            cef.vendor = try fields.string("vendor") ?? cef.vendor
            cef.product = try fields.string("product") ?? cef.product
            cef.version = try fields.string("version") ?? cef.version
        }
        try checkCombinations(production: production)
    }

    private func checkCombinations(production: Bool) throws(SIEMError) {
        if case .syslog = transport, format != .cef {
            throw .invalidConfig("url: a \(url.hasPrefix("tls") ? "tls" : "tcp"):// syslog URL carries format cef only (format is \(format.rawValue))")
        }
        if format == .splunkHEC, splunk.token == nil {
            throw .invalidConfig("splunk.token is required for format splunk_hec")
        }
        if splunk.acknowledgement, format != .splunkHEC {
            throw .invalidConfig("splunk.acknowledgement applies to format splunk_hec only")
        }
        guard production else { return }
        if insecureSkipVerify {
            throw .invalidConfig("tls.insecure_skip_verify is refused in mode: production (configure tls.ca_file for a private CA)")
        }
        let plaintext = url.hasPrefix("http://") || url.hasPrefix("tcp://")
        let carriesCredentials =
            splunk.token != nil || elastic.apiKey != nil || elastic.password != nil || !hmacSecrets.isEmpty
            || headers.contains(where: \.isSensitive)
        if plaintext && carriesCredentials {
            throw .invalidConfig("url: credentials over plaintext \(url.hasPrefix("tcp") ? "tcp" : "http") are refused in mode: production; use https:// or tls://")
        }
    }

    private static func transport(_ url: String) throws(SIEMError) -> Transport {
        if url.hasPrefix("http://") || url.hasPrefix("https://") {
            guard url.count > (url.hasPrefix("https") ? 8 : 7) else { throw .invalidConfig("url: no host in \(url)") }
            return .http
        }
        let tls = url.hasPrefix("tls://")
        guard tls || url.hasPrefix("tcp://") else {
            throw .invalidConfig("url: expected http://, https://, tcp:// or tls://")
        }
        var authority = Substring(url.dropFirst(6))
        if authority.hasSuffix("/") { authority = authority.dropLast() }
        guard let colon = authority.lastIndex(of: ":"), let port = Int(authority[authority.index(after: colon)...]),
            (1...65535).contains(port), colon > authority.startIndex
        else {
            throw .invalidConfig("url: a syslog URL is \(tls ? "tls" : "tcp")://HOST:PORT")
        }
        var host = String(authority[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return .syslog(host: host, port: port, tls: tls)
    }
}

/// Typed access to one configuration object, with the field path in every message.
private struct Fields {
    let members: [(key: String, value: JSONValue)]
    let path: String

    init(_ value: JSONValue, _ path: String) throws(SIEMError) {
        guard case .object(let members) = value else {
            throw .invalidConfig("\(path.isEmpty ? "configuration" : path): expected an object")
        }
        self.members = members
        self.path = path
    }

    private func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    private func member(_ key: String) -> JSONValue? { members.first { $0.key == key }?.value }

    func string(_ key: String) throws(SIEMError) -> String? {
        guard let value = member(key) else { return nil }
        guard case .string(let text) = value else { throw .invalidConfig("\(name(key)): expected a string") }
        guard !text.utf8.contains(0) else { throw .invalidConfig("\(name(key)): must not contain NUL") }
        return text
    }

    func bool(_ key: String) throws(SIEMError) -> Bool? {
        guard let value = member(key) else { return nil }
        guard case .bool(let flag) = value else { throw .invalidConfig("\(name(key)): expected true or false") }
        return flag
    }

    func integer(_ key: String, _ range: ClosedRange<Int>) throws(SIEMError) -> Int? {
        guard let value = member(key) else { return nil }
        guard let number = value.unsignedInteger, number <= UInt64(range.upperBound), Int(number) >= range.lowerBound else {
            throw .invalidConfig("\(name(key)): expected an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return Int(number)
    }

    func object(_ key: String) throws(SIEMError) -> Fields? {
        guard let value = member(key) else { return nil }
        return try Fields(value, name(key))
    }

    func strings(_ key: String) throws(SIEMError) -> [String] {
        guard let value = member(key) else { return [] }
        guard case .array(let elements) = value else { throw .invalidConfig("\(name(key)): expected a list of strings") }
        var texts: [String] = []
        for (index, element) in elements.enumerated() {
            guard case .string(let text) = element else { throw .invalidConfig("\(name(key))[\(index)]: expected a string") }
            texts.append(text)
        }
        return texts
    }
}
