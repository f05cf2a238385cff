/// The results of one conformance run, appended in the order the checks ran.
struct ConformanceLog {
    private(set) var results: [ConformanceResult] = []

    mutating func record(
        _ capability: PluginCapability?, _ check: String, _ outcome: ConformanceResult.Outcome, _ detail: String
    ) {
        results.append(
            ConformanceResult(capability: capability?.rawValue, check: check, outcome: outcome, detail: detail))
    }

    mutating func pass(_ capability: PluginCapability?, _ check: String, _ detail: String) {
        record(capability, check, .pass, detail)
    }

    mutating func fail(_ capability: PluginCapability?, _ check: String, _ detail: String) {
        record(capability, check, .fail, detail)
    }

    mutating func warn(_ capability: PluginCapability?, _ check: String, _ detail: String) {
        record(capability, check, .warn, detail)
    }

    mutating func skip(_ capability: PluginCapability?, _ check: String, _ detail: String) {
        record(capability, check, .skip, detail)
    }
}
