/// A failure inside the sink, carried to the ABI edge as a status code and the text that
/// `last_error` returns. Messages name URLs, fields and HTTP statuses, never secret values.
typealias SIEMError = PluginError

extension SIEMError {
    static func invalidConfig(_ message: String) -> SIEMError {
        SIEMError(Status.invalidArgument, "invalid SIEMWebhook configuration: \(message)")
    }
}

/// What a sender achieved with the records it was given: the count of leading records the
/// receiver stored (acknowledged), and the status for the host (`write`'s `*stored` contract).
struct SendOutcome {
    var stored: Int
    var status: Int32
    var message: String

    static func allStored(_ count: Int) -> SendOutcome { SendOutcome(stored: count, status: Status.ok, message: "") }
    static func retry(stored: Int, _ message: String) -> SendOutcome { SendOutcome(stored: stored, status: Status.retry, message: message) }
    static func refused(stored: Int, _ message: String) -> SendOutcome {
        SendOutcome(stored: stored, status: Status.accessDenied, message: message)
    }
    static func permanent(at index: Int, _ message: String) -> SendOutcome {
        SendOutcome(stored: index, status: Status.permanentError, message: message)
    }

    /// This outcome for records that start `offset` records into a larger batch.
    func shifted(by offset: Int) -> SendOutcome { SendOutcome(stored: stored + offset, status: status, message: message) }
}

/// Turns records into the receiver's writes. One per instance, called serially.
protocol RecordSender: AnyObject {
    func send(_ records: ArraySlice<SinkRecord>) -> SendOutcome
}
