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

/// ABI 1.1's IdP connector capability through the real loader: a C connector loads and works
/// end to end (identity buffers released), half-built ones are refused with what to fix, and a
/// 1.0-sized descriptor still loads into this 1.1 host.
@Suite struct IdPConnectorLoaderTests {
    @Test func loadsACConnectorAndValidatesThroughTheABI() throws {
        let library = try openFixture("idp_connector.c")
        #expect(library.descriptor.capabilities == [.idpConnector])
        #expect(library.descriptor.abi == ABIVersion(major: 1, minor: 1))
        #expect(library.descriptor.idpConnectorFlows == ["validate_token"])

        let directory = try makePluginDirectory(["libidp.so": "idp_connector.c"])
        let runtime = try startRuntime(
            """
            version: 1
            identity:
              connectors:
                - name: fixture
                  library: libidp.so
              claims_to_roles:
                - claim: groups
                  value: "^laforge-(.*)$"
                  roles: ["$1"]
            """, pluginDirectory: directory)
        defer { runtime.close() }  // the fixture aborts on destroy if a buffer was not released
        let identity = IdentityService(runtime: runtime, auditLog: nil)
        let principal = try identity.principal(token: "good-token")
        #expect(principal.subject == "alice")
        #expect(principal.roles == ["admins"])
        #expect(principal.connector == "fixture")
        do {
            _ = try identity.principal(token: "forged")
            Issue.record("the fixture accepted a bad token")
        } catch {
            #expect(error.kind == .denied)
            #expect(error.message == "signature verification failed (fixture)")
        }
        // No browser login in this connector: a clear refusal, not a crash.
        do {
            _ = try identity.loginWithBrowser { _ in }
            Issue.record("login started on a connector without login_start")
        } catch {
            #expect(error.kind == .notConfigured)
            #expect(error.message.contains("offers no browser login"))
        }
    }

    @Test func refusesAnIncompleteVtable() throws {
        let error = try #require(try loadError("idp_incomplete.c"))
        #expect(error.kind == .malformedDescriptor)
        #expect(error.message.contains("idp_connector vtable is incomplete: required function validate_token NULL"))
    }

    @Test func refusesTheCapabilityInAMinor0Plugin() throws {
        let error = try #require(try loadError("idp_minor_0.c"))
        #expect(error.message.contains("offers an IdP connector (ABI 1.1) but declares abi_minor 0"))
    }

    @Test func aPluginWithA10SizedDescriptorStillLoads() throws {
        // abi_1_0_sink.c declares LAFORGE_DESCRIPTOR_SIZE_1_0 (64 bytes): the idp_connector
        // field is past its end and must read as absent.
        let library = try openFixture("abi_1_0_sink.c")
        #expect(DescriptorValidator.descriptorSize10 == 64)
        #expect(DescriptorValidator.descriptorSize11 == 72)
        #expect(library.descriptor.capabilities == [.auditSink])
        #expect(library.descriptor.idpConnector == nil)
    }

    @Test func aConnectorConfiguredAsTheWrongRoleIsRefused() throws {
        let directory = try makePluginDirectory(["libsink.so": "abi_1_0_sink.c"])
        do {
            _ = try startRuntime(
                "version: 1\nidentity:\n  connectors:\n    - name: notidp\n      library: libsink.so\n", pluginDirectory: directory)
            Issue.record("an audit sink was accepted as an IdP connector")
        } catch {
            #expect("\(error)".contains("is configured as IdP connector but the plugin abi_1_0_sink offers only audit_sink"))
        }
    }
}
