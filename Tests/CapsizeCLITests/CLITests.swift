import Foundation
import TestSupport
import Testing

/// A `capsize` process (the binary next to the test bundle) with the tests' store and environment: this process's,
/// less the variables in `unsetting`, plus `environment`.
func capsizeProcess(_ arguments: [String], environment: [String: String] = [:], unsetting: [String] = []) -> Process {
    let process = Process()
    process.executableURL =
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        .appendingPathComponent("capsize").standardizedFileURL
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    env["CAPSIZE_HOME"] = testHome
    for key in unsetting { env[key] = nil }
    for (key, value) in environment { env[key] = value }
    process.environment = env
    return process
}

/// Runs the built `capsize` binary with `arguments` to the end.
func capsize(_ arguments: [String], environment: [String: String] = [:], unsetting: [String] = []) throws
    -> ProcessOutput
{
    try runToEnd(capsizeProcess(arguments, environment: environment, unsetting: unsetting))
}

let testHome: String = {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("capsize-cli-tests-\(getpid())").path
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}()

/// Runs capsize with `arguments` in `home` and expects it refused as bad input: exit code 2 and one line (besides
/// notices) that contains `mentions`.
@discardableResult
func expectBadInput(_ arguments: [String], mentions: String, home: String) throws -> ProcessOutput {
    let result = try capsize(arguments, environment: ["CAPSIZE_HOME": home])
    #expect(result.status == 2, "\(arguments): \(result.stderr)")
    #expect(result.stderr.split(separator: "\n").filter { !$0.hasPrefix("notice:") }.count == 1, "\(result.stderr)")
    #expect(result.stderr.contains(mentions), "\(result.stderr)")
    return result
}

func json(_ text: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
}

let hasOpenCL: Bool = {
    guard let result = try? capsize(["devices", "--json"]), let object = try? json(result.stdout) else { return false }
    return !((object["openCL"] as? [Any]) ?? []).isEmpty
}()

let tinyMLP = ["--batch", "32", "--inputs", "24", "--hidden", "48", "--layers", "2", "--steps", "10"]

@Suite(.serialized) struct CLITests {
    @Test("devices --json parses and lists the host, BLAS and the PoCL device")
    func devicesJSON() throws {
        let result = try capsize(["devices", "--json"])
        #expect(result.status == 0)
        let object = try json(result.stdout)
        let host = try #require(object["host"] as? [String: Any])
        #expect((host["logicalCores"] as? Int ?? 0) >= 1)
        let blas = try #require(object["blas"] as? [String: Any])
        #expect((blas["configuration"] as? String ?? "").contains("OpenBLAS"))
        let devices = try #require(object["openCL"] as? [[String: Any]])
        #expect(devices.contains { ($0["platform"] as? String ?? "").contains("Portable Computing Language") })
    }

