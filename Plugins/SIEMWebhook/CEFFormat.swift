/// ArcSight Common Event Format lines (Micro Focus "Implementing ArcSight CEF", rev. 25):
/// `CEF:0|Vendor|Product|Version|SignatureID|Name|Severity|Extension`.
///
/// Escaping: in the header `\` and `|` get a backslash and line breaks become spaces (the
/// header has no escape for them); in extension values `\` and `=` get a backslash and CR/LF
/// become `\r`/`\n`, so a hostile value can neither end the line nor forge a field. `msg`
/// carries the entry's canonical bytes, so the SIEM holds what the hash covers
/// (`hash = SHA-256(0x00 ‖ msg)`, `cs4`). Checkpoints are sent too (signature id
/// `laforge.checkpoint`), so the SIEM can compare tree roots with the signed notes.
struct CEFFormat: BodyFormat {
    let settings: SIEMWebhookConfig.CEF

    init(_ settings: SIEMWebhookConfig.CEF) { self.settings = settings }

    var contentType: String { "text/plain; charset=utf-8" }
    var overhead: Int { 0 }

    func encode(_ record: SinkRecord, chain: ChainName) -> [UInt8] {
        Array((line(record, chain: chain.text) + "\n").utf8)
    }

    func body(_ pieces: ArraySlice<[UInt8]>) -> [UInt8] {
        var body: [UInt8] = []
        for piece in pieces { body.append(contentsOf: piece) }
        return body
    }

    /// The CEF line without a line terminator.
    func line(_ record: SinkRecord, chain: String) -> String {
        var extensions: [(String, String)] = []
        let signature: String
        let name: String
        let severity: Int
        switch record.kind {
        case .entry:
            let event = record.event()
            let action = event?.member("action")?.stringText ?? "unknown"
            let outcome = event?.member("outcome")?.stringText ?? "success"
            signature = action
            name = "audit \(action)"
            severity = outcome == "denied" ? 8 : outcome == "failure" ? 6 : 3
            if let timestamp = event?.member("timestamp")?.stringText, let micros = AuditTime.epochMicroseconds(timestamp) {
                extensions.append(("rt", String(micros / 1000)))
            }
            if let actor = event?.member("actor") {
                if let user = actor.member("user")?.stringText { extensions.append(("suser", user)) }
                if case .array(let roles)? = actor.member("roles") {
                    extensions.append(("cs6Label", "roles"))
                    extensions.append(("cs6", roles.compactMap(\.stringText).joined(separator: ",")))
                }
            }
            extensions.append(("act", action))
            extensions.append(("outcome", outcome))
            extensions.append(("externalId", String(record.seq)))
            if let target = event?.member("target")?.stringText {
                extensions.append(("cs1Label", "target"))
                extensions.append(("cs1", target))
            }
            if let tenant = event?.member("tenant")?.stringText {
                extensions.append(("cs2Label", "tenant"))
                extensions.append(("cs2", tenant))
            }
            if let request = event?.member("request_id")?.stringText {
                extensions.append(("cs3Label", "request_id"))
                extensions.append(("cs3", request))
            }
            if let artifact = event?.member("artifact_hash")?.stringText {
                extensions.append(("cs5Label", "artifact_hash"))
                extensions.append(("cs5", artifact))
            }
        case .checkpoint:
            signature = "laforge.checkpoint"
            name = "audit checkpoint"
            severity = 1
            extensions.append(("cn1Label", "tree_size"))
            extensions.append(("cn1", String(record.seq)))
        }
        extensions.append(("cs4Label", record.kind == .entry ? "entry_hash" : "root_hash"))
        extensions.append(("cs4", record.hashHex))
        extensions.append(("deviceExternalId", chain))
        extensions.append(("msg", String(decoding: record.data, as: UTF8.self)))

        var text = "CEF:0|\(Self.header(settings.vendor))|\(Self.header(settings.product))|\(Self.header(settings.version))|"
        text += "\(Self.header(signature))|\(Self.header(name))|\(severity)|"
        text += extensions.map { "\($0.0)=\(Self.extensionValue($0.1))" }.joined(separator: " ")
        return text
    }

    static func header(_ value: String) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count)
        for character in value.unicodeScalars {
            switch character {
            case "\\": out += "\\\\"
            case "|": out += "\\|"
            case "\r", "\n": out += " "
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }

    static func extensionValue(_ value: String) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count)
        for character in value.unicodeScalars {
            switch character {
            case "\\": out += "\\\\"
            case "=": out += "\\="
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }
}

extension JSONValue {
    var stringText: String? {
        if case .string(let text) = self { return text }
        return nil
    }
}
