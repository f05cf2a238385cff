import CoreMetrics
import Foundation
import Logging
import MetricsTestKit

/// The process's swift-metrics backend during the tests: bootstrapped once, on first use (a
/// second bootstrap would trap), so tests can see what reached `MetricsSystem`.
enum TestMetricsBackend {
    static let shared: TestMetrics = {
        let metrics = TestMetrics()
        MetricsSystem.bootstrap(metrics)
        return metrics
    }()
}

extension TestMetrics {
    /// The total a counter series received, nil when the backend never saw it.
    func counterTotal(_ label: String, _ labels: [String: String]) -> Int64? {
        try? expectCounter(label, labels.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }).totalValue
    }
}

/// Collects swift-log events with their `plugin` metadata.
final class MetadataCapture: @unchecked Sendable {
    struct Line: Equatable {
        var level: Logger.Level
        var message: String
        var plugin: String?
    }

    private let lock = NSLock()
    private var lines: [Line] = []
    var all: [Line] { lock.withLock { lines } }

    struct Handler: LogHandler {
        let capture: MetadataCapture
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]
        var metadataProvider: Logger.MetadataProvider?

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }
            let line = Line(level: event.level, message: event.message.description, plugin: merged["plugin"]?.description)
            capture.lock.withLock { capture.lines.append(line) }
        }

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
    }
}
