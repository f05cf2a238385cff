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

/// The loader refuses every malformed plugin with a message that says what to fix, and loads
/// the well-formed ones (issue 2's bad-input list).
@Suite struct PluginLoaderTests {
    @Test func loadsAPluginBuiltForABI10() throws {
        let library = try openFixture("abi_1_0_sink.c")
        #expect(library.descriptor.abi == ABIVersion(major: 1, minor: 0))
        #expect(library.descriptor.capabilities == [.auditSink])
    }

    @Test func loadsAPluginBuiltForABI11WithoutReadingPastItsSinkVtable() throws {
        let library = try openFixture("abi_1_1_sink.c")
        #expect(library.descriptor.abi == ABIVersion(major: 1, minor: 1))
        let vtable = try #require(library.descriptor.auditSink)
        #expect(vtable.struct_size == 72)
        #expect(vtable.reopen == nil, "the reopen slot lies past the 1.1 vtable's struct_size")
    }

    @Test func refusesAPluginThatRequiresMinor13() throws {
        let error = try #require(try loadError("abi_1_3_required.c"))
        #expect(error.kind == .incompatible)
        #expect(error.message.contains("plugin requires ABI 1.3 but this host provides ABI 1.2"))
    }

    @Test func refusesAnotherMajor() throws {
        let error = try #require(try loadError("abi_major_2.c"))
        #expect(error.kind == .incompatible)
        #expect(error.message.contains("built for ABI 2.0 but this host provides ABI 1.2"))
    }

    @Test func refusesADescriptorSmallerThan10() throws {
        let error = try #require(try loadError("small_descriptor.c"))
        #expect(error.kind == .malformedDescriptor)
        #expect(error.message.contains("smaller than ABI 1.0's 64"))
    }

    @Test func refusesANullRequiredFunction() throws {
        let error = try #require(try loadError("null_required_function.c"))
        #expect(error.kind == .malformedDescriptor)
        #expect(error.message.contains("audit_sink vtable is incomplete: required function write NULL"))
    }

    @Test func refusesACapabilityBitWithoutItsVtable() throws {
        let error = try #require(try loadError("caps_mismatch.c"))
        #expect(error.kind == .malformedDescriptor)
        #expect(error.message.contains("vtable is NULL"))
    }

    @Test func reportsThePluginsRefusalOfTheHost() throws {
        let error = try #require(try loadError("refuses_host.c"))
        #expect(error.kind == .incompatible)
        #expect(error.message.contains("needs host feature X"))
    }

    @Test func refusesALibraryWithoutTheEntrySymbol() throws {
        let error = try #require(try loadError("no_entry_symbol.c"))
        #expect(error.kind == .noEntrySymbol)
        #expect(error.message.contains("does not export laforge_plugin_entry"))
    }

    @Test func refusesAFileThatIsNotELF() throws {
        do {
            _ = try PluginLibrary.open(path: fixtureURL("plugins/not_elf.txt").path)
            Issue.record("a text file loaded as a plugin")
        } catch {
            #expect(error.kind == .notLoadable)
            #expect(error.message.contains("not an ELF shared object"))
        }
    }

    @Test func blamesThePluginForAnInvalidSchema() throws {
        let library = try openFixture("bad_schema.c")
        do {
            _ = try PluginSchemaCheck(
                schemaText: library.descriptor.configSchemaText(for: .auditSink), library: library.path)
            Issue.record("an invalid plugin schema was accepted")
        } catch {
            #expect(error.kind == .invalidPluginSchema)
            #expect(error.message.contains("bug in the plugin, not in your configuration"))
            #expect(error.message.contains("required"))
        }
    }

    @Test func readsLastErrorOfAFailedCreateThenDestroysIt() throws {
        let directory = try makePluginDirectory(["libfails.so": "create_fails.c"])
        let log = CapturedLog()
        do {
            _ = try startRuntime(
                """
                version: 1
                audit:
                  sinks:
                    - name: remote
                      library: libfails.so
                """, pluginDirectory: directory, log: log)
            Issue.record("a failing create produced an instance")
        } catch {
            guard case .plugin(let loadError) = error else { Issue.record("\(error)"); return }
            #expect(loadError.kind == .createFailed)
            #expect(loadError.description.contains("plugin remote"))
            #expect(loadError.message.contains("create failed (INVALID_ARGUMENT): bad endpoint: connection refused"))
        }
        #expect(log.text.contains("create_fails: destroy called"))
    }

    @Test func treatsAnUnknownStatusAsAProtocolViolation() throws {
        let directory = try makePluginDirectory(["libunknown.so": "unknown_status.c"])
        let runtime = try startRuntime(
            """
            version: 1
            audit:
              sinks:
                - name: odd
                  library: libunknown.so
            """, pluginDirectory: directory)
        defer { runtime.close() }
        let batch = AuditBatch(
            chainID: "test",
            records: [AuditRecord(kind: .entry, seq: 0, hash: Array(repeating: 1, count: 32), prevHash: Array(repeating: 0, count: 32), data: Array("{}".utf8))])
        do {
            _ = try runtime.sinks[0].write(batch)
            Issue.record("status 42 was accepted")
        } catch {
            #expect(error.kind == .protocolViolation)
            #expect(error.description.contains("unknown status 42"))
        }
    }

    @Test func neverCallsAnInstanceAfterDestroy() throws {
        let directory = try makePluginDirectory(["libsink.so": "abi_1_0_sink.c"])
        let runtime = try startRuntime(
            """
            version: 1
            audit:
              sinks:
                - name: sink
                  library: libsink.so
            """, pluginDirectory: directory)
        runtime.close()
        #expect(throws: PluginCallError.self) { try runtime.sinks[0].write(AuditBatch(chainID: "c", records: [])) }
    }
}
