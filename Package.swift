// swift-tools-version: 6.1
// capsize: benchmark heavy compute against serverless caps (see README.md).
import PackageDescription

// MARK: - C libraries (system-library targets: module maps only, no Swift)

let cLibraries: [Target] = [
    // OpenBLAS's function types and CPUID, nothing linked: Compute opens libopenblas.so.0 (Debian's libopenblas0)
    // with dlopen once it has chosen OPENBLAS_CORETYPE (see Compute/BLAS.swift).
    .systemLibrary(name: "COpenBLAS"),
    .systemLibrary(
        name: "COpenCL",
        pkgConfig: "OpenCL",
        providers: [.apt(["ocl-icd-opencl-dev", "opencl-c-headers", "libclblast-dev", "pocl-opencl-icd"])]
    ),
    // Linux calls missing from Swift's Glibc module (pipe2, ppoll, statfs), for the sandbox.
    .systemLibrary(name: "CLinux"),
    // zlib, for the compressed PNG frames render-frames writes (Compute's `Zlib`).
    .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
]

// MARK: - Libraries

let libraries: [Target] = [
    // What every layer shares: the bad-input error (field, value, allowed) that exits with 2, capsize's home
    // directory, the file lock beside a shared file, and the field a decoding error is about.
    .target(name: "CapsizeCore"),
    // The facts capsize emulates: prices, limits and formats of Lambda, Batch, Fargate and EC2
    // (data/*.json compiled in), and Slurm's batch-script header.
    .target(name: "CloudModel", dependencies: ["CapsizeCore"], plugins: [.plugin(name: "EmbedKernels")]),
    // The only module that imports C: BLAS, OpenCL, CLBlast, zlib, host facts, calibration, kernels/*.cl.
    .target(
        name: "Compute", dependencies: ["CapsizeCore", "COpenBLAS", "COpenCL", "CZlib"],
        plugins: [.plugin(name: "EmbedKernels")]
    ),
    // Statistics over repeated measurements, and two results' benchmarks compared (the Mann–Whitney U test).
    .target(name: "Analysis"),
    // What a workload would cost and how long it would take on Lambda, Fargate, EC2 and Batch (projected from
    // measurements and the price catalog), which option to pick, and the templates to deploy it.
    .target(name: "Planning", dependencies: ["CapsizeCore", "CloudModel"]),
    // The workloads: train-mlp, render-frames, command.
    .target(name: "Workloads", dependencies: ["Compute", "CapsizeCore"]),
    // Runs, invocations, jobs, environments and measurements in SQLite (GRDB), each committed as it ends.
    .target(name: "Store", dependencies: ["CapsizeCore", .product(name: "GRDB", package: "GRDB.swift")]),
    // The sandbox every invocation and job runs in: caps (wall clock, memory of the process tree, CPUs,
    // temporary storage, output) and measurements, through the capsize-launch helper; and the service
    // models on top of it (Function/: the Lambda model; Batch/: the Batch model, run here or on Slurm, whose
    // batch scripts start with CloudModel's sbatch header).
    // Compute: the OPENBLAS_CORETYPE capsize chose, which every program it starts gets. Workloads: the result a
    // worker answers with (Worker/WorkerProtocol.swift, the one protocol between executors and `capsize worker`).
    .target(
        name: "Execution", dependencies: ["CLinux", "CapsizeCore", "CloudModel", "Compute", "Store", "Workloads"]),
    // What capsize measures as a whole, as library calls a command line, a suite or a server can make:
    // bench (a workload repeated on one device), invoke (a function), sweep and caps (a workload's size stepped up
    // under the Lambda or Batch model until a cap breaks), the profile `recommend` projects from, and the device
    // survey; each run recorded as it ends.
    .target(
        name: "Studies",
        dependencies: [
            "Analysis", "CapsizeCore", "CloudModel", "Compute", "Execution", "Planning", "Store", "Workloads",
            .product(name: "Yams", package: "Yams"),
        ]),
    // What capsize shows people: numbers formatted, tables, and the text of runs, benches, invocations, sweeps,
    // caps studies, recommendations and devices.
    .target(
        name: "Reports",
        dependencies: [
            "Analysis", "CapsizeCore", "CloudModel", "Execution", "Planning", "Store", "Studies", "Workloads",
        ]),
    // `capsize serve`: the AWS Batch API (REST-JSON, /v1/...) over one long-lived local batch executor, and the
    // Lambda Invoke API over the functions a `LambdaFunctions` serves, on loopback (Hummingbird 2).
    .target(
        name: "Server",
        dependencies: [
            "CapsizeCore", "CloudModel", "Execution", "Store", "Studies",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
        ]),
    // The command-line interface, kept in a library so tests can reach its pieces.
    .target(
        name: "CapsizeCLI",
        dependencies: [
            "CapsizeCore", "CloudModel", "Compute", "Workloads", "Analysis", "Planning", "Store", "Execution",
            "Studies", "Server",
            "Reports", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]
    ),
]

