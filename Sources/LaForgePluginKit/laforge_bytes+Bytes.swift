import LaForgeABI
import PluginABI

extension laforge_bytes {
    /// A copy of the borrowed bytes (empty for NULL), to keep beyond the call.
    public var bytes: [UInt8] { Array(buffer) }

    /// The borrowed bytes in place (empty for NULL), valid for the call only.
    public var buffer: UnsafeBufferPointer<UInt8> {
        guard let data, len > 0 else { return UnsafeBufferPointer(start: nil, count: 0) }
        return UnsafeBufferPointer(start: data, count: len)
    }
}
