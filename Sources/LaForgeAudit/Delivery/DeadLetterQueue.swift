import Foundation
import LaForgeCore
import LaForgeJournal
import LaForgePlugins

/// One sink's dead letters with where each stands: the dead-letter file (what was refused)
/// read together with its dispositions (what was done since).
public struct DeadLetterQueue: Sendable {
    public let sink: String
    public let file: DeadLetterFile
    public let dispositions: DeadLetterDispositions

    public init(stateDirectory: String, sink: String) {
        self.sink = sink
        file = DeadLetterFile(stateDirectory: stateDirectory, sink: sink)
        dispositions = DeadLetterDispositions(stateDirectory: stateDirectory, sink: sink)
    }

    /// The sinks that have a dead-letter file, with the configured ones first (a sink removed
    /// from the configuration keeps its dead letters, and they must still be listed).
    public static func sinks(stateDirectory: String, configured: [String]) -> [String] {
        let directory = (stateDirectory as NSString).appendingPathComponent("deadletter")
        let onDisk = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasSuffix(".ndjson") && !$0.hasSuffix(".dispositions.ndjson") }
            .map { String($0.dropLast(".ndjson".count)) }
        return configured + onDisk.filter { !configured.contains($0) }.sorted()
    }

    /// Every dead letter with its state, in the order the sink refused them.
    public func letters() throws(DeadLetterError) -> [(letter: DeadLetter, state: DeadLetterState)] {
        let steps = try dispositions.read()
        return try file.read().map { ($0, DeadLetterDispositions.state(of: steps[$0.line])) }
    }

    /// The dead letters still to replay or purge (pending or in doubt).
    public func open() throws(DeadLetterError) -> [(letter: DeadLetter, state: DeadLetterState)] {
        try letters().filter { $0.state.isOpen }
    }

    /// The lines for `ids` (every line naming one of them; a record refused twice has two), or
    /// every line when `ids` is nil. An id with no line is `.notFound`, naming the file.
    public func select(_ ids: [DeadLetter.RecordID]?, openOnly: Bool) throws(DeadLetterError) -> [(letter: DeadLetter, state: DeadLetterState)] {
        let all = try openOnly ? open() : letters()
        guard let ids else { return all }
        for id in ids where !all.contains(where: { $0.letter.id == id }) {
            let exists = try letters().contains { $0.letter.id == id }
            throw DeadLetterError(
                .notFound,
                exists
                    ? "sink \(sink): the dead letter \(id) was already replayed or purged (see `laforge deadletter show \(sink) \(id)`)"
                    : "sink \(sink) has no dead letter \(id) in \(file.path)")
        }
        return all.filter { ids.contains($0.letter.id) }
    }

    /// Marks `ids` (nil: every open one) purged after recording the decision as an
    /// `audit.dead_letter_purged` event by `actor` with `reason`: the chain says who gave up on
    /// which records and why, before anything is marked. Returns the lines purged.
    public func purge(
        _ ids: [DeadLetter.RecordID]?, log: AuditLog, actor: AuditActor, reason: String
    ) throws(DeadLetterError) -> [DeadLetter] {
        let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty else { throw DeadLetterError(.configuration, "a purge needs a reason (--reason TEXT): it is recorded in the audit chain") }
        let selected = try select(ids, openOnly: true).map(\.letter)
        guard !selected.isEmpty else { return [] }
        let event = AuditEvent(
            actor: actor, action: "audit.dead_letter_purged", outcome: .success, target: "sink:\(sink)",
            data: [
                "reason": .string(String(reason.prefix(1024))),
                "records": .array(selected.map { .object(["id": .string($0.id.description), "hash": .string($0.hash)]) }),
                "dead_letter_file": .string(file.path),
            ])
        let receipt: JournalEntryReceipt?
        do { receipt = try log.emit(event) } catch {
            throw DeadLetterError(.storage, "the purge could not be recorded in the audit chain, so nothing was purged: \(error)")
        }
        var details: [String: JSONValue] = ["actor": .string(actor.user), "reason": .string(String(reason.prefix(1024)))]
        if let receipt { details["event_seq"] = .number(Double(receipt.seq)) }
        try dispositions.record(.purged, lines: selected.map(\.line), details: details)
        return selected
    }
}
