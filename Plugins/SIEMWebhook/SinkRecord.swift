import PluginABI

/// One record of a host batch, copied out of the borrowed C structs, with the JSON envelope the
/// HTTP formats send for it.
struct SinkRecord {
    enum Kind: String {
        case entry
        case checkpoint
    }

    var kind: Kind
    /// Entry: its seq. Checkpoint: the tree size it covers.
    var seq: UInt64
    var hash: [UInt8]
    var hashHex: String
    /// Entry: its RFC 8785 canonical bytes. Checkpoint: the signed note.
    var data: [UInt8]

    /// Identifies this record across write calls (Splunk acks in flight, re-sent batches).
    var key: String { "\(kind.rawValue):\(seq):\(hashHex)" }

    /// The idempotency key a receiver dedups on: the entry hash (Elastic `_id`, `webhook-id`).
    /// Checkpoints are keyed by size and root, which two different checkpoints never share.
    var idempotencyKey: String {
        kind == .entry ? hashHex : "checkpoint-\(seq)-\(hashHex)"
    }

    /// The envelope every JSON format sends (keys sorted, no whitespace):
    /// `{"chain":…,"entry":<canonical entry bytes, verbatim>,"hash":…,"kind":"entry","seq":N}` or
    /// `{"chain":…,"checkpoint":"<note>","hash":<root>,"kind":"checkpoint","seq":<tree size>}`.
    /// The entry is embedded byte for byte, so a receiver can recompute its hash. Built from
    /// constant byte strings: this runs once per record on the delivery path.
    func appendEnvelope(chain: ChainName, to out: inout [UInt8]) {
        out.append(contentsOf: Envelope.chainKey)
        out.append(contentsOf: chain.json)
        switch kind {
        case .entry:
            out.append(contentsOf: Envelope.entryKey)
            out.append(contentsOf: data)
        case .checkpoint:
            out.append(contentsOf: Envelope.checkpointKey)
            JSONText.appendString(String(decoding: data, as: UTF8.self), to: &out)
        }
        out.append(contentsOf: Envelope.hashKey)
        out.append(contentsOf: hashHex.utf8)
        out.append(contentsOf: kind == .entry ? Envelope.entryKind : Envelope.checkpointKind)
        out.append(contentsOf: String(seq).utf8)
        out.append(UInt8(ascii: "}"))
    }

    /// An upper bound of the envelope's size, for reserving buffers.
    var envelopeCapacity: Int { data.count + (kind == .checkpoint ? data.count / 8 + 16 : 0) + 160 }

    /// The entry's `event` object (nil for a checkpoint or an entry that does not parse).
    func event() -> JSONValue? {
        guard kind == .entry, let entry = try? JSONReader.parse(data) else { return nil }
        return entry.member("event")
    }

    /// Copies record `index` of a host batch by the size rule; nil with a reason when it can
    /// never be sent (no hash, no data, unknown kind).
    static func copy(_ pointer: UnsafePointer<laforge_audit_record>?, index: Int) -> Result<SinkRecord, SIEMError> {
        guard let pointer else { return .failure(SIEMError(Status.permanentError, "record \(index) of the batch is NULL")) }
        let record = copySizePrefixed(UnsafeRawPointer(pointer), into: laforge_audit_record())
        let kind: Kind
        switch record.kind {
        case UInt32(LAFORGE_RECORD_ENTRY.rawValue): kind = .entry
        case UInt32(LAFORGE_RECORD_CHECKPOINT.rawValue): kind = .checkpoint
        default:
            return .failure(SIEMError(Status.permanentError, "record seq \(record.seq) has kind \(record.kind), which this plugin does not know"))
        }
        guard let hashPointer = record.hash else {
            return .failure(SIEMError(Status.permanentError, "\(kind.rawValue) \(record.seq) has no hash"))
        }
        guard record.data_len > 0, let dataPointer = record.data else {
            return .failure(SIEMError(Status.permanentError, "\(kind.rawValue) \(record.seq) has no data"))
        }
        let hash = Array(UnsafeBufferPointer(start: hashPointer, count: 32))
        let data = Array(UnsafeRawBufferPointer(start: dataPointer, count: record.data_len))
        if kind == .checkpoint, String(validating: data, as: UTF8.self) == nil {
            return .failure(SIEMError(Status.permanentError, "checkpoint of size \(record.seq) is not valid UTF-8"))
        }
        return .success(SinkRecord(kind: kind, seq: record.seq, hash: hash, hashHex: Hex.encode(hash), data: data))
    }
}

/// The batch's chain id, and its JSON string form (escaped once per batch, not per record).
struct ChainName {
    let text: String
    let json: [UInt8]

    init(_ text: String) {
        self.text = text
        var json: [UInt8] = []
        JSONText.appendString(text, to: &json)
        self.json = json
    }
}

/// The envelope's constant parts.
private enum Envelope {
    static let chainKey = Array("{\"chain\":".utf8)
    static let entryKey = Array(",\"entry\":".utf8)
    static let checkpointKey = Array(",\"checkpoint\":".utf8)
    static let hashKey = Array(",\"hash\":\"".utf8)
    static let entryKind = Array("\",\"kind\":\"entry\",\"seq\":".utf8)
    static let checkpointKind = Array("\",\"kind\":\"checkpoint\",\"seq\":".utf8)
}

enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        String(unsafeUninitializedCapacity: bytes.count * 2) { buffer in
            for (index, byte) in bytes.enumerated() {
                buffer[2 * index] = digits[Int(byte >> 4)]
                buffer[2 * index + 1] = digits[Int(byte & 0x0F)]
            }
            return bytes.count * 2
        }
    }
}
