import LaForgeCore
import LaForgePlugins

// How the permission rules that `identity.roles` declares (LaForgePlugins/Config) are evaluated
// against a principal: the configuration owns their shape, identity owns their meaning.

extension PermissionRule {
    /// Nil when the rule applies, else why not (the first reason found).
    func applies(to principal: Principal, action: String, resource: String) -> Bool {
        guard actions.contains(where: { GlobPattern.matches($0, action) }) else { return false }
        guard resources.contains(where: { pattern in
            guard let concrete = Self.substitute(pattern, principal) else { return false }
            return GlobPattern.matches(concrete, resource)
        }) else { return false }
        return conditions.allSatisfy { $0.holds(for: principal) }
    }

    static func substitute(_ pattern: String, _ principal: Principal) -> String? {
        var result = pattern
        for (placeholder, value) in [("{tenant}", principal.tenant), ("{org}", principal.org), ("{subject}", Optional(principal.subject))]
        where result.contains(placeholder) {
            // A value with a wildcard or separator could widen the pattern: refuse it.
            guard let value, !value.isEmpty, !value.contains("*"), !value.contains("/") else { return nil }
            result = result.split(separator: placeholder, omittingEmptySubsequences: false).joined(separator: value)
        }
        return result
    }
}

extension ClaimCondition {
    func holds(for principal: Principal) -> Bool {
        let value: JSONValue?
        switch claim {
        case "tenant": value = principal.tenant.map(JSONValue.string)
        case "org": value = principal.org.map(JSONValue.string)
        case "subject": value = .string(principal.subject)
        default: value = ClaimPath.lookup(claim, in: principal.claims)
        }
        switch test {
        case .present(let expected): return (value != nil) == expected
        case .equals(let expected):
            guard let value else { return false }
            return JSONCanonicalizer.canonicalize(value) == JSONCanonicalizer.canonicalize(expected)
        case .isOneOf(let options):
            guard let value else { return false }
            let bytes = JSONCanonicalizer.canonicalize(value)
            return options.contains { JSONCanonicalizer.canonicalize($0) == bytes }
        case .matches(let regex):
            guard let text = value.flatMap(ClaimPath.text) else { return false }
            return (try? regex.wholeMatch(in: text)) != nil
        }
    }
}

/// `*` matches any run of characters (also none); everything else matches itself.
enum GlobPattern {
    static func matches(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern.utf8)
        let t = Array(text.utf8)
        var pi = 0, ti = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count, p[pi] == UInt8(ascii: "*") {
                star = pi
                mark = ti
                pi += 1
            } else if pi < p.count, p[pi] == t[ti] {
                pi += 1
                ti += 1
            } else if star >= 0 {
                pi = star + 1
                mark += 1
                ti = mark
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }
}
