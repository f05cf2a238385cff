import HTTPClient
import PluginABI

#if canImport(Glibc)
    import Glibc
#endif

/// One configured SIEM sink: its configuration, the sender for its format and transport, and
/// last_error. Called serially (the vtable declares SERIAL), so no locking.
final class SIEMWebhookInstance: AuditSinkPlugin {
    private let host: HostServices
    private var sender: (any RecordSender)?
    private var chainID = ""
    private var lastFailure: String?
    let lastError = LastErrorBuffer()

    init(host: HostServices) { self.host = host }

    // MARK: create

    /// Reads the configuration and builds the sender. Nothing is sent at create: a SIEM that is
    /// down at start-up must not keep the host from starting (the journal keeps the records).
    func configure(_ json: [UInt8]) throws(SIEMError) {
        guard SigningKeys.sodiumReady else { throw SIEMError(Status.internalError, "libsodium failed to initialize") }
        let config = try SIEMWebhookConfig(json: json, production: host.isProduction)
        if config.insecureSkipVerify {
            host.log(LAFORGE_LOG_WARNING, "tls.insecure_skip_verify is on: the receiver's certificate is not checked (refused in mode: production)")
        }
        let chunker = RequestChunker(maxEvents: config.maxEvents, maxBytes: config.maxBytes)
        let chain = { [unowned self] in self.chainID }
        switch (config.transport, config.format) {
        case (.syslog(let hostName, let port, let tls), _):
            if !tls { host.log(LAFORGE_LOG_WARNING, "syslog over plain tcp://: audit records travel unencrypted; use tls://") }
            let connection = StreamConnection(
                host: hostName, port: port, useTLS: tls,
                options: HTTPClientOptions(
                    tls: config.tls, connectTimeoutMilliseconds: config.connectTimeoutMilliseconds,
                    totalTimeoutMilliseconds: config.timeoutMilliseconds))
            sender = SyslogTransport(
                connection: connection, format: CEFFormat(config.cef), settings: config.syslog, chunker: chunker,
                display: config.url, chain: chain)
        case (.http, .splunkHEC):
            let transport = try HTTPTransport(
                config: config, baseURL: SplunkHEC.baseURL(config.url), credentials: nil, host: host)
            sender = SplunkHEC(settings: config.splunk, transport: transport, chunker: chunker, chain: chain, host: host)
        case (.http, .elasticBulk):
            let credentials = config.elastic.username.map { HTTPCredentials(user: $0, password: config.elastic.password ?? "") }
            let transport = try HTTPTransport(
                config: config, baseURL: ElasticBulk.baseURL(config.url), credentials: credentials, host: host)
            sender = ElasticBulk(settings: config.elastic, transport: transport, chunker: chunker, chain: chain)
        case (.http, let format):
            let transport = try HTTPTransport(config: config, baseURL: config.url, credentials: nil, host: host)
            let body: any BodyFormat =
                switch format {
                case .jsonArray: JSONArrayFormat()
                case .cef: CEFFormat(config.cef)
                default: NDJSONFormat()
                }
            sender = WebhookSender(format: body, transport: transport, chunker: chunker, chain: chain)
        }
    }

    // MARK: write

    func write(_ batchPointer: UnsafePointer<laforge_audit_batch>?) -> WriteResult {
        guard let sender else {
            return WriteResult(status: fail(SIEMError(Status.retry, "write called on an unconfigured instance")), stored: 0)
        }
        guard let batchPointer else {
            return WriteResult(status: fail(SIEMError(Status.retry, "write: batch is NULL")), stored: 0)
        }
        let batch = copySizePrefixed(UnsafeRawPointer(batchPointer), into: laforge_audit_batch())
        guard batch.count > 0 else { return WriteResult(status: Status.ok, stored: 0) }
        guard let pointers = batch.records else {
            return WriteResult(status: fail(SIEMError(Status.retry, "write: records is NULL for \(batch.count) records")), stored: 0)
        }
        chainID = batch.chain_id.map { String(cString: $0) } ?? "default"

        // Copy every sendable record; a record that can never be sent ends the batch there.
        var records: [SinkRecord] = []
        records.reserveCapacity(batch.count)
        var refusal: SIEMError?
        for index in 0..<batch.count {
            switch SinkRecord.copy(pointers[index], index: index) {
            case .success(let record): records.append(record)
            case .failure(let error):
                refusal = error
            }
            if refusal != nil { break }
        }
        let outcome = records.isEmpty ? SendOutcome.allStored(0) : sender.send(records[...])
        if outcome.status != Status.ok {
            lastFailure = outcome.message
            return WriteResult(status: fail(SIEMError(outcome.status, outcome.message)), stored: outcome.stored)
        }
        lastFailure = nil
        if let refusal {
            return WriteResult(status: fail(refusal), stored: records.count)
        }
        return WriteResult(status: Status.ok, stored: batch.count)
    }

    // MARK: health

    /// What the last write learned; no network traffic (health must be cheap).
    func health() -> Int32 {
        guard sender != nil else { return fail(SIEMError(Status.internalError, "health called on an unconfigured instance")) }
        if let lastFailure { return fail(SIEMError(Status.retry, "last delivery failed: \(lastFailure)")) }
        return Status.ok
    }
}
