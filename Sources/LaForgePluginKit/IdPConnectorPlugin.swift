import LaForgeABI
import PluginABI

/// An IdP connector instance (`LAFORGE_CAP_IDP_CONNECTOR`, ABI 1.1). Each function returns the
/// JSON the header describes for its slot, or throws; the kit parses `request_json`, hands the
/// answer to the host in a buffer its `release` zeroes, and turns a failure into its status and
/// `last_error` through `fail`. Declare CONCURRENT (`IdPConnectorVTable`) only for a type that
/// is safe to call from several threads at once.
public protocol IdPConnectorPlugin: PluginInstance {
    /// `token` is borrowed for the call (empty when the host passed none).
    func validateToken(_ token: UnsafeBufferPointer<UInt8>) throws(Failure) -> [UInt8]
    func loginStart(_ request: JSONValue) throws(Failure) -> [UInt8]
    func loginCallback(_ request: JSONValue) throws(Failure) -> [UInt8]
    /// `connectorData` is the `connector_data` of an earlier session.
    func refresh(_ connectorData: [UInt8]) throws(Failure) -> [UInt8]
    func deviceStart(_ request: JSONValue) throws(Failure) -> [UInt8]
    func devicePoll(_ request: JSONValue) throws(Failure) -> [UInt8]
}
