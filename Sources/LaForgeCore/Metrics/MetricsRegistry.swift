import CoreMetrics
import Foundation
import Logging

/// The host's metrics, and the checked entry behind the plugins' metric callbacks.
///
/// Every sample goes on to swift-metrics (`MetricsSystem`, whatever backend the process
/// bootstrapped: Prometheus, StatsD, OTLP …), so an embedding service sees the host's and the
/// plugins' metrics with its own. Registration is checked here first rather than trusted to a
/// backend: a name used with two kinds, or with two different sets of label names, is reported
/// once and the conflicting samples are dropped (swift-prometheus would `fatalError` the whole
/// process), and so are invalid names and negative counter increments. The registry also keeps
/// the current value of each series, which `sample` and `allSamples` read.
public final class MetricsRegistry: @unchecked Sendable {
    // @unchecked: every mutable field is guarded by `lock`.
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

    /// The swift-metrics object of one series, made once (backends key their storage by it).
    private enum Forward {
        case counter(FloatingPointCounter)
        case gauge(Gauge)
        case histogram(Recorder)
    }

    private struct Registration {
        var kind: Kind
        var labelNames: Set<String>
    }

    private let lock = NSLock()
    private var registrations: [String: Registration] = [:]
    private var samples: [Key: Sample] = [:]
    private var forwards: [Key: Forward] = [:]
    private var reportedConflicts: Set<String> = []
    private let logger: Logger

    public init(logger: Logger = .host) {
        self.logger = logger
    }

    public func counterAdd(_ name: String, labels: [String: String] = [:], _ delta: Double) {
        guard delta >= 0, delta.isFinite else {
            report(name, "counter \(name) given a negative or non-finite increment \(delta); ignored")
            return
        }
        record(.counter, name, labels) { $0.value += delta; $0.count += 1 } forward: {
            if case .counter(let counter) = $0 { counter.increment(by: delta) }
        }
    }

    public func gaugeSet(_ name: String, labels: [String: String] = [:], _ value: Double) {
        record(.gauge, name, labels) { $0.value = value; $0.count = 1 } forward: {
            if case .gauge(let gauge) = $0 { gauge.record(value) }
        }
    }

    public func histogramObserve(_ name: String, labels: [String: String] = [:], _ value: Double) {
        record(.histogram, name, labels) { $0.value += value; $0.count += 1 } forward: {
            if case .histogram(let recorder) = $0 { recorder.record(value) }
        }
    }

    public func sample(_ name: String, labels: [String: String] = [:]) -> Sample? {
        lock.withLock { samples[Key(name: name, labels: labels)] }
    }

    public func allSamples() -> [Sample] {
        lock.withLock { Array(samples.values) }.sorted { ($0.name, "\($0.labels)") < ($1.name, "\($1.labels)") }
    }

    private func record(
        _ kind: Kind, _ name: String, _ labels: [String: String], _ update: (inout Sample) -> Void,
        forward: (Forward) -> Void
    ) {
        guard Self.isValidName(name), labels.keys.allSatisfy(Self.isValidName) else {
            report(name, "metric name or label name \(name.debugDescription) is not a valid Prometheus name; samples dropped")
            return
        }
        let key = Key(name: name, labels: labels)
        let outcome: Result<Forward, Conflict> = lock.withLock {
            let names = Set(labels.keys)
            if let existing = registrations[name] {
                if existing.kind != kind { return .failure(.kind(existing.kind)) }
                if existing.labelNames != names { return .failure(.labelNames(existing.labelNames)) }
            } else {
                registrations[name] = Registration(kind: kind, labelNames: names)
            }
            var sample = samples[key] ?? Sample(kind: kind, name: name, labels: labels, value: 0, count: 0)
            update(&sample)
            samples[key] = sample
            if let made = forwards[key] { return .success(made) }
            let made = Self.makeForward(kind, name, labels)
            forwards[key] = made
            return .success(made)
        }
        switch outcome {
        case .success(let made):
            forward(made)
        case .failure(.kind(let existing)):
            report(name, "metric \(name) is registered as a \(existing) and cannot also be a \(kind); samples dropped")
        case .failure(.labelNames(let existing)):
            report(
                name,
                "metric \(name) is registered with the labels [\(existing.sorted().joined(separator: ", "))] and cannot also have [\(labels.keys.sorted().joined(separator: ", "))]; samples dropped")
        }
    }

    private enum Conflict: Error {
        case kind(Kind)
        case labelNames(Set<String>)
    }

    private static func makeForward(_ kind: Kind, _ name: String, _ labels: [String: String]) -> Forward {
        let dimensions = labels.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        switch kind {
        case .counter: return .counter(FloatingPointCounter(label: name, dimensions: dimensions))
        case .gauge: return .gauge(Gauge(label: name, dimensions: dimensions))
        case .histogram: return .histogram(Recorder(label: name, dimensions: dimensions, aggregate: true))
        }
    }

    private func report(_ key: String, _ message: String) {
        let first = lock.withLock { reportedConflicts.insert(key).inserted }
        if first { logger.warning("\(message)") }
    }

    static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first else { return false }
        func isLetter(_ s: Unicode.Scalar) -> Bool {
            (s >= "a" && s <= "z") || (s >= "A" && s <= "Z") || s == "_" || s == ":"
        }
        return isLetter(first) && name.unicodeScalars.allSatisfy { isLetter($0) || ($0 >= "0" && $0 <= "9") }
    }
}
