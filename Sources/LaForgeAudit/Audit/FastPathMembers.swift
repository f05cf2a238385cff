/// Thrown inside the NDJSON fast paths (`AuditEventDecoder`, `AuditEventTranscoder`) when a line
/// is unusual: they step aside and the general path decides, naming the error.
struct FastPathStepsAside: Error {}

/// Which known members an object had so far: a repeated one is unusual (the general path names
/// it). A bit per member, not a set of strings: hashing keys was a tenth of decoding.
struct FastPathMemberSet {
    private var bits: UInt16 = 0

    mutating func first(_ member: Int) throws {
        let bit: UInt16 = 1 << member
        guard bits & bit == 0 else { throw FastPathStepsAside() }
        bits |= bit
    }
}
