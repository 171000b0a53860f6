import CapsizeCore
import Foundation
import Store
import TestSupport
import Testing

@testable import Studies

/// `Sweep.run` and `CapsRequest` through their API: a small command sweep as cold Lambda-model functions (real
/// `capsize worker` environments, the `capsize` built next to the test bundle), in a store of its own.
@Suite(.serialized, .timeLimit(.minutes(1))) struct SweepTests {
    static let capsize = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        .appendingPathComponent("capsize").path

    @Test("a command swept on the function executor records every sample and reports each point, in order")
    func commandSweep() async throws {
        let home = try temporaryDirectory("capsize-sweep")
        defer { try? FileManager.default.removeItem(atPath: home) }
        let store = try CapsizeStore(path: home + "/capsize.sqlite", machine: "test machine")
        let plan = try SweepPlan(
            workload: "command", parameters: ["--", "sh", "-c", "sleep 0.0{size}"], sizes: "size=1,2",
            memoryList: "256", defaultMemories: [], repeats: 1, executor: .function, timeout: 5,
            architecture: "x86_64", governsCPUShare: false)
        var request = SweepRequest(plan: plan, timeoutSeconds: 5)
        request.workerCommand = [Self.capsize, "worker"]
        var events: [String] = []
        let report = try await Sweep.run(request, store: store, resuming: nil, parameters: ["test": "sweep"]) { event in
            switch event {
            case .started: events.append("started")
            case .series(let memory): events.append("series \(memory)")
            case .starting(_, let size, _, _): events.append("starting \(size)")
            case .sample(let sample, let reused): events.append("\(sample.status.rawValue) \(sample.size) \(reused)")
            }
        }
        #expect(
            events == [
                "started", "series 256", "starting 1", "completed 1.0 false", "starting 2", "completed 2.0 false",
            ])
        let series = try #require(report.series.first)
        #expect(series.stoppedBy == "sizes" && series.largestPassing == 2 && series.firstBreak == nil)
        #expect(series.samples.allSatisfy { $0.seconds > 0 && $0.initMs != nil })
        #expect(report.analyses.count == 1 && report.timeScale == 1 && report.wallSeconds == nil)
        let run = try store.run(id: report.run)
        #expect(run.kind == .sweep && run.status == .finished)
        let keys = try store.measurements(run: report.run).map(\.itemKey)
        #expect(keys.contains("memory=256/size=1/rep=0") && keys.contains("memory=256/size=2/rep=0"))
    }

    @Test("a sweep plan refuses bad settings by their keys, never by a flag")
    func planErrors() {
        func error(_ memory: String?, repeats: Int = 1, executor: SweepExecutor = .function, timeout: Int = 5)
            -> InputError?
        {
            #expect(throws: InputError.self) {
                try SweepPlan(
                    workload: "command", parameters: ["--", "true"], sizes: "size=1", memoryList: memory,
                    defaultMemories: [], repeats: repeats, executor: executor, timeout: timeout,
                    architecture: "x86_64", governsCPUShare: true)
            }
        }
        #expect(error("50")?.field == "memory")
        #expect(error(nil)?.field == "memory")
        #expect(error("256", repeats: 0)?.field == "repeat")
        #expect(error("256", executor: .batch, timeout: 0)?.field == "timeout")
        for found in [error("50"), error("256", repeats: 0)] { #expect(found?.isSetting == true) }
    }

    @Test("a caps study runs the default seven memory sizes besides the listed ones, at the scaled timeout")
    func capsRequest() throws {
        let study = CapsRequest(
            workload: "command", parameters: ["--", "true"], sizes: "size=1,2", memoryList: "640", onlyListed: false,
            timeout: 900, timeCapScale: 0.01, repeats: 1, refine: 0.05, architecture: "x86_64", governsCPUShare: true)
        let request = try study.sweep()
        #expect(request.plan.memories == [128, 512, 640, 1_024, 1_769, 3_008, 5_308, 10_240])
        #expect(request.timeoutSeconds == 9 && request.timeScale == 0.01 && request.refine == 0.05)
        #expect(request.plan.executor == .function)
        var only = study
        only.onlyListed = true
        #expect(try only.sweep().plan.memories == [640])
        only.memoryList = nil
        let error = try #require(throws: InputError.self) { try only.sweep() }
        #expect(error.field == "onlyListed" && error.allowed == "with memory LIST")
        #expect(error.namingSetting { "--" + $0 }.description == "invalid --onlyListed '': allowed with --memory LIST")
    }
}
