import LaForgeABI
import PluginABI

#if canImport(Glibc)
    import Glibc
#endif

/// One call into an IdP connector, made by the vtable's C functions: generic over the
/// connector, so its own typed failure is caught where its type is known. The C functions open
/// the instance's existential into `perform` (they cannot be generic themselves).
enum IdPConnectorCall {
    case validateToken(laforge_bytes)
    case loginStart(request: UnsafePointer<CChar>?)
    case loginCallback(request: UnsafePointer<CChar>?)
    case refresh(laforge_bytes)
    case deviceStart(request: UnsafePointer<CChar>?)
    case devicePoll(request: UnsafePointer<CChar>?)

    /// Runs the call on the instance behind `pointer`; its answer goes to the host in `out`, and
    /// every failure becomes a status (and `last_error` through the connector's `fail`).
    func run(on pointer: OpaquePointer?, _ out: UnsafeMutablePointer<laforge_buffer>?) -> Int32 {
        guard let connector = InstanceBox.from(pointer)?.connector, let out else { return Status.internalError }
        return perform(connector, out)
    }

    private func perform<Connector: IdPConnectorPlugin>(_ connector: Connector, _ out: UnsafeMutablePointer<laforge_buffer>) -> Int32 {
        do throws(Connector.Failure) {
            let answer: [UInt8]
            switch self {
            case .validateToken(let token): answer = try connector.validateToken(token.buffer)
            case .loginStart(let request): answer = try connector.loginStart(Self.parse(request, as: Connector.Failure.self))
            case .loginCallback(let request): answer = try connector.loginCallback(Self.parse(request, as: Connector.Failure.self))
            case .refresh(let data): answer = try connector.refresh(data.bytes)
            case .deviceStart(let request): answer = try connector.deviceStart(Self.parse(request, as: Connector.Failure.self))
            case .devicePoll(let request): answer = try connector.devicePoll(Self.parse(request, as: Connector.Failure.self))
            }
            return HostBuffer.fill(out, answer)
        } catch {
            return connector.fail(error)
        }
    }

    /// The host's `request_json` (borrowed, NUL-terminated).
    private static func parse<Failure: PluginFailure>(_ request: UnsafePointer<CChar>?, as _: Failure.Type) throws(Failure) -> JSONValue {
        guard let request else { throw .invalidArgument("request_json is NULL") }
        do { return try JSONReader.parse(Array(UnsafeRawBufferPointer(start: request, count: strlen(request)))) } catch {
            throw .invalidArgument("request_json is not JSON: \(error.description)")
        }
    }
}
