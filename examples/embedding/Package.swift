// swift-tools-version: 6.1
import PackageDescription

// An embedder's package: it depends on LaForge by URL, as any Swift package would, and uses only
// the runtime facade (`LaForgeRuntime`, docs/EMBEDDING.md).
let package = Package(
    name: "laforge-embedding-example",
    dependencies: [
        .package(url: "https://github.com/laforge/laforge-runtime", branch: "main"),
    ],
    targets: [
        .executableTarget(
            name: "EmbeddingExample",
            dependencies: [.product(name: "LaForgeHost", package: "laforge-runtime")],
            path: "Sources/EmbeddingExample"),
    ]
)
