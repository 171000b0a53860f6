import CapsizeCore
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
