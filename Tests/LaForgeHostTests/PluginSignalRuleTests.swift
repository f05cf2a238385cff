import Foundation
import Testing
@testable import LaForgeTestSupport

/// The header's rule 6: the host owns signals. No plugin in the repository (Swift or C, shipped
/// plugins, the example, the benchmark sinks) installs a signal handler or changes a signal's
/// disposition or mask; what a signal would tell a sink arrives as the vtable's reopen.
@Suite struct PluginSignalRuleTests {
    static let forbidden = ["sigaction(", "signal(SIG", "signal(Int32(SIG", "sigprocmask(", "pthread_sigmask(", "signalfd(", "makeSignalSource("]

    @Test func noPluginSourceTouchesSignals() throws {
        let root = CPluginBuilder.packageRoot
        var offenders: [String] = []
        for folder in ["Plugins", "examples", "bench"] {
            let base = root.appendingPathComponent(folder)
            guard let walker = FileManager.default.enumerator(atPath: base.path) else { continue }
            for case let relative as String in walker where relative.hasSuffix(".swift") || relative.hasSuffix(".c") {
                let text = try String(contentsOf: base.appendingPathComponent(relative), encoding: .utf8)
                for call in Self.forbidden where text.contains(call) {
                    offenders.append("\(folder)/\(relative): \(call)")
                }
            }
        }
        #expect(offenders == [], "plugins must leave signals to the host (laforge_plugin.h rule 6)")
    }
}
