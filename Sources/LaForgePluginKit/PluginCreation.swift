import LaForgeABI
import PluginABI

/// `create` for every capability: makes an `Instance` with the host's services, hands it to the
/// host (also when `configure` fails, so the host can read `last_error` before it destroys it)
/// and configures it. A plugin's entry file calls it from its one non-generic closure:
///
///     create: { createInstance(FileSinkInstance.self, $0, $1, $2, $3) }
///
/// (a C function pointer cannot be formed inside generic code, so this line is the one piece of
/// glue each plugin writes).
public func createInstance<Instance: PluginInstance>(
    _ type: Instance.Type,
    _ configJSON: UnsafePointer<CChar>?, _ configLength: Int,
    _ host: UnsafePointer<laforge_host_api>?, _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
    guard let out else { return Status.invalidArgument }
    out.pointee = nil
    let instance = Instance(host: HostServices(host))
    out.pointee = OpaquePointer(Unmanaged.passRetained(InstanceBox(instance)).toOpaque())
    guard let configJSON else { return instance.fail(.invalidArgument("create: config_json is NULL")) }
    do throws(Instance.Failure) {
        try instance.configure(Array(UnsafeRawBufferPointer(start: configJSON, count: configLength)))
    } catch {
        return instance.fail(error)
    }
    return Status.ok
}