// MARK: - Build tools (kernels/*.cl and data/*.json are compiled into the binary as string literals)

let buildTools: [Target] = [
    .executableTarget(name: "EmbedKernelsTool"),
    .plugin(name: "EmbedKernels", capability: .buildTool(), dependencies: ["EmbedKernelsTool"]),
]

// MARK: - Executable

let executables: [Target] = [
    .executableTarget(name: "capsize", dependencies: ["CapsizeCLI"]),
    // The small C process that forks, limits, execs and waits for every sandboxed program.
    // Linked statically: SwiftPM links the Swift runtime and libstdc++ into every executable, and
    // loading them dynamically cost 2.2 ms per launcher start (0.85 ms static, as a plain C build).
    // -nostartfiles leaves out swiftrt.o, whose constructor was all that pulled the Swift runtime in:
    // 0.9 MB instead of 9.5 MB, and an exec'd launcher starts about 0.1 ms sooner (see RESULTS.md).
    .executableTarget(
        name: "capsize-launch", path: "Sources/CapsizeLaunch",
        linkerSettings: [.unsafeFlags(["-static-executable", "-nostartfiles"])]),
]

// MARK: - Tests

let tests: [Target] = [
    // What several test targets share: running a process to its end, fresh directories, cfn-lint.
    .target(name: "TestSupport", path: "Tests/TestSupport"),
    .testTarget(name: "ComputeTests", dependencies: ["Compute", "CapsizeCore", "TestSupport"]),
    .testTarget(name: "AnalysisTests", dependencies: ["Analysis"]),
    .testTarget(name: "WorkloadsTests", dependencies: ["Workloads", "Compute", "CapsizeCore"]),
    .testTarget(name: "CloudModelTests", dependencies: ["CloudModel", "CapsizeCore"]),
    // Runs cfn-lint (TestSupport finds it) on the exported SAM template.
    .testTarget(name: "PlanningTests", dependencies: ["Planning", "CloudModel", "CapsizeCore", "TestSupport"]),
    // GRDB too: the tests inspect the schema and journal mode through their own connection.
    .testTarget(
        name: "StoreTests", dependencies: ["Store", "TestSupport", .product(name: "GRDB", package: "GRDB.swift")]),
    .testTarget(
        name: "ExecutionTests",
        dependencies: ["Execution", "CapsizeCore", "CloudModel", "Store", "TestSupport", "Workloads"]),
    .testTarget(
        name: "StudiesTests",
        dependencies: ["Studies", "Store", "Workloads", "CapsizeCore", "Execution", "TestSupport"]),
    .testTarget(name: "ReportsTests", dependencies: ["Reports", "Studies", "Workloads"]),
    // Workloads: the fuzz tests' seeded generator (SplitMix64).
    .testTarget(name: "CapsizeCLITests", dependencies: ["CapsizeCLI", "Compute", "Store", "TestSupport", "Workloads"]),
]

let package = Package(
    name: "capsize",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "capsize", targets: ["capsize"]),
        // Installed next to capsize: the sandbox runs every program through it.
        .executable(name: "capsize-launch", targets: ["capsize-launch"]),
        // For Benchmarks/ (a nested package measuring capsize's own code).
        .library(
            name: "CapsizeKit", targets: ["CapsizeCore", "CloudModel", "Compute", "Workloads", "Analysis", "Planning"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        // Hummingbird's logger's type (capsize serve keeps it quiet).
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: cLibraries + libraries + buildTools + executables + tests
)

for target in package.targets where target.type != .system && target.type != .plugin {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("InternalImportsByDefault"))
    target.swiftSettings = settings
}
