// swift-tools-version: 6.1
import PackageDescription

// System libraries come from Debian's -dev packages (see README.md); each is a module map with
// pkg-config so the compiler and linker flags come from the distribution, not from this file.
// What every test target links: each host module (a test target is named after what it tests,
// and may reach into any layer to set a scenario up), the shared support library and the tools.
let testSupportDependencies: [Target.Dependency] = [
    "LaForgeCore", "LaForgeJournal", "LaForgePlugins", "LaForgeAudit", "LaForgeSecrets",
    "LaForgeIdentity", "LaForgeGovernance", "PluginABI", "HTTPClient",
    .product(name: "Logging", package: "swift-log"),
    .product(name: "CoreMetrics", package: "swift-metrics"),
    .product(name: "MetricsTestKit", package: "swift-metrics"),
]

let package = Package(
    name: "laforge-runtime",
    products: [
        .executable(name: "laforge", targets: ["laforge"]),
        .library(name: "LaForgeHost", targets: ["LaForgeHost"]),
        .library(name: "LaForgeServer", targets: ["LaForgeServer"]),
        .library(name: "LaForgeClient", targets: ["LaForgeClient"]),
        // Plugins are shared libraries the host dlopens; `swift build` puts them beside `laforge`.
        .library(name: "FileSink", type: .dynamic, targets: ["FileSink"]),
        .library(name: "PostgresAudit", type: .dynamic, targets: ["PostgresAudit"]),
        .library(name: "example_plugin", type: .dynamic, targets: ["ExamplePlugin"]),
        .library(name: "bench_null_sink", type: .dynamic, targets: ["BenchNullSink"]),
        .library(name: "SIEMWebhook", type: .dynamic, targets: ["SIEMWebhook"]),
        .library(name: "KMSSecrets", type: .dynamic, targets: ["KMSSecrets"]),
        .library(name: "OIDCConnector", type: .dynamic, targets: ["OIDCConnector"]),
        .executable(name: "laforge-bench", targets: ["laforge-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // The Swift server ecosystem's logging and metrics APIs: the host logs and counts through
        // them, so an embedding service routes both into the backends it bootstrapped.
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        // `laforge serve`'s HTTP/1.1 server (SwiftNIO underneath): no hand-written HTTP parsing.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        // The server ecosystem's service lifecycle: `LaForgeRuntime` is a `Service`, so a Swift
        // server runs it in its `ServiceGroup` and it drains on graceful shutdown.
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // The stable C ABI every plugin is written against. Header only (plus a translation unit
        // that pins the constants with static assertions).
        .target(name: "PluginABI", path: "Sources/PluginABI"),
        // The ABI helpers both sides of the header need (PluginStatus and the status codes,
        // size-prefixed copies, static C strings): the host's loader and the plugin kit share this
        // one copy. Below every host layer; LaForgeCore re-exports it.
        .target(name: "LaForgeABI", dependencies: ["PluginABI"], path: "Sources/LaForgeABI"),

        .systemLibrary(
            name: "CSodium", path: "Sources/CSodium", pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]),
        .systemLibrary(
            name: "CYAML", path: "Sources/CYAML", pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"])]),
        .systemLibrary(
            name: "CCurl", path: "Sources/CCurl", pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(
            name: "CLibPQ", path: "Sources/CLibPQ", pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]),
        .systemLibrary(
            name: "COpenSSL", path: "Sources/COpenSSL", pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]),
        // zlib: gzip request bodies (SIEMWebhook's `gzip: true`).
        .systemLibrary(
            name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]),

        // The project's one HTTP client (libcurl): SIEMWebhook now, KMSSecrets later.
        .target(name: "HTTPClient", dependencies: ["CCurl"], path: "Sources/HTTPClient"),
        // The project's one RSA/ECDSA library (OpenSSL libcrypto): JWS verification and JWK keys
        // (OIDCConnector), RS256 signing of GCP JWT-bearer assertions (KMSSecrets).
        .target(name: "OpenSSLCrypto", dependencies: ["COpenSSL"], path: "Sources/OpenSSLCrypto"),

        // The host, in layers: each module imports only the ones above it in this list, so the
        // compiler keeps the dependencies pointing one way (docs/ARCHITECTURE.md has the map;
        // Tests/ArchitectureTests checks that no file imports a higher layer).
        // Core: JSON and RFC 8785, SHA-256/Ed25519, the RFC 6962 tree and C2SP notes, locks,
        // clocks, durable file I/O, logging and metrics.
        .target(
            name: "LaForgeCore",
            dependencies: [
                "LaForgeABI", "PluginABI", "CSodium", "COpenSSL",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            path: "Sources/LaForgeCore"),
        // The durable journal: segments, group commit, cursors, the checkpoint log.
        .target(name: "LaForgeJournal", dependencies: ["LaForgeCore"], path: "Sources/LaForgeJournal"),
        // Configuration, JSON Schema, the plugin loader and runtime, the conformance kit.
        .target(
            name: "LaForgePlugins", dependencies: ["LaForgeCore", "PluginABI", "CYAML", "CSodium"],
            path: "Sources/LaForgePlugins"),
        // The audit trail: events, ingest, the audit log and its checkpointer, delivery, verify.
        .target(
            name: "LaForgeAudit", dependencies: ["LaForgeCore", "LaForgeJournal", "LaForgePlugins", "CSodium"],
            path: "Sources/LaForgeAudit"),
        // Envelope encryption over the secret-backend plugins.
        .target(
            name: "LaForgeSecrets", dependencies: ["LaForgeCore", "LaForgePlugins", "CSodium"],
            path: "Sources/LaForgeSecrets"),
        // Principals, claims_to_roles, authorization, login and the token cache.
        .target(
            name: "LaForgeIdentity", dependencies: ["LaForgeCore", "LaForgePlugins", "LaForgeAudit"],
            path: "Sources/LaForgeIdentity"),
        // Snapshots, approvals, the deployment guard, provenance, periodic verification.
        .target(
            name: "LaForgeGovernance",
            dependencies: ["LaForgeCore", "LaForgeJournal", "LaForgePlugins", "LaForgeAudit"],
            path: "Sources/LaForgeGovernance"),
        // The umbrella: re-exports every layer (existing callers keep `import LaForgeHost`) and
        // holds the runtime facade for embedders (`LaForgeRuntime`, docs/EMBEDDING.md).
        .target(
            name: "LaForgeHost",
            dependencies: [
                "LaForgeCore", "LaForgeJournal", "LaForgePlugins", "LaForgeAudit", "LaForgeSecrets",
                "LaForgeIdentity", "LaForgeGovernance",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/LaForgeHost"),

        // `laforge serve`: the local HTTP API over a Unix socket (docs/API.md), above the umbrella
        // because it serves the runtime that LaForgeHost assembles.
        .target(
            name: "LaForgeServer",
            dependencies: [
                "LaForgeHost",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/LaForgeServer"),

        // The Swift client of `laforge serve`'s API over its Unix socket (for the compiler and
        // Swift services); on the project's HTTP client, independent of the host.
        .target(name: "LaForgeClient", dependencies: ["HTTPClient"], path: "Sources/LaForgeClient"),

        // The CLI only parses arguments and prints; every decision lives in LaForgeHost.
        .executableTarget(
            name: "laforge",
            dependencies: [
                "LaForgeHost", "LaForgeServer", "LaForgeClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/laforge"),

        // What every Swift plugin needs (docs/ABI.md "Writing a plugin in Swift"): the entry and
        // vtable glue, last_error, configuration JSON, base64, host services. Linked into each
        // plugin; plugins do not link the host library.
        .target(name: "LaForgePluginKit", dependencies: ["LaForgeABI", "PluginABI"], path: "Sources/LaForgePluginKit"),

        // Plugins. Tests never depend on these (each exports the same entry symbol); they find
        // the built .so files next to the test binary.
        .target(name: "FileSink", dependencies: ["LaForgePluginKit"], path: "Plugins/FileSink"),
        .target(name: "PostgresAudit", dependencies: ["LaForgePluginKit", "CLibPQ"], path: "Plugins/PostgresAudit"),
        .target(
            name: "SIEMWebhook", dependencies: ["LaForgePluginKit", "HTTPClient", "CSodium", "CZlib"],
            path: "Plugins/SIEMWebhook"),
        .target(
            name: "KMSSecrets", dependencies: ["LaForgePluginKit", "HTTPClient", "OpenSSLCrypto", "CSodium"],
            path: "Plugins/KMSSecrets"),
        .target(
            name: "OIDCConnector", dependencies: ["LaForgePluginKit", "HTTPClient", "OpenSSLCrypto", "COpenSSL"],
            path: "Plugins/OIDCConnector"),
        // The plain-C example plugin (examples/README.md); tests also build it with `cc`.
        .target(
            name: "ExamplePlugin", dependencies: ["PluginABI"], path: "examples",
            exclude: ["README.md", "Makefile", "embedding"], sources: ["example_plugin.c"], publicHeadersPath: ".",
            cSettings: [.unsafeFlags(["-std=c99", "-pedantic", "-Wall", "-Wextra", "-Werror"])]),

        // Benchmarks (docs/PERFORMANCE.md): `swift run -c release laforge-bench abi`.
        .target(
            name: "BenchNullSink", dependencies: ["PluginABI"], path: "bench/NullSink",
            publicHeadersPath: "."),
        .executableTarget(
            name: "laforge-bench",
            dependencies: [
                "LaForgeHost", "LaForgeClient", "PluginABI", "CSodium", "HTTPClient", "OpenSSLCrypto",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/laforge-bench"),

        // Fuzz targets for the parsers of untrusted input (docs/SECURITY.md): with libFuzzer
        // (`scripts/fuzz` builds it with -sanitize=fuzzer and -DLAFORGE_LIBFUZZER) a fuzzer, in an
        // ordinary build a replayer of the committed corpora, which the test suite runs.
        .executableTarget(
            name: "laforge-fuzz",
            dependencies: ["LaForgeCore", "LaForgePlugins", "LaForgeAudit", "LaForgePluginKit", "OIDCConnector"],
            path: "Fuzz/laforge-fuzz"),

        // What the test targets share: sandboxes, the CLI runner, the C plugin builder, the real
        // services' fixtures. Tests mirror the modules: one target per host module (what it
        // tests, not what it imports), one per plugin, the CLI, and the umbrella's own checks.
        .target(
            name: "LaForgeTestSupport",
            dependencies: testSupportDependencies,
            path: "Tests/LaForgeTestSupport",
            resources: [.copy("Fixtures")]),
        .testTarget(name: "CLITests", dependencies: testSupportDependencies + ["LaForgeTestSupport"], path: "Tests/CLITests"),
        .testTarget(name: "FileSinkTests", dependencies: testSupportDependencies + ["LaForgeTestSupport"], path: "Tests/FileSinkTests"),
        .testTarget(name: "KMSSecretsTests", dependencies: testSupportDependencies + ["LaForgeTestSupport"], path: "Tests/KMSSecretsTests"),
        .testTarget(name: "LaForgeAuditTests", dependencies: testSupportDependencies + ["LaForgeTestSupport"], path: "Tests/LaForgeAuditTests"),
        .testTarget(name: "LaForgeCoreTests", dependencies: testSupportDependencies + ["LaForgeTestSupport"], path: "Tests/LaForgeCoreTests"),
        .testTarget(name: "LaForgeGovernanceTests", dependencies: testSupportDependencies + ["LaForgeTestSupport"], path: "Tests/LaForgeGovernanceTests"),
        .testTarget(
            name: "LaForgeHostTests",
            dependencies: testSupportDependencies + [
                "LaForgeTestSupport", "LaForgeHost",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/LaForgeHostTests"),
        .testTarget(name: "LaForgeIdentityTests", dependencies: testSupportDependencies + ["LaForgeTestSupport"], path: "Tests/LaForgeIdentityTests"),
        .testTarget(name: "LaForgeJournalTests", dependencies: testSupportDependencies + ["LaForgeTestSupport"], path: "Tests/LaForgeJournalTests"),
        .testTarget(name: "LaForgePluginsTests", dependencies: testSupportDependencies + ["LaForgeTestSupport"], path: "Tests/LaForgePluginsTests"),
        .testTarget(name: "LaForgeServerTests", dependencies: testSupportDependencies + ["LaForgeTestSupport", "LaForgeClient"], path: "Tests/LaForgeServerTests"),
        .testTarget(name: "LaForgeSecretsTests", dependencies: testSupportDependencies + ["LaForgeTestSupport"], path: "Tests/LaForgeSecretsTests"),
        .testTarget(name: "OIDCConnectorTests", dependencies: testSupportDependencies + ["LaForgeTestSupport"], path: "Tests/OIDCConnectorTests"),
        .testTarget(name: "PostgresAuditTests", dependencies: testSupportDependencies + ["LaForgeTestSupport"], path: "Tests/PostgresAuditTests"),
        .testTarget(name: "SIEMWebhookTests", dependencies: testSupportDependencies + ["LaForgeTestSupport"], path: "Tests/SIEMWebhookTests"),
        // The plugin kit on its own (its glue driven through the C function pointers); the shipped
        // plugins are tested through the host, from their built .so files.
        .testTarget(name: "LaForgePluginKitTests", dependencies: ["LaForgePluginKit"], path: "Tests/LaForgePluginKitTests"),
    ]
)
