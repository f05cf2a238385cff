import PluginABI

/// Every capability's `create` slot: `{ createInstance(MyInstance.self, $0, $1, $2, $3) }`.
public typealias PluginCreateFunction = @convention(c) (
    UnsafePointer<CChar>?, Int, UnsafePointer<laforge_host_api>?, UnsafeMutablePointer<OpaquePointer?>?
) -> Int32
