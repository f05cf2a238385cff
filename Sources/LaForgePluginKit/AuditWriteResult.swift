/// What an audit sink's `write` answers: the ABI status, and how many leading records of the
/// batch are durably stored (`*stored`, ABI.md "write: the *stored contract").
public struct AuditWriteResult: Sendable {
    public var status: Int32
    public var stored: Int

    public init(status: Int32, stored: Int) {
        self.status = status
        self.stored = stored
    }
}
