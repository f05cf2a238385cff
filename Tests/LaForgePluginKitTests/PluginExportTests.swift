import LaForgePluginKit
import Synchronization
import Testing

/// The kit's entry, descriptor and vtable glue, driven through the C function pointers exactly
/// as a host drives a loaded plugin (the shipped plugins are tested through the host instead).
/// Serialized: `failedCreate…` counts `ProbeSink.destroyed`, which the other tests also bump.
@Suite(.serialized) struct PluginExportTests {
    @Test func entryAnswersTheDescriptorToAHostOfTheSameMajor() throws {
        let descriptor = try #require(call(probeExport, major: UInt16(LAFORGE_ABI_VERSION_MAJOR), minor: 0).descriptor)
        #expect(descriptor.pointee.struct_size == UInt32(MemoryLayout<laforge_plugin_descriptor>.size))
        #expect(String(cString: descriptor.pointee.name) == "kit-probe")
        #expect(descriptor.pointee.capabilities == UInt64(LAFORGE_CAP_AUDIT_SINK))
        #expect(descriptor.pointee.secret_backend == nil && descriptor.pointee.idp_connector == nil)
        let vtable = try #require(descriptor.pointee.audit_sink).pointee
        #expect(vtable.threading == LAFORGE_THREADING_SERIAL)
        #expect(String(cString: vtable.config_schema) == #"{"type":"object"}"#)
        #expect(vtable.flush != nil, "ProbeSink adopts FlushingAuditSink")
        #expect(vtable.read_back == nil, "ProbeSink does not adopt ReadableAuditSink")
    }

    @Test func entryRefusesOtherMajorsOlderMinorsAndNoHostInfo() {
        let major = UInt16(LAFORGE_ABI_VERSION_MAJOR)
        for (export, major, minor) in [(probeExport, major + 1, UInt16(0)), (probeExport11, major, 0)] {
            let answer = call(export, major: major, minor: minor)
            #expect(answer.descriptor == nil)
            #expect(answer.refusal == "written for ABI 1.x")
        }
        var refusal: UnsafePointer<CChar>? = nil
        #expect(probeExport.entry(nil, &refusal) == nil)
        #expect(refusal.map { String(cString: $0) } == "written for ABI 1.x")
        #expect(call(probeExport11, major: major, minor: 1).descriptor != nil)
    }

    @Test func failedCreateHandsOutAnInstanceThatExplainsItself() throws {
        let vtable = try #require(probeExport.descriptor.pointee.audit_sink).pointee
        let destroyedBefore = ProbeSink.destroyed.load(ordering: .relaxed)
        var instance: OpaquePointer? = nil
        let status = "bad".withCString { vtable.create!($0, 3, nil, &instance) }
        #expect(status == Status.invalidArgument)
        let handed = try #require(instance)
        // Through the instance's own `fail` (its prefix), as every later failure.
        #expect(String(cString: vtable.last_error!(handed)!) == "probe: the probe refuses bad")
        vtable.destroy!(handed)
        #expect(ProbeSink.destroyed.load(ordering: .relaxed) == destroyedBefore + 1)

        instance = nil
        #expect(vtable.create!(nil, 0, nil, &instance) == Status.invalidArgument)
        #expect(String(cString: vtable.last_error!(instance)!) == "probe: create: config_json is NULL")
        vtable.destroy!(instance)
    }

    @Test func callsReachTheInstanceAndFailuresReachLastError() throws {
        let vtable = try #require(probeExport.descriptor.pointee.audit_sink).pointee
        var instance: OpaquePointer? = nil
        #expect("{}".withCString { vtable.create!($0, 2, nil, &instance) } == Status.ok)
        let handed = try #require(instance)
        defer { vtable.destroy!(handed) }
        #expect(String(cString: vtable.last_error!(handed)!) == "", "never NULL, empty before a failure")

        var batch = laforge_audit_batch()
        batch.struct_size = UInt32(MemoryLayout<laforge_audit_batch>.size)
        batch.count = 0
        var stored = 99
        #expect(vtable.write!(handed, &batch, &stored) == Status.ok)
        #expect(stored == 0)
        #expect(vtable.health!(handed) == Status.ok)
        #expect(vtable.flush!(handed) == Status.retry)
        #expect(String(cString: vtable.last_error!(handed)!) == "probe: flush found nothing to make durable")
    }

    private func call(_ export: PluginExport, major: UInt16, minor: UInt16) -> (descriptor: PluginEntryDescriptor, refusal: String?) {
        var info = laforge_host_info(
            struct_size: UInt32(MemoryLayout<laforge_host_info>.size), abi_major: major, abi_minor: minor, host_version: nil)
        var refusal: UnsafePointer<CChar>? = nil
        let descriptor = export.entry(&info, &refusal)
        return (descriptor, refusal.map { String(cString: $0) })
    }
}

/// The smallest sink the kit can export: refuses the configuration "bad", stores empty batches,
/// and fails every flush with a prefixed message (its own `fail`).
final class ProbeSink: FlushingAuditSink {
    static let destroyed = Atomic<Int>(0)
    let lastError = LastErrorBuffer()

    init(host: HostServices) {}
    deinit { Self.destroyed.add(1, ordering: .relaxed) }

    func configure(_ json: [UInt8]) throws(PluginError) {
        if json == Array("bad".utf8) { throw PluginError(Status.invalidArgument, "the probe refuses bad") }
    }

    func write(_ batch: UnsafePointer<laforge_audit_batch>?) -> WriteResult {
        guard let batch else { return WriteResult(status: fail(PluginError(Status.internalError, "batch is NULL")), stored: 0) }
        let count = copySizePrefixed(UnsafeRawPointer(batch), into: laforge_audit_batch()).count
        return WriteResult(status: Status.ok, stored: count)
    }

    func health() -> Int32 { Status.ok }

    func flush() -> Int32 { fail(PluginError(Status.retry, "flush found nothing to make durable")) }

    @discardableResult
    func fail(_ error: PluginError) -> Int32 {
        lastError.record("probe: " + error.message)
        return error.status
    }
}

private let probeExport = PluginExport(
    name: "kit-probe", version: "0.0.1", description: "the plugin kit's test sink", license: "Apache-2.0", abiMinor: 0,
    refusal: "written for ABI 1.x",
    auditSink: AuditSinkVTable(ProbeSink.self, schema: #"{"type":"object"}"#) { createInstance(ProbeSink.self, $0, $1, $2, $3) })

private let probeExport11 = PluginExport(
    name: "kit-probe", version: "0.0.1", description: "the plugin kit's test sink", license: "Apache-2.0", abiMinor: 1,
    minimumHostMinor: 1, refusal: "written for ABI 1.x",
    auditSink: AuditSinkVTable(ProbeSink.self, schema: #"{"type":"object"}"#) { createInstance(ProbeSink.self, $0, $1, $2, $3) })
