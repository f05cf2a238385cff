import LaForgeAudit
import LaForgeCore
import LaForgeJournal
import LaForgePlugins
import Logging

/// Records snapshot, approval and guard events in the audit log of a configuration: the journal
/// is the tamper-evident witness that a snapshot was signed or approved (verification
/// cross-checks the chain against it). Sinks receive the events with the next delivery.
enum SnapshotAuditTrail {
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
