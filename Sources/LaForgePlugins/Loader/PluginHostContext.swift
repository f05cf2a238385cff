import CSodium
import Foundation
import LaForgeCore
import Logging
import PluginABI

/// The host side of one plugin instance's `laforge_host_api`: the table the plugin calls back
/// into for logging, metrics and secrets. `host_ctx` is this object, unretained; the instance
/// wrapper keeps it alive until after destroy() returns, as the header promises.
final class PluginHostContext: @unchecked Sendable {
    // @unchecked: immutable after init; the table is written once before the plugin sees it.
    let instanceName: String
    let logger: Logger
    let metrics: MetricsRegistry
    let secrets: (any SecretResolving)?
    let table: UnsafeMutablePointer<laforge_host_api>

    init(
        instanceName: String, logger: Logger, metrics: MetricsRegistry, secrets: (any SecretResolving)?,
        mode: LaForgeConfig.Mode = .development
    ) {
        self.instanceName = instanceName
        // Namespaced per instance: a structured backend can filter or route one plugin's lines.
        var logger = logger
        logger[metadataKey: "plugin"] = "\(instanceName)"
        self.logger = logger
        self.metrics = metrics
        self.secrets = secrets
        table = .allocate(capacity: 1)
        table.initialize(
            to: laforge_host_api(
                struct_size: UInt32(MemoryLayout<laforge_host_api>.size),
                host_ctx: nil,
                log: hostLog,
                counter_add: hostCounterAdd,
                gauge_set: hostGaugeSet,
                histogram_observe: hostHistogramObserve,
                resolve_secret: hostResolveSecret,
                release_secret: hostReleaseSecret,
                mode: mode == .production ? UInt32(LAFORGE_MODE_PRODUCTION.rawValue) : UInt32(LAFORGE_MODE_DEVELOPMENT.rawValue)))
        table.pointee.host_ctx = Unmanaged.passUnretained(self).toOpaque()
    }

    /// A plugin's metric labels plus `plugin="<instance name>"`, so two instances of one plugin
    /// count apart. A label of the plugin's own named `plugin` is replaced, and reported once.
    func labels(_ labels: UnsafePointer<laforge_label>?, _ count: Int) -> [String: String] {
        var result = labelDictionary(labels, count)
        if result["plugin"] != nil, reportedOwnPluginLabel.withLock({ reported in
            defer { reported = true }
            return !reported
        }) {
            logger.warning("plugin \(instanceName): the metric label \"plugin\" is the host's (the instance name); the plugin's own value is replaced")
        }
        result["plugin"] = instanceName
        return result
    }

    private let reportedOwnPluginLabel = LockedValue(false)

    deinit {
        table.deinitialize(count: 1)
        table.deallocate()
    }

    static func from(_ pointer: UnsafeMutableRawPointer?) -> PluginHostContext? {
        pointer.map { Unmanaged<PluginHostContext>.fromOpaque($0).takeUnretainedValue() }
    }
}

private func labelDictionary(_ labels: UnsafePointer<laforge_label>?, _ count: Int) -> [String: String] {
    guard let labels, count > 0 else { return [:] }
    var result: [String: String] = [:]
    for index in 0..<count {
        guard let name = labels[index].name, let value = labels[index].value else { continue }
        result[String(cString: name)] = String(cString: value)
    }
    return result
}

private let hostLog: @convention(c) (UnsafeMutableRawPointer?, Int32, UnsafePointer<CChar>?) -> Void = {
    context, level, message in
    guard let context = PluginHostContext.from(context), let message else { return }
    context.logger.log(level: Logger.Level(pluginLevel: level), "plugin \(context.instanceName): \(String(cString: message))")
}

extension Logger.Level {
    /// The ABI's `LAFORGE_LOG_*` levels; an unknown level counts as an error.
    init(pluginLevel: Int32) {
        switch UInt32(bitPattern: pluginLevel) {
        case LAFORGE_LOG_DEBUG.rawValue: self = .debug
        case LAFORGE_LOG_INFO.rawValue: self = .info
        case LAFORGE_LOG_WARNING.rawValue: self = .warning
        default: self = .error
        }
    }
}

private let hostCounterAdd: @convention(c) (
    UnsafeMutableRawPointer?, UnsafePointer<CChar>?, UnsafePointer<laforge_label>?, Int, Double
) -> Void = { context, name, labels, count, delta in
    guard let context = PluginHostContext.from(context), let name else { return }
    context.metrics.counterAdd(String(cString: name), labels: context.labels(labels, count), delta)
}

private let hostGaugeSet: @convention(c) (
    UnsafeMutableRawPointer?, UnsafePointer<CChar>?, UnsafePointer<laforge_label>?, Int, Double
) -> Void = { context, name, labels, count, value in
    guard let context = PluginHostContext.from(context), let name else { return }
    context.metrics.gaugeSet(String(cString: name), labels: context.labels(labels, count), value)
}

private let hostHistogramObserve: @convention(c) (
    UnsafeMutableRawPointer?, UnsafePointer<CChar>?, UnsafePointer<laforge_label>?, Int, Double
) -> Void = { context, name, labels, count, value in
    guard let context = PluginHostContext.from(context), let name else { return }
    context.metrics.histogramObserve(String(cString: name), labels: context.labels(labels, count), value)
}

private let hostResolveSecret: @convention(c) (
    UnsafeMutableRawPointer?, UnsafePointer<CChar>?, UnsafeMutablePointer<laforge_buffer>?
) -> Int32 = { context, reference, out in
    guard let out else { return PluginStatus.invalidArgument.code }
    out.pointee = laforge_buffer()
    guard let context = PluginHostContext.from(context), let reference else {
        return PluginStatus.invalidArgument.code
    }
    let name = String(cString: reference)
    guard let secrets = context.secrets else {
        context.logger.warning("plugin \(context.instanceName) asked for secret \(name) but no secret backend is configured")
        return PluginStatus.notFound.code
    }
    do throws(SecretResolutionError) {
        let value = try secrets.resolveSecret(name)
        let bytes = malloc(max(value.count, 1))!.assumingMemoryBound(to: UInt8.self)
        value.withUnsafeBytes { source in
            if let base = source.baseAddress { bytes.update(from: base.assumingMemoryBound(to: UInt8.self), count: source.count) }
        }
        out.pointee = laforge_buffer(data: bytes, len: value.count, opaque: nil)
        return PluginStatus.ok.code
    } catch {
        context.logger.warning("plugin \(context.instanceName): \(error)")
        return error.status.code
    }
}

private let hostReleaseSecret: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<laforge_buffer>?) -> Void = {
    _, buffer in
    guard let buffer, let data = buffer.pointee.data else { return }
    sodium_memzero(data, buffer.pointee.len)
    free(data)
    buffer.pointee = laforge_buffer()
}
