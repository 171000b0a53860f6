import Foundation

/// Finds the `capsize-launch` executable.
enum Launcher {
    static let name = "capsize-launch"

    /// The first executable among: `CAPSIZE_LAUNCHER`; the directory of the running binary (where
    /// `swift build` puts every product, and where the test bundle runs from); `../libexec/capsize/`
    /// beside it; the directory of `argv[0]`; then `PATH`.
    /// - Throws: `SandboxError` listing the places searched.
    static func locate() throws(SandboxError) -> String {
        let environment = ProcessInfo.processInfo.environment
        var candidates: [String] = []
        if let explicit = environment["CAPSIZE_LAUNCHER"] { candidates.append(explicit) }
        let executable =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? Bundle.main.executablePath
        if let executable {
            let directory = URL(fileURLWithPath: executable).deletingLastPathComponent()
            candidates.append(directory.appendingPathComponent(name).path)
            candidates.append(directory.appendingPathComponent("../libexec/capsize/\(name)").standardized.path)
        }
        if let first = CommandLine.arguments.first, first.contains("/") {
            candidates.append(URL(fileURLWithPath: first).deletingLastPathComponent().appendingPathComponent(name).path)
        }
        for directory in (environment["PATH"] ?? "").split(separator: ":") { candidates.append("\(directory)/\(name)") }
        if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) { return found }
        throw SandboxError(
            "\(name) was not found (searched \(candidates.prefix(4).joined(separator: ", ")) and PATH); "
                + "build it with `swift build` or set CAPSIZE_LAUNCHER to its path.")
    }

    /// The launcher's options for `argv` under `limits`, up to and with `--` and `argv` (its `--parent` is added
    /// by whoever starts it): the report on descriptor 3, no core files, the rlimits, CPUs, the private /dev/shm, the
    /// user, the PID namespace and the kernel's memory backstop (`cgroup`, else `limits.addressSpaceBytes`).
    static func options(
        _ argv: [String], limits: SandboxLimits, user: SandboxUser?, pidNamespace: Bool,
        workingDirectory: String? = nil, cgroup: String? = nil
    ) -> [String] {
        var options = ["--report-fd", "3", "--rlimit", "core=0"]
        if let workingDirectory { options += ["--chdir", workingDirectory] }
        if limits.privateSharedMemory, let memory = limits.memoryBytes { options += ["--private-shm", "\(memory)"] }
        if let user { options += ["--user", user.launcherValue] }
        if pidNamespace { options.append("--pid-namespace") }
        if let openFiles = limits.openFiles { options += ["--rlimit", "nofile=\(openFiles)"] }
        if let processes = limits.processes { options += ["--rlimit", "nproc=\(processes)"] }
        if let cpus = limits.cpuList { options += ["--cpus", cpus.map(String.init).joined(separator: ",")] }
        if let cgroup {
            options += ["--cgroup", cgroup]
        } else if let bytes = limits.addressSpaceBytes {
            options += ["--rlimit", "as=\(bytes)"]
        }
        return options + ["--"] + argv
    }
}