    @Test("with no OpenCL platform, devices says so and the CPU paths still run")
    func noOpenCL() throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("no-icd-\(getpid())").path
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        let environment = ["OCL_ICD_VENDORS": empty]
        let devices = try capsize(["devices", "--json"], environment: environment)
        #expect(devices.status == 0)
        let object = try json(devices.stdout)
        #expect((object["openCL"] as? [Any])?.isEmpty == true)
        #expect((object["openCLNotice"] as? String ?? "").contains("no OpenCL platform"))
        let mlp = try capsize(
            ["bench", "train-mlp", "--device", "cpu", "--repeat", "1", "--warmup", "0"] + tinyMLP,
            environment: environment)
        #expect(mlp.status == 0)
        let render = try capsize(
            [
                "bench", "render-frames", "--device", "auto", "--width", "32", "--height", "24",
                "--frames", "1", "--repeat", "1", "--warmup", "0",
            ], environment: environment)
        #expect(render.status == 0, "\(render.stderr)")
        #expect(render.stdout.contains("native"))
        #expect(render.stderr.contains("no OpenCL platform"))
    }

    @Test("bench train-mlp prints the same loss curve on the CPU and on OpenCL", .enabled(if: hasOpenCL))
    func matchingLosses() throws {
        func losses(_ device: String) throws -> [Double] {
            let result = try capsize(
                ["bench", "train-mlp", "--device", device, "--repeat", "1", "--warmup", "0", "--json"] + tinyMLP)
            #expect(result.status == 0, "\(result.stderr)")
            let runs = try #require(try json(result.stdout)["runs"] as? [[String: Any]])
            let series = try #require(runs.first?["series"] as? [String: [Double]])
            return try #require(series["loss"])
        }
        let cpu = try losses("cpu")
        let openCL = try losses("opencl:0")
        #expect(cpu.count == 10 && openCL.count == 10)
        for (a, b) in zip(cpu, openCL) { #expect(abs(a - b) / a <= 1e-3) }
        #expect(cpu.last! < cpu.first!)
    }

    @Test("bench reports a summary with a confidence interval, and JSON with every run")
    func benchSummary() throws {
        let text = try capsize(["bench", "train-mlp", "--device", "cpu", "--repeat", "3", "--warmup", "1"] + tinyMLP)
        #expect(text.status == 0)
        #expect(text.stdout.contains("median"))
        #expect(text.stdout.contains("95% CI of the median"))
        #expect(text.stdout.contains("loss per step (measured)"))
        let result = try capsize(
            ["bench", "train-mlp", "--device", "cpu", "--repeat", "3", "--warmup", "0", "--json"] + tinyMLP)
        let object = try json(result.stdout)
        #expect((object["runs"] as? [Any])?.count == 3)
        let summary = try #require(object["summary"] as? [String: Any])
        let median = try #require(summary["median"] as? Double)
        #expect(median > 0)
    }

    @Test("render-frames --save-frames writes one PNG per frame")
    func saveFrames() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("frames-\(getpid())").path
        let result = try capsize([
            "bench", "render-frames", "--width", "48", "--height", "32", "--frames", "3",
            "--repeat", "1", "--warmup", "0", "--save-frames", directory,
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".png") }
        #expect(files.count == 3)
        for file in files {
            let data = try Data(contentsOf: URL(fileURLWithPath: directory).appendingPathComponent(file))
            #expect(data.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        }
    }

    @Test(
        "bench command runs a program with {size} substituted, its output on stderr; a missing program is bad input")
    func command() throws {
        let ok = try capsize([
            "bench", "command", "--size", "7", "--repeat", "1", "--warmup", "0", "--json", "--", "/bin/sh", "-c",
            "test {size} -eq 7 && echo ran {size}",
        ])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stderr.contains("ran 7"), "the command's output goes to stderr, beside the JSON on stdout")
        let runs = try #require(try json(ok.stdout)["runs"] as? [[String: Any]])
        let metrics = try #require(runs.first?["metrics"] as? [String: Double])
        #expect(metrics["exit_code"] == 0)
        let failing = try capsize([
            "bench", "command", "--size", "8", "--repeat", "1", "--warmup", "0", "--json", "--", "/bin/sh", "-c",
            "test {size} -eq 7",
        ])
        let failedRuns = try #require(try json(failing.stdout)["runs"] as? [[String: Any]])
        #expect((failedRuns.first?["metrics"] as? [String: Double])?["exit_code"] == 1)
        let missing = try capsize(["bench", "command", "--", "/no/such/program"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("/no/such/program"))
    }

    @Test("--version prints capsize and a semantic version, and exits 0")
    func version() throws {
        let result = try capsize(["--version"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.wholeMatch(of: /capsize \d+\.\d+\.\d+\n/) != nil, "\(result.stdout)")
    }

    @Test("an unknown device lists the devices that exist")
    func unknownDeviceListsDevices() throws {
        let result = try capsize(["bench", "train-mlp", "--device", "opencl:99"])
        #expect(result.stderr.contains("cpu") && result.stderr.contains("native"))
        if hasOpenCL { #expect(result.stderr.contains("opencl:0")) }
    }
}
