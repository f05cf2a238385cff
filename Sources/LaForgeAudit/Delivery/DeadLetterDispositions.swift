import Foundation
import LaForgeCore

/// `<state_dir>/deadletter/<sink>.dispositions.ndjson`: what was decided about each dead letter,
/// one synced JSON line per step, naming the dead letter by its line in the dead-letter file.
/// The dead-letter file itself is never rewritten (it is the evidence of the refusal); this
/// file is the durable progress of `laforge deadletter replay` and the record of purges.
///
/// A replay writes `sending` before it hands a record to the sink and `replayed` once the sink
/// stored it. A process killed in between leaves `sending` last: the record is in doubt and the
/// next replay sends it again, which a sink must take as storing it once (ABI.md, idempotency).
/// A sink that answers without storing it (PERMANENT_ERROR again, ACCESS_DENIED, RETRY until the
/// replay gives up) gets `refused`: the dead letter is simply open again.
public struct DeadLetterDispositions: Sendable {
    public let path: String

    public init(stateDirectory: String, sink: String) {
        path = (stateDirectory as NSString).appendingPathComponent("deadletter/\(sink).dispositions.ndjson")
    }

    public enum Step: String, Sendable {
        case sending, replayed, purged
        /// The sink answered and did not store it: open again, not in doubt.
        case refused
    }

    /// The last step recorded for each dead-letter line.
    public func read() throws(DeadLetterError) -> [Int: Step] {
        guard FileManager.default.fileExists(atPath: path) else { return [:] }
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw DeadLetterError(.storage, "\(path): cannot read: \(error.localizedDescription)")
        }
        var steps: [Int: Step] = [:]
        for (index, line) in DeadLetterFile.completeLines(text).enumerated() where !line.isEmpty {
            guard let value = try? JSONParser.parse(Array(line.utf8)), let deadLetterLine = value["line"]?.intValue,
                let step = value["step"]?.stringValue.flatMap(Step.init(rawValue:))
            else {
                throw DeadLetterError(.corrupt, "\(path):\(index + 1): not a disposition line (needs \"line\" and \"step\": sending, replayed, refused or purged)")
            }
            // A purge is final; a later replay line for the same dead letter cannot undo it.
            if steps[deadLetterLine] == .purged { continue }
            steps[deadLetterLine] = step
        }
        return steps
    }

    /// Records `step` for the dead-letter lines given, durably, before returning.
    public func record(_ step: Step, lines: [Int], details: [String: JSONValue] = [:]) throws(DeadLetterError) {
        for line in lines {
            var object = details
            object["line"] = .number(Double(line))
            object["step"] = .string(step.rawValue)
            object["time"] = .string(AuditTimestamp.now().description)
            do { try DeadLetterFile.appendDurably(.object(object), to: path) } catch {
                throw DeadLetterError(.storage, "\(path): cannot record that dead-letter line \(line) is \(step.rawValue): \(error)")
            }
        }
    }

    static func state(of step: Step?) -> DeadLetterState {
        switch step {
        case nil, .refused: return .pending
        case .sending: return .inDoubt
        case .replayed: return .replayed
        case .purged: return .purged
        }
    }
}
