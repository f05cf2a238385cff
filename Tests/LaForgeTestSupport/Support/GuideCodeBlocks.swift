import Foundation

/// The fenced code blocks of one section of a guide in docs/, for the tests that check a guide's
/// code against the sources it quotes (a comment that drifts from the code is worse than none).
enum GuideCodeBlocks {
    /// The blocks fenced as `language` between the heading `## <section>` and the next `## `.
    static func blocks(in guide: String, section: String, language: String) throws -> [String] {
        guard let start = guide.range(of: "\n## \(section)\n") else { throw GuideSectionMissing(section: section) }
        let body = guide[start.upperBound...]
        let end = body.range(of: "\n## ")?.lowerBound ?? body.endIndex
        return body[..<end].components(separatedBy: "```\(language)\n").dropFirst()
            .map { $0.components(separatedBy: "\n```")[0] }
    }
}

struct GuideSectionMissing: Error, CustomStringConvertible {
    var section: String
    var description: String { "the guide has no section \"## \(section)\"" }
}
