import LaForgeCore

/// One finding of the conformance kit: which check, on which capability, and a sentence a
/// plugin author can act on.
public struct ConformanceResult: Sendable, Equatable {
    public enum Outcome: String, Sendable, CaseIterable {
        /// The plugin does what the ABI asks.
        case pass
        /// The plugin breaks the ABI contract; the host would misbehave or refuse it.
        case fail
        /// Legal, but likely to hurt a user (no license, a schema that accepts typos, ...).
        case warn
        /// Not applicable (an optional function is NULL) or impossible after an earlier failure.
        case skip
    }

    /// `audit_sink` or `secret_backend`; nil for checks of the library as a whole.
    public var capability: String?
    /// A short stable identifier such as `empty-batch`, for tools and tests.
    public var check: String
    public var outcome: Outcome
    /// A complete sentence. Never contains a secret value.
    public var detail: String

    public init(capability: String?, check: String, outcome: Outcome, detail: String) {
        self.capability = capability
        self.check = check
        self.outcome = outcome
        self.detail = detail
    }

    public func jsonValue() -> JSONValue {
        .object([
            "capability": capability.map(JSONValue.string) ?? .null,
            "check": .string(check),
            "outcome": .string(outcome.rawValue),
            "detail": .string(detail),
        ])
    }
}

/// Everything `PluginConformanceKit.run()` found about one library, in the order checked.
public struct ConformanceReport: Sendable {
    public var library: String
    public var results: [ConformanceResult]

    public init(library: String, results: [ConformanceResult]) {
        self.library = library
        self.results = results
    }

    public var passed: Int { count(.pass) }
    public var failed: Int { count(.fail) }
    public var warnings: Int { count(.warn) }
    public var skipped: Int { count(.skip) }

    /// False when the library could not be loaded at all (the only result is a failed `load`);
    /// the CLI reports that with its own exit code.
    public var libraryLoaded: Bool {
        !results.contains { $0.capability == nil && $0.check == "load" && $0.outcome == .fail }
    }

    /// The report for `--json`: counts first, then every result in order.
    public func jsonValue() -> JSONValue {
        .object([
            "library": .string(library),
            "passed": .number(Double(passed)),
            "failed": .number(Double(failed)),
            "warnings": .number(Double(warnings)),
            "skipped": .number(Double(skipped)),
            "results": .array(results.map { $0.jsonValue() }),
        ])
    }

    private func count(_ outcome: ConformanceResult.Outcome) -> Int {
        results.reduce(0) { $0 + ($1.outcome == outcome ? 1 : 0) }
    }
}
