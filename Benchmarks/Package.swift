// swift-tools-version: 6.1
// capsize's package-benchmark suites, kept in a nested package so that building or testing the
// main package never fetches or compiles the benchmark framework. See README.md in this folder.
import PackageDescription

/// A benchmark executable: sources in `Benchmarks/<name>/` (the folder name the benchmark plugin
/// looks for), the capsize libraries and the framework, and the plugin that writes `main`.
func benchmarkTarget(_ name: String) -> Target {
    .executableTarget(
        name: name,
        dependencies: [
            .product(name: "CapsizeKit", package: "capsize"),
            .product(name: "Benchmark", package: "benchmark"),
        ],
        path: "Benchmarks/\(name)",
        plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
    )
}

let package = Package(
    name: "capsize-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "capsize", path: ".."),
        // Only the MallocInterposer trait: the default set also pulls swift-runtime-interposer
        // (Linux, Swift 6.3), which the offline package mirror does not carry.
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        benchmarkTarget("MLPStep"),
        benchmarkTarget("RenderKernel"),
    ]
)
