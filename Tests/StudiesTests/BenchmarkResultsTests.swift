import Analysis
import CapsizeCore
import Foundation
import Store
import Testing

@testable import Studies

@Suite struct BenchmarkResultsTests {
    func run(_ commandLine: [String], kind: RunRecord.Kind) -> RunRecord {
        RunRecord(kind: kind, commandLine: commandLine, parameters: "{}", machine: "m", pid: 1)
    }

    func measurement(_ key: String, _ seconds: Double) -> MeasurementRecord {
        MeasurementRecord(runID: "r", itemKey: key, seconds: seconds, startedAt: Date(), endedAt: Date())
    }

    @Test("a run's measurements are grouped by item without the repetition, in the order first recorded")
    func grouping() {
        let sweep = run(["capsize", "sweep", "train-mlp", "--memory", "512"], kind: .sweep)
        let results = BenchmarkResults.fromStore(
            run: sweep,
            measurements: [
                measurement("memory=512/size=2/rep=0", 2), measurement("memory=512/size=1/rep=0", 1),
                measurement("memory=512/size=2/rep=1", 2.1), measurement("memory=512/size=1/rep=1", .nan),
            ])
        #expect(results.benchmarks.map(\.name) == ["memory=512/size=2", "memory=512/size=1"])
        #expect(results.benchmarks.map(\.seconds) == [[2, 2.1], [1]])
        #expect(results.source == "run \(sweep.shortID)")
    }

    @Test("a bench's repetitions are one benchmark named after its command, so two benches of one workload match")
    func benchNames() {
        let bench = run(["/usr/bin/capsize", "bench", "train-mlp", "--device", "gpu"], kind: .bench)
        let results = BenchmarkResults.fromStore(
            run: bench, measurements: [measurement("rep=1", 1), measurement("rep=2", 1.1)])
        #expect(results.benchmarks == [BenchmarkResults.Benchmark(name: "bench train-mlp", seconds: [1, 1.1])])
    }

    @Test("an argument that is neither a path nor a run id is unavailable without opening the store")
    func neither() throws {
        let error = try #require(throws: BenchmarkResults.Unavailable.self) {
            try BenchmarkResults.load("/no/such/report") { throw CancellationError() }
        }
        #expect(error.description.contains("no such report directory"))
    }

    @Test("thresholds read median, p90 and mean with an optional plus; anything else names failIf and the format")
    func thresholds() throws {
        #expect(try ChangeThreshold(text: "median:+10%") == ChangeThreshold(statistic: .median, percent: 10))
        #expect(try ChangeThreshold(text: "p90:2.5%") == ChangeThreshold(statistic: .p90, percent: 2.5))
        for bad in ["mean:+0%", "mean:-5%", "MEDIAN:+10%", "median:+10", " median:+10%"] {
            let error = try #require(throws: InputError.self) { try ChangeThreshold(text: bad) }
            #expect(error.field == "failIf" && error.isSetting && error.allowed.contains("median:+10%"))
        }
    }
}
