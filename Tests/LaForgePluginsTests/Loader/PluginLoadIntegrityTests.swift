import Foundation
import Logging
import Synchronization
import Testing
@testable import LaForgeTestSupport

@testable import LaForgeCore
@testable import LaForgePlugins

#if canImport(Glibc)
import Glibc
#endif

/// The library whose signature was checked is the library that gets loaded (one open: the bytes of
/// that descriptor are hashed and that descriptor is mapped), and in production a library that
/// someone other than its owner could change, or that sits in a directory others can write to, is
/// refused.
@Suite(.serialized) struct PluginLoadIntegrityTests {
    let key: Ed25519SigningKey

    init() throws { key = try Ed25519SigningKey.generate(name: "release") }

    func config(_ mode: String, directory: String) throws -> LaForgeConfig {
        try LaForgeConfig.parse(
            text: """
                version: 1
                mode: \(mode)
                trusted_keys:
                  - name: release
                    public_key: \(Data(key.verifierKey.publicKey).base64EncodedString())
                audit:
                  sinks:
                    - name: sink
                      library: libsink.so
                """, sourceName: "test.yaml", baseDirectory: directory)
    }

    func open(_ mode: String, directory: String) throws -> Result<PluginLibrary, RuntimeStartError> {
        let config = try config(mode, directory: directory)
        return Result { () throws(RuntimeStartError) -> PluginLibrary in
            try PluginRuntime.openLibrary(
                config.audit.sinks[0], resolver: PluginPathResolver(directory: directory), mode: config.mode,
                trustedKeys: [key.verifierKey], logger: Logger(minimumLevel: .error) { _, _ in })
        }
    }

    /// A fresh directory holding `libsink.so` (a signed copy of abi_1_0_sink) and `unsigned.so`.
    func signedDirectory() throws -> String {
        let directory = try makePluginDirectory(["libsink.so": "abi_1_0_sink.c", "unsigned.so": "flaky_sink.c"])
        try PluginSignature.sign(libraryAt: directory + "/libsink.so", with: key)
        return directory
    }

    @Test func aLibraryRenamedOverTheCheckedOneIsNeverLoaded() throws {
        var loadedNames: [String] = []
        for _ in 0..<60 {
            let directory = try signedDirectory()
            let path = directory + "/libsink.so"
            try FileManager.default.copyItem(atPath: path, toPath: directory + "/signed.so")
            // Another process swaps the file under the name, as fast as it can.
            let stop = Atomic<Bool>(false)
            let swapper = Thread {
                let scratch = directory + "/swap.tmp"
                while !stop.load(ordering: .relaxed) {
                    for source in ["/unsigned.so", "/signed.so"] {
                        _ = link(directory + source, scratch)
                        _ = rename(scratch, path)
                    }
                }
            }
            swapper.start()
            let result = try open("production", directory: directory)
            stop.store(true, ordering: .relaxed)
            while !swapper.isFinished { usleep(100) }
            if case .success(let library) = result { loadedNames.append(library.descriptor.name) }
        }
        #expect(!loadedNames.isEmpty, "no attempt loaded the signed library at all")
        #expect(loadedNames.allSatisfy { $0 == "abi_1_0_sink" }, "loaded after a swap: \(loadedNames.filter { $0 != "abi_1_0_sink" })")
    }

    @Test func productionRefusesLibrariesOthersCanChange() throws {
        func refusal(_ prepare: (String) -> Void) throws -> String {
            let directory = try signedDirectory()
            prepare(directory)
            // Development loads it (the rules are production's)…
            if case .failure(let error) = try open("development", directory: directory) { Issue.record("development refused: \(error)") }
            // …production does not.
            let other = try signedDirectory()
            prepare(other)
            switch try open("production", directory: other) {
            case .success: return "loaded"
            case .failure(let error):
                guard case .plugin(let loadError) = error else { return "\(error)" }
                #expect(loadError.kind == .unsafeFile)
                return loadError.message
            }
        }
        #expect(try refusal { chmod($0 + "/libsink.so", 0o664) }.contains("the library is writable by its group (mode 664)"))
        #expect(try refusal { chmod($0 + "/libsink.so", 0o646) }.contains("the library is writable by every user (mode 646)"))
        #expect(try refusal { chown($0 + "/libsink.so", 54321, 0) }.contains("the library is owned by uid 54321, neither root nor the user running laforge"))
        let directoryRefusal = try refusal { chmod($0, 0o777) }
        #expect(directoryRefusal.contains("is writable by every user (mode 777): others could replace the library"), "\(directoryRefusal)")
        #expect(try refusal { chmod($0, 0o775) }.contains("is writable by its group (mode 775)"))
        // The owner-only default of a signed release directory loads.
        let fine = try signedDirectory()
        chmod(fine, 0o755)
        chmod(fine + "/libsink.so", 0o644)
        #expect(throws: Never.self) { try open("production", directory: fine).get() }
    }
}
