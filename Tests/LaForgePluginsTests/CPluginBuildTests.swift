import Foundation
import PluginABI
import Testing
@testable import LaForgeTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Every C plugin in the repository compiles with the strict flags, and the example exports a
/// working entry point. The loader's own behaviour on each fixture is tested with the loader.
@Suite struct CPluginBuildTests {
    static let fixtureSources = [
        "abi_1_0_sink.c", "abi_1_1_sink.c", "abi_1_3_required.c", "abi_major_2.c", "small_descriptor.c",
        "null_required_function.c", "create_fails.c", "unknown_status.c", "no_entry_symbol.c",
        "refuses_host.c", "bad_schema.c", "caps_mismatch.c",
    ]

    @Test(arguments: fixtureSources)
    func fixtureCompiles(_ name: String) throws {
        let library = try CPluginBuilder.build(fixtureURL("plugins/\(name)"))
        #expect(FileManager.default.fileExists(atPath: library.path))
    }

    /// Fixtures added later (by the loader's or the conformance kit's tests) compile too.
    @Test func everyFixtureInTheFolderCompiles() throws {
        let directory = fixtureURL("plugins")
        let sources = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".c") }
        #expect(Set(sources).isSuperset(of: Self.fixtureSources))
        for source in sources {
            _ = try CPluginBuilder.build(directory.appendingPathComponent(source))
        }
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("not_elf.txt").path))
    }

    @Test func buildingTwiceReturnsTheCachedLibrary() throws {
        let source = fixtureURL("plugins/abi_1_0_sink.c")
        #expect(try CPluginBuilder.build(source) == CPluginBuilder.build(source))
    }

    @Test func exampleExportsEntryReturningBothCapabilities() throws {
        let library = try CPluginBuilder.build(
            CPluginBuilder.packageRoot.appendingPathComponent("examples/example_plugin.c"))
        let handle = try #require(dlopen(library.path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE))
        defer { dlclose(handle) }  // RTLD_NODELETE keeps it mapped, as the host does.
        let symbol = try #require(dlsym(handle, LAFORGE_PLUGIN_ENTRY_SYMBOL))

        let entry = unsafeBitCast(symbol, to: laforge_plugin_entry_fn.self)
        var info = laforge_host_info(
            struct_size: UInt32(MemoryLayout<laforge_host_info>.size),
            abi_major: UInt16(LAFORGE_ABI_VERSION_MAJOR), abi_minor: UInt16(LAFORGE_ABI_VERSION_MINOR),
            host_version: nil)
        var refusal: UnsafePointer<CChar>? = nil
        let descriptor = try #require(entry(&info, &refusal)).pointee
        #expect(refusal == nil)
        #expect(descriptor.abi_major == UInt16(LAFORGE_ABI_VERSION_MAJOR))
        #expect(descriptor.abi_minor == 0)
        #expect(Int(descriptor.struct_size) >= MemoryLayout<laforge_plugin_descriptor>.size)
        #expect(String(cString: descriptor.name) == "example")
        #expect(descriptor.capabilities == 0b11)
        #expect(descriptor.audit_sink != nil)
        #expect(descriptor.secret_backend != nil)
    }
}

extension CPluginBuildTests {
    @Test func compilerErrorsAreReportedWithTheCompilerOutput() throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("laforge-broken-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = directory.appendingPathComponent("broken.c")
        try "int broken(void) { return undeclared_name; }\n".write(to: source, atomically: true, encoding: .utf8)

        let error = #expect(throws: CPluginBuildError.self) { try CPluginBuilder.build(source) }
        #expect(error?.description.contains("undeclared_name") == true)
        #expect(error?.description.contains("-Werror") == true)
    }
}

extension CPluginBuildTests {
    /// docs/ABI.md walks through the example with excerpts; a comment that drifts from the code
    /// is worse than none, so every C block of that section must still be in the file verbatim.
    @Test func guideExcerptsMatchTheExample() throws {
        let guide = try String(
            contentsOf: CPluginBuilder.packageRoot.appendingPathComponent("docs/ABI.md"), encoding: .utf8)
        let example = try String(
            contentsOf: CPluginBuilder.packageRoot.appendingPathComponent("examples/example_plugin.c"), encoding: .utf8)
        let blocks = try GuideCodeBlocks.blocks(in: guide, section: "The example walked through", language: "c")
        #expect(blocks.count >= 10)
        for block in blocks {
            #expect(example.contains(block), "docs/ABI.md excerpt not found in examples/example_plugin.c:\n\(block)")
        }
    }
}
