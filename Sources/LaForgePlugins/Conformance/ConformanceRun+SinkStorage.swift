import Foundation

/// The audit-sink checks on what the sink stored rather than on what write answered: the records
/// read back byte for byte, and a restarted instance on the same storage that takes a re-sent
/// batch without storing it twice (what the host does after a crash).
extension ConformanceRun {
    /// One record as read back, copied out of the visit.
    struct ReadBackRecord: Equatable {
        var kind: UInt32
        var seq: UInt64
        var data: [UInt8]
    }

    func readBack(_ sink: AuditSinkInstance, chainID: String) -> Result<[ReadBackRecord], PluginCallError> {
        var records: [ReadBackRecord] = []
        do {
            try sink.readBack(chainID: chainID, from: 0) { record in
                records.append(ReadBackRecord(kind: record.rawKind, seq: record.seq, data: [UInt8](record.data)))
                return true
            }
        } catch {
            return .failure(error)
        }
        return .success(records)
    }

    /// What is wrong with `found` as the storage of `batch`'s records: each exactly once, with the
    /// bytes written, entries in seq order; nil when nothing is.
    func readBackProblem(_ found: [ReadBackRecord], of batch: AuditBatch) -> String? {
        func name(_ kind: UInt32, _ seq: UInt64) -> String {
            kind == AuditRecordKind.checkpoint.rawValue ? "the checkpoint of size \(seq)" : "entry \(seq)"
        }
        for record in batch.records {
            let copies = found.filter { $0.kind == record.kind.rawValue && $0.seq == record.seq }
            if copies.isEmpty { return "\(name(record.kind.rawValue, record.seq)) that write stored is not read back" }
            if copies.count > 1 {
                return "\(name(record.kind.rawValue, record.seq)) is read back \(copies.count) times: a re-sent record was stored again"
            }
            if copies[0].data != record.data {
                return "\(name(record.kind.rawValue, record.seq)) is read back with other bytes than written (\(copies[0].data.count) bytes, written \(record.data.count)): store the data byte for byte"
            }
        }
        let entrySeqs = found.filter { $0.kind == AuditRecordKind.entry.rawValue }.map(\.seq)
        if entrySeqs != entrySeqs.sorted() { return "entries are read back out of seq order (\(entrySeqs))" }
        return nil
    }

    func checkReadBack(_ sink: AuditSinkInstance, batch: AuditBatch, stored: Bool, log: inout ConformanceLog) {
        let capability = PluginCapability.auditSink
        guard library.descriptor.auditSink?.read_back != nil else {
            log.skip(capability, "read-back", "read_back is NULL: `verify chain --sink` cannot read this sink's copy")
            return
        }
        guard stored else {
            log.skip(capability, "read-back", "the batch was never stored (see batch), so there is nothing to read back")
            return
        }
        switch readBack(sink, chainID: batch.chainID) {
        case .failure(let error):
            log.fail(capability, "read-back", "read_back failed after the batch was stored: \(error.message)")
        case .success(let found):
            if let problem = readBackProblem(found, of: batch) {
                log.fail(capability, "read-back", problem)
            } else {
                log.pass(
                    capability, "read-back",
                    "read_back returned the \(batch.count) records written, byte for byte, each once, after the batch was sent twice")
            }
        }
    }

    /// Destroy, create again on the same storage (the first configuration), re-send the batch:
    /// it must be accepted and, where the sink can be read back, still be stored once.
    func checkRestartOnTheSameStorage(batch: AuditBatch, stored: Bool, configs: Configs, log: inout ConformanceLog) {
        let capability = PluginCapability.auditSink
        guard stored else {
            log.skip(capability, "restart", "the batch was never stored (see batch), so a restart could not be tried")
            return
        }
        let name = instanceName(capability, "restarted")
        let restarted: AuditSinkInstance
        do {
            restarted = try AuditSinkInstance(name: name, library: library, configJSON: configs.first, context: context(name))
        } catch {
            log.fail(
                capability, "restart",
                "create failed on the storage of a destroyed instance (as after a host restart): \(error.message)")
            return
        }
        defer { restarted.close() }
        switch Result(catching: { () throws(PluginCallError) -> SinkWriteOutcome in try restarted.write(batch) }) {
        case .success(.stored):
            break
        case .success(let outcome):
            log.fail(
                capability, "restart",
                "after a restart on the same storage, the re-sent batch was answered \(outcome) instead of OK: a crash between store and acknowledge re-sends it"
            )
            return
        case .failure(let error):
            log.fail(capability, "restart", "after a restart, re-sending the stored batch broke the contract: \(error.message)")
            return
        }
        guard library.descriptor.auditSink?.read_back != nil else {
            log.pass(capability, "restart", "a new instance on the same storage accepted the re-sent batch (no read_back to confirm it was stored once)")
            return
        }
        switch readBack(restarted, chainID: batch.chainID) {
        case .failure(let error):
            log.fail(capability, "restart", "read_back failed on the restarted instance: \(error.message)")
        case .success(let found):
            if let problem = readBackProblem(found, of: batch) {
                log.fail(capability, "restart", "after a restart and a re-send, \(problem)")
            } else {
                log.pass(capability, "restart", "a new instance on the same storage took the re-sent batch and still holds each record once")
            }
        }
    }
}
