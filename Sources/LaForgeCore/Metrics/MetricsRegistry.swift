import Foundation

/// The host-side registry behind the plugins' metric callbacks (and the host's own counters).
///
/// Registration is checked here rather than trusted to a metrics library: registering one name
/// with two kinds is reported once and the conflicting samples are dropped, where
/// swift-prometheus would `fatalError` the whole process.
public final class MetricsRegistry: @unchecked Sendable {
    public enum Kind: String, Sendable { case counter, gauge, histogram }

    public struct Sample: Sendable, Equatable {
        public var kind: Kind
        public var name: String
        public var labels: [String: String]
        /// Counter total, gauge value, or histogram sum.
        public var value: Double
        /// Histogram observation count (1 for counters and gauges once set).
        public var count: Int
    }

    private struct Key: Hashable {
        var name: String
        var labels: [String: String]
    }

    private let lock = NSLock()
    private var kinds: [String: Kind] = [:]
    private var samples: [Key: Sample] = [:]
    private var reportedConflicts: Set<String> = []
    private let logger: HostLogger

    public init(logger: HostLogger = .standardError()) {
        self.logger = logger
    }

    public func counterAdd(_ name: String, labels: [String: String] = [:], _ delta: Double) {
        guard delta >= 0, delta.isFinite else {
            report(name, "counter \(name) given a negative or non-finite increment \(delta); ignored")
            return
        }
        record(.counter, name, labels) { $0.value += delta; $0.count += 1 }
    }

    public func gaugeSet(_ name: String, labels: [String: String] = [:], _ value: Double) {
        record(.gauge, name, labels) { $0.value = value; $0.count = 1 }
    }

    public func histogramObserve(_ name: String, labels: [String: String] = [:], _ value: Double) {
        record(.histogram, name, labels) { $0.value += value; $0.count += 1 }
    }

    public func sample(_ name: String, labels: [String: String] = [:]) -> Sample? {
        lock.withLock { samples[Key(name: name, labels: labels)] }
    }

    public func allSamples() -> [Sample] {
        lock.withLock { Array(samples.values) }.sorted { ($0.name, "\($0.labels)") < ($1.name, "\($1.labels)") }
    }

    private func record(_ kind: Kind, _ name: String, _ labels: [String: String], _ update: (inout Sample) -> Void) {
        guard Self.isValidName(name), labels.keys.allSatisfy(Self.isValidName) else {
            report(name, "metric name or label name \(name.debugDescription) is not a valid Prometheus name; samples dropped")
            return
        }
        let conflict: Kind? = lock.withLock {
            if let existing = kinds[name], existing != kind { return existing }
            kinds[name] = kind
            let key = Key(name: name, labels: labels)
            var sample = samples[key] ?? Sample(kind: kind, name: name, labels: labels, value: 0, count: 0)
            update(&sample)
            samples[key] = sample
            return nil
        }
        if let conflict {
            report(name, "metric \(name) is registered as a \(conflict) and cannot also be a \(kind); samples dropped")
        }
    }

    private func report(_ key: String, _ message: String) {
        let first = lock.withLock { reportedConflicts.insert(key).inserted }
        if first { logger.log(.warning, message) }
    }

    static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first else { return false }
        func isLetter(_ s: Unicode.Scalar) -> Bool {
            (s >= "a" && s <= "z") || (s >= "A" && s <= "Z") || s == "_" || s == ":"
        }
        return isLetter(first) && name.unicodeScalars.allSatisfy { isLetter($0) || ($0 >= "0" && $0 <= "9") }
    }
}
