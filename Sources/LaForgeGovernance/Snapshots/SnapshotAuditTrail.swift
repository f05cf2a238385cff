import LaForgeAudit
import LaForgeCore
import LaForgeJournal
import LaForgePlugins
import Logging

/// Records snapshot, approval and guard events in the audit log of a configuration: the journal
/// is the tamper-evident witness that a snapshot was signed or approved (verification
/// cross-checks the chain against it). Sinks receive the events with the next delivery.
enum SnapshotAuditTrail {
    /// Opens the audit log of `config` before anything is stored, so a journal that cannot take
    /// the event stops the command while nothing is written (a record is never stored without
    /// its event). The caller emits, then stores the record, then closes the log.
    static func open(config: LaForgeConfig, logger: Logger) throws(SnapshotError) -> AuditLog {
        do { return try AuditLog.open(config: config, logger: logger) } catch { throw SnapshotError(error) }
    }

    /// Emits `events` into an open log; on failure the log is closed without a checkpoint.
    static func emit(_ events: [AuditEvent], into log: AuditLog) throws(SnapshotError) -> [JournalEntryReceipt] {
        do { return try log.emit(events) } catch {
            log.journal.close()
            throw SnapshotError(error)
        }
    }

    /// Closes the log (signing a checkpoint over the events when the key is available).
    static func close(_ log: AuditLog) throws(SnapshotError) {
        do { try log.close() } catch { throw SnapshotError(error) }
    }

    /// Emits `events` as one group and closes the log (signing a checkpoint that covers them).
    /// Returns the log's notices (a generated key) and the receipts.
    static func record(_ events: [AuditEvent], config: LaForgeConfig, logger: Logger) throws(SnapshotError)
        -> (receipts: [JournalEntryReceipt], notices: [String])
    {
        do throws(AuditLogError) {
            let log = try AuditLog.open(config: config, logger: logger)
            let receipts: [JournalEntryReceipt]
            do { receipts = try log.emit(events) } catch {
                log.journal.close()
                throw error
            }
            try log.close()
            return (receipts, log.notices)
        } catch {
            throw SnapshotError(error)
        }
    }
}
