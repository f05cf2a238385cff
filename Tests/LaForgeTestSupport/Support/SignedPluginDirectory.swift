import Foundation

import LaForgeAudit
import LaForgeCore
import LaForgeIdentity
import LaForgeJournal
import LaForgePlugins
import LaForgeSecrets

/// Copies of built plugins signed by a fresh key, for configurations in `mode: production` (which
/// loads only signed plugins): `trustedKeysYAML` is the root-level `trusted_keys:` block that
/// trusts the key.
struct SignedPluginDirectory {
    let path: String
    let key: Ed25519SigningKey

    init(_ libraries: [String]) throws {
        path = try temporaryDirectory("laforge-signed-plugins")
        key = try Ed25519SigningKey.generate(name: "test-release")
        for library in libraries {
            try FileManager.default.copyItem(atPath: CLIRunner.buildDirectory + "/" + library, toPath: path + "/" + library)
            _ = try PluginSignature.sign(libraryAt: path + "/" + library, with: key)
        }
    }

    var trustedKeysYAML: String {
        """
        trusted_keys:
          - name: test-release
            public_key: \(Data(key.verifierKey.publicKey).base64EncodedString())
        """
    }
}
