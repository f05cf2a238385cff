/// Segment files are named after the seq of their first frame, zero-padded to 20 digits so that
/// a directory listing sorts them in chain order: `entries-00000000000000000000.seg`.
enum SegmentName {
    static let prefix = "entries-"
    static let suffix = ".seg"

    static func fileName(firstSeq: UInt64) -> String {
        let digits = String(firstSeq)
        return prefix + String(repeating: "0", count: 20 - digits.count) + digits + suffix
    }

    enum Parsed: Equatable {
        case segment(firstSeq: UInt64)
        /// Looks like a segment but is not one we wrote: a hard error, not something to skip.
        case malformed
        case otherFile
    }

    static func parse(_ name: String) -> Parsed {
        guard name.hasPrefix(prefix), name.hasSuffix(suffix) else { return .otherFile }
        let digits = name.dropFirst(prefix.count).dropLast(suffix.count)
        guard digits.count == 20, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let seq = UInt64(digits) else {
            return .malformed
        }
        return .segment(firstSeq: seq)
    }
}
