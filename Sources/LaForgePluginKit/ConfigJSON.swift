/// Reads the configuration `create` receives: the host has validated it against the plugin's
/// schema and normalized it to RFC 8785 JSON, but a plugin checks again (it may be loaded by a
/// host that does not), and says what is wrong through its own `invalidConfig` failure.
public enum ConfigJSON {
    /// The whole document.
    public static func value<Failure: PluginFailure>(
        _ bytes: [UInt8], invalid: (String) -> Failure
    ) throws(Failure) -> JSONValue {
        do {
            return try JSONReader.parse(bytes)
        } catch {
            throw invalid("not valid JSON (\(error.description))")
        }
    }

    /// The members of the top-level object, in document order.
    public static func members<Failure: PluginFailure>(
        _ bytes: [UInt8], invalid: (String) -> Failure
    ) throws(Failure) -> [(key: String, value: JSONValue)] {
        guard case .object(let members) = try value(bytes, invalid: invalid) else { throw invalid("expected a JSON object") }
        return members
    }
}
