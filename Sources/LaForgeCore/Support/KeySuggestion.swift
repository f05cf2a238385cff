/// The valid key a mistyped `key` most likely meant: the one at the smallest edit distance if that
/// distance is at most 2, else one that `key` is a prefix of (or that is a prefix of `key`), else
/// nil. Comparison ignores case, so `Sinks` suggests `sinks`.
package func closestMatch(to key: String, in candidates: [String]) -> String? {
    let typed = key.lowercased()
    var best: (candidate: String, distance: Int)?
    for candidate in candidates {
        let distance = editDistance(typed, candidate.lowercased())
        if distance <= 2, distance < (best?.distance ?? .max) {
            best = (candidate, distance)
        }
    }
    if let best { return best.candidate }
    guard !typed.isEmpty else { return nil }
    return candidates.first { candidate in
        let valid = candidate.lowercased()
        return valid.hasPrefix(typed) || typed.hasPrefix(valid)
    }
}

/// Levenshtein distance over Unicode scalars (insert, delete, substitute each cost 1).
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a.unicodeScalars)
    let b = Array(b.unicodeScalars)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
            current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
