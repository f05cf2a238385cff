import Foundation
import LaForgeHost
import NIOConcurrencyHelpers

/// The server's own metrics with real histogram buckets (the host registry keeps sums and
/// counts only): requests by route, method and status; latency by route; events per emit
/// request and the time an emit waited for its group commit.
final class RequestMetrics: Sendable {
    static let latencyBuckets: [Double] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
    static let sizeBuckets: [Double] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384]

    struct Histogram: Sendable {
        var bounds: [Double]
        var counts: [UInt64]
        var sum = 0.0
        var count: UInt64 = 0

        init(bounds: [Double]) {
            self.bounds = bounds
            counts = Array(repeating: 0, count: bounds.count)
        }

        mutating func observe(_ value: Double) {
            for (index, bound) in bounds.enumerated() where value <= bound { counts[index] += 1 }
            sum += value
            count += 1
        }
    }

    struct RequestKey: Hashable, Sendable {
        var route: String
        var method: String
        var status: Int
    }

    private struct State: Sendable {
        var requests: [RequestKey: UInt64] = [:]
        var latency: [String: Histogram] = [:]
        var refusals: [String: UInt64] = [:]
        var overloaded: UInt64 = 0
        var emitEvents = Histogram(bounds: RequestMetrics.sizeBuckets)
        var commitSeconds = Histogram(bounds: RequestMetrics.latencyBuckets)
    }

    private let state = NIOLockedValueBox(State())

    func request(route: String, method: String, status: Int, seconds: Double) {
        state.withLockedValue { state in
            state.requests[RequestKey(route: route, method: method, status: status), default: 0] += 1
            state.latency[route, default: Histogram(bounds: Self.latencyBuckets)].observe(seconds)
        }
    }

    func refused(reason: String) { state.withLockedValue { $0.refusals[reason, default: 0] += 1 } }

    func overloaded() { state.withLockedValue { $0.overloaded += 1 } }

    func emitted(events: Int, commitSeconds: Double) {
        state.withLockedValue {
            $0.emitEvents.observe(Double(events))
            $0.commitSeconds.observe(commitSeconds)
        }
    }

    /// The Prometheus text exposition (format 0.0.4) of these metrics.
    func render(into text: inout PrometheusText) {
        let snapshot = state.withLockedValue { $0 }
        text.family("laforge_serve_requests_total", .counter, "API requests answered, by route, method and status.")
        for (key, value) in snapshot.requests.sorted(by: { "\($0.key)" < "\($1.key)" }) {
            text.sample("laforge_serve_requests_total", ["route": key.route, "method": key.method, "status": String(key.status)], Double(value))
        }
        text.family("laforge_serve_request_duration_seconds", .histogram, "Time from request to response, by route.")
        for (route, histogram) in snapshot.latency.sorted(by: { $0.key < $1.key }) {
            text.histogram("laforge_serve_request_duration_seconds", ["route": route], histogram)
        }
        text.family("laforge_serve_refusals_total", .counter, "Requests refused with 403, by reason.")
        for (reason, value) in snapshot.refusals.sorted(by: { $0.key < $1.key }) {
            text.sample("laforge_serve_refusals_total", ["reason": reason], Double(value))
        }
        text.family("laforge_serve_overloaded_total", .counter, "Requests answered 503 because serve.max_in_flight were in progress.")
        text.sample("laforge_serve_overloaded_total", [:], Double(snapshot.overloaded))
        text.family("laforge_serve_emit_events", .histogram, "Events per emit request (each request is committed as one group member).")
        text.histogram("laforge_serve_emit_events", [:], snapshot.emitEvents)
        text.family("laforge_journal_commit_seconds", .histogram, "Time an emit waited for its group commit (write and fsync).")
        text.histogram("laforge_journal_commit_seconds", [:], snapshot.commitSeconds)
    }
}

/// Prometheus text format writer: one HELP and TYPE per family, escaped label values.
struct PrometheusText {
    enum Kind: String { case counter, gauge, histogram, summary }
    private(set) var output = ""
    private var declared: Set<String> = []

    mutating func family(_ name: String, _ kind: Kind, _ help: String) {
        guard declared.insert(name).inserted else { return }
        output += "# HELP \(name) \(help)\n# TYPE \(name) \(kind.rawValue)\n"
    }

    mutating func sample(_ name: String, _ labels: [String: String], _ value: Double) {
        output += name + Self.labels(labels) + " " + Self.number(value) + "\n"
    }

    mutating func histogram(_ name: String, _ labels: [String: String], _ histogram: RequestMetrics.Histogram) {
        for (bound, count) in zip(histogram.bounds, histogram.counts) {
            sample(name + "_bucket", labels.merging(["le": Self.number(bound)]) { $1 }, Double(count))
        }
        sample(name + "_bucket", labels.merging(["le": "+Inf"]) { $1 }, Double(histogram.count))
        sample(name + "_sum", labels, histogram.sum)
        sample(name + "_count", labels, Double(histogram.count))
    }

    static func labels(_ labels: [String: String]) -> String {
        guard !labels.isEmpty else { return "" }
        let parts = labels.sorted { $0.key < $1.key }.map { key, value in
            let escaped = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                .replacingOccurrences(of: "\n", with: "\\n")
            return "\(key)=\"\(escaped)\""
        }
        return "{" + parts.joined(separator: ",") + "}"
    }

    static func number(_ value: Double) -> String {
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }

    /// The host registry's series: counters and gauges as they are, histograms (sum and count
    /// only) as summaries without quantiles.
    mutating func append(_ samples: [MetricsRegistry.Sample]) {
        for sample in samples {
            switch sample.kind {
            case .counter:
                family(sample.name, .counter, "LaForge host counter (docs/AUDIT.md lists them).")
                self.sample(sample.name, sample.labels, sample.value)
            case .gauge:
                family(sample.name, .gauge, "LaForge host gauge (docs/AUDIT.md lists them).")
                self.sample(sample.name, sample.labels, sample.value)
            case .histogram:
                family(sample.name, .summary, "LaForge host observations (sum and count).")
                self.sample(sample.name + "_sum", sample.labels, sample.value)
                self.sample(sample.name + "_count", sample.labels, Double(sample.count))
            }
        }
    }
}
