import CapsizeCore
import Compute
import Foundation
import Store
import TestSupport
import Testing
import Workloads

@testable import Studies

/// `Bench.run` through its API: a small train-mlp on the host, in a store of its own.
@Suite struct BenchTests {
    static func request(repeats: Int, warmup: Int = 0) throws -> BenchRequest {
        let values = try ParameterValues(
            ["batch": "16", "inputs": "8", "hidden": "16", "layers": "1", "steps": "2"], specs: TrainMLP.parameters)
        return BenchRequest(
            workload: try TrainMLP(parameters: values), values: values, device: .cpu, repeats: repeats, warmup: warmup,
            options: RunOptions())
    }

    static func store() throws -> (CapsizeStore, String) {
        let home = try temporaryDirectory("capsize-studies")
        return (try CapsizeStore(path: home + "/capsize.sqlite", machine: "test machine"), home)
    }

    @Test("a bench says prepared, then recorded, then each run in order, and records every run")
    func eventsAndRecords() async throws {
        let (store, home) = try Self.store()
        defer { try? FileManager.default.removeItem(atPath: home) }
        var events: [String] = []
        let report = try await Bench.run(
            try Self.request(repeats: 3), store: store, resuming: nil, parameters: { _ in ["test": "bench"] },
            devices: [],
            onEvent: { event in
                switch event {
                case .prepared(let target, _, let initSeconds):
                    if case .host = target { events.append("prepared on the host \(initSeconds >= 0)") }
                case .recorded(_, let earlier): events.append("recorded \(earlier)")
                case .measured(let index, _): events.append("run \(index)")
                }
            })
        #expect(events == ["prepared on the host true", "recorded 0", "run 1", "run 2", "run 3"])
        #expect(report.runs.count == 3 && report.workload == "train-mlp" && report.parameters["hidden"] == "16")
        #expect(Set(report.runs.map(\.checksum)).count == 1, "the same training three times gives the same weights")
        let measurements = try store.measurements(run: report.run)
        #expect(measurements.map(\.itemKey) == ["rep=1", "rep=2", "rep=3"])
        #expect(measurements.map(\.checksum) == report.runs.map(\.checksum))
    }

    @Test("a resumed bench keeps the runs recorded before and runs only the rest")
    func resumes() async throws {
        let (store, home) = try Self.store()
        defer { try? FileManager.default.removeItem(atPath: home) }
        let first = try await Bench.run(
            try Self.request(repeats: 2), store: store, resuming: nil, parameters: { _ in ["test": "bench"] },
            devices: [], onEvent: { _ in })
        // The same run, planned for 4: two were recorded, so two more run.
        let run = try store.run(id: first.run)
        var measured: [Int] = []
        var earlier = -1
        let resumed = try await Bench.run(
            try Self.request(repeats: 4), store: store, resuming: run, parameters: { _ in ["test": "bench"] },
            devices: [],
            onEvent: { event in
                if case .measured(let index, _) = event { measured.append(index) }
                if case .recorded(_, let count) = event { earlier = count }
            })
        #expect(earlier == 2 && measured == [3, 4])
        #expect(resumed.runs.count == 4 && resumed.run == first.run)
        #expect(try store.measurements(run: first.run).count == 4)
    }

    /// A bench of `command -- /bin/sh -c script`, measured once.
    static func command(_ script: String) async throws -> BenchReport {
        let (store, home) = try Self.store()
        defer { try? FileManager.default.removeItem(atPath: home) }
        let values = try ParameterValues(arguments: ["--", "/bin/sh", "-c", script], specs: CommandWorkload.parameters)
        let request = BenchRequest(
            workload: try CommandWorkload(parameters: values), values: values, device: .cpu, repeats: 1, warmup: 0,
            options: RunOptions())
        return try await Bench.run(
            request, store: store, resuming: nil, parameters: { _ in ["test": "bench"] }, devices: [],
            onEvent: { _ in })
    }

    @Test("bench command reports the peak memory of the command's process tree, not capsize's")
    func commandPeak() async throws {
        // tail holds its whole input when it has no line end: about 200 MiB, in a child of the shell.
        let large = try await Self.command("head -c 200M /dev/zero | tail > /dev/null")
        #expect(large.runs[0].peakHostBytes >= 200 << 20, "\(large.runs[0].peakHostBytes)")
        let small = try await Self.command("exit 0")
        #expect(small.runs[0].peakHostBytes < HostInfo.peakResidentBytes(), "a shell is smaller than capsize")
        #expect(small.runs[0].peakHostBytes < 200 << 20)
    }

    @Test("a command that daemonizes (setsid, double fork) does not outlive its bench run")
    func commandLeavesNothing() async throws {
        let token = "300.\(getpid())\(Int.random(in: 100...999))"
        let report = try await Self.command("setsid sleep \(token) & (sh -c 'sleep \(token) &' &); echo started")
        #expect(report.runs[0].metrics["exit_code"] == 0)
        #expect(Self.processes(running: ["sleep", token]).isEmpty)
    }

    /// The live (not zombie) processes whose argv is `argv`.
    static func processes(running argv: [String]) -> [String] {
        let wanted = Data(argv.joined(separator: "\0").utf8 + [0])
        let ids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return ids.filter { id in
            guard Int(id) != nil, FileManager.default.contents(atPath: "/proc/\(id)/cmdline") == wanted,
                let stat = try? String(contentsOfFile: "/proc/\(id)/stat", encoding: .utf8),
                let state = stat.split(separator: ")").last?.split(separator: " ").first
            else { return false }
            return state != "Z"
        }
    }

    @Test(
        "repeats and warm-ups out of range name their setting",
        arguments: [(0, 0, "repeat"), (10_001, 0, "repeat"), (1, -1, "warmup"), (1, 1_001, "warmup")])
    func ranges(repeats: Int, warmup: Int, setting: String) throws {
        let error = try #require(throws: InputError.self) {
            try Self.request(repeats: repeats, warmup: warmup).validate()
        }
        #expect(error.field == setting && error.isSetting)
    }
}
