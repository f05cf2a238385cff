import Foundation
import Testing
@testable import LaForgeAudit
@testable import LaForgeCore
@testable import LaForgeGovernance
@testable import LaForgeIdentity
@testable import LaForgeJournal
@testable import LaForgePlugins
@testable import LaForgeSecrets
@testable import LaForgeTestSupport

@Suite struct PluginPathResolverTests {
    @Test func resolvesANameInsideTheDirectory() throws {
        let directory = try makePluginDirectory(["libsink.so": "abi_1_0_sink.c"])
        let path = try PluginPathResolver(directory: directory).resolve("libsink.so")
        #expect(path == realPath(directory)! + "/libsink.so")
    }

    @Test func refusesDotDot() throws {
        let directory = try makePluginDirectory([:])
        do {
            _ = try PluginPathResolver(directory: directory).resolve("../libc.so.6")
            Issue.record("\"..\" was accepted")
        } catch {
            #expect(error.kind == .path)
            #expect(error.message.contains("\"..\" is not allowed"))
        }
    }

    @Test func refusesASymlinkThatEscapes() throws {
        let outside = try makePluginDirectory(["libsink.so": "abi_1_0_sink.c"])
        let directory = try makePluginDirectory([:])
        try FileManager.default.createSymbolicLink(atPath: directory + "/libsink.so", withDestinationPath: outside + "/libsink.so")
        do {
            _ = try PluginPathResolver(directory: directory).resolve("libsink.so")
            Issue.record("an escaping symlink was followed")
        } catch {
            #expect(error.kind == .path)
            #expect(error.message.contains("outside the plugin directory"))
        }
    }

    @Test func reportsAMissingLibraryWithTheDirectory() throws {
        let directory = try makePluginDirectory([:])
        do {
            _ = try PluginPathResolver(directory: directory).resolve("libmissing.so")
            Issue.record("a missing library resolved")
        } catch {
            #expect(error.message.contains("not found in the plugin directory \(directory)"))
        }
    }
}
