import HTTPClient

#if canImport(Glibc)
    import Glibc
#endif

/// CEF over syslog to a collector (ArcSight SmartConnector, QRadar, syslog-ng, rsyslog): RFC 5424
/// messages, each framed by its octet count (RFC 5425 §4.3, `MSG-LEN SP SYSLOG-MSG`), on one
/// TCP or TLS connection through the shared client's stream.
///
/// Syslog has no acknowledgement: records count as stored once the kernel accepted every byte
/// of their frames. A connection that breaks after that can lose what was in flight; the
/// collector's own disk buffer is what covers that gap (docs/SIEM.md says so).
final class SyslogTransport: RecordSender {
    private let connection: StreamConnection
    private let format: CEFFormat
    private let settings: SIEMWebhookConfig.Syslog
    private let chunker: RequestChunker
    private let display: String
    private let hostname: String
    private let chain: () -> String

    init(
        connection: StreamConnection, format: CEFFormat, settings: SIEMWebhookConfig.Syslog, chunker: RequestChunker, display: String,
        chain: @escaping () -> String
    ) {
        self.connection = connection
        self.format = format
        self.settings = settings
        self.chunker = chunker
        self.display = display
        self.chain = chain
        hostname = Self.printableASCII(settings.hostname ?? Self.systemHostname(), limit: 255)
    }

    func send(_ records: ArraySlice<SinkRecord>) -> SendOutcome {
        let chainID = ChainName(chain())
        let frames = records.map { frame($0, chainID: chainID) }
        let sizes = frames.map(\.count)
        var start = 0
        while start < frames.count {
            let end = chunker.end(from: start, sizes: sizes)
            var bytes: [UInt8] = []
            bytes.reserveCapacity(sizes[start..<end].reduce(0, +))
            for frame in frames[start..<end] { bytes.append(contentsOf: frame) }
            do {
                try connection.send(bytes)
            } catch {
                return .retry(stored: start, "syslog \(display): \(error.message)")
            }
            start = end
        }
        return .allStored(frames.count)
    }

    /// `<len> <PRI>1 TIMESTAMP HOSTNAME APP-NAME - MSGID - CEF:…`
    func frame(_ record: SinkRecord, chainID: ChainName) -> [UInt8] {
        let event = record.event()
        let outcome = event?.member("outcome")?.stringText
        // Severity: 4 warning for refused or failed actions, 6 informational otherwise.
        let severity = outcome == "failure" || outcome == "denied" ? 4 : 6
        let timestamp = event?.member("timestamp")?.stringText ?? AuditTime.nowRFC3339()
        let messageID = record.kind == .entry ? "audit" : "checkpoint"
        let header = "<\(settings.facility * 8 + severity)>1 \(timestamp) \(hostname) \(Self.printableASCII(settings.appName, limit: 48)) - \(messageID) - "
        let message = Array((header + format.line(record, chain: chainID.text)).utf8)
        return Array("\(message.count) ".utf8) + message
    }

    static func systemHostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "-" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "-" : name
    }

    /// RFC 5424 header fields are PRINTUSASCII (33…126).
    static func printableASCII(_ text: String, limit: Int) -> String {
        let cleaned = String(text.unicodeScalars.filter { $0.value >= 33 && $0.value <= 126 }.prefix(limit).map(Character.init))
        return cleaned.isEmpty ? "-" : cleaned
    }
}
