/// Where an entry sits in its source, kept as parts and rendered (`journal seq 41`,
/// `audit.ndjson.2:17`) only when a message names it. The verifier remembers the previous
/// entry's location for every entry, because a broken link is reported at the entry before it;
/// building that string per entry cost more than parsing the entry.
public struct EntryLocation: Sendable, CustomStringConvertible {
    private enum Place: Sendable {
        case described(String)
        case journal(seq: UInt64)
        case line(Int, file: String)
    }

    private let place: Place

    /// A location given as text.
    public static func described(_ text: String) -> EntryLocation { EntryLocation(place: .described(text)) }

    /// `journal seq N`.
    public static func journal(seq: UInt64) -> EntryLocation { EntryLocation(place: .journal(seq: seq)) }

    /// `PATH:LINE`, lines counted from 1.
    public static func line(_ number: Int, of file: String) -> EntryLocation {
        EntryLocation(place: .line(number, file: file))
    }

    public var description: String {
        switch place {
        case .described(let text): text
        case .journal(let seq): "journal seq \(seq)"
        case .line(let number, let file): "\(file):\(number)"
        }
    }
}
