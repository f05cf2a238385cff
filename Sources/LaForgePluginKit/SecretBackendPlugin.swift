import LaForgeABI
import PluginABI

/// A secret backend instance (`LAFORGE_CAP_SECRET_BACKEND`): secrets by name and envelope key
/// operations. Every function receives the host's arguments as they are (borrowed for the call)
/// and answers a status; failures are recorded with `fail`. Every buffer it fills goes back
/// through `release`, possibly on another thread.
public protocol SecretBackendPlugin: PluginInstance {
    func getSecret(_ name: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<laforge_buffer>?) -> Int32
    func encrypt(
        _ keyID: UnsafePointer<CChar>?, _ plaintext: laforge_bytes, _ context: laforge_bytes,
        _ out: UnsafeMutablePointer<laforge_buffer>?) -> Int32
    func decrypt(
        _ keyID: UnsafePointer<CChar>?, _ ciphertext: laforge_bytes, _ context: laforge_bytes,
        _ out: UnsafeMutablePointer<laforge_buffer>?) -> Int32
    func generateDataKey(
        _ keyID: UnsafePointer<CChar>?, _ length: Int, _ context: laforge_bytes,
        _ plaintextKey: UnsafeMutablePointer<laforge_buffer>?, _ wrappedKey: UnsafeMutablePointer<laforge_buffer>?) -> Int32
    /// Zeroes and frees a buffer this type filled. Static: it needs nothing of the instance.
    static func release(_ buffer: UnsafeMutablePointer<laforge_buffer>)
}
