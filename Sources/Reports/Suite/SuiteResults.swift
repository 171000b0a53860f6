public import Analysis
import CapsizeCore
import Compute
public import Foundation
public import Planning
public import Store
public import Studies

/// A suite run's results as `results.json` holds them (schema `capsize.results/1`, docs/results-schema.md): one entry
/// per benchmark with its measured seconds, and what the report draws.
public struct SuiteResults: Codable, Sendable {
    public static let schemaName = "capsize.results/1"

    public var schema = Self.schemaName
    public var suite: String
    /// Where the suite came from (a file, or the default suite).
    public var suiteFile: String
    /// The suite's run in the store (`capsize report RUN` writes this again).
    public var run: String
    public var status: String
    public var createdAt: Date
    public var finishedAt: Date?
    public var capsizeVersion: String
    public var machine: SuiteMachine?
    public var benchmarks: [Benchmark]

    /// One benchmark of the suite.
    public struct Benchmark: Codable, Sendable {
        public var name: String
        public var workload: String
        public var executor: String
        /// The unit of every `seconds`.
        public var unit = "s"
        /// Every completed measurement of the benchmark's executor (repetitions, invocations, jobs), measured.
        public var measurements: [Measurement]
        /// Measurements that did not complete (a timeout, a failed job): counted, not in `measurements`.
        public var failures: [Measurement]
        public var steps: [Step]
        /// The GPU-vs-CPU speed-up, when the benchmark asked for one.
        public var speedup: Speedup?
        /// Cap-break studies and sweeps, one per memory size.
        public var caps: [CapSeries]
        public var sweep: [CapSeries]
        public var recommendation: RecommendationSummary?
    }

    /// One measurement: the seconds, and where it is in the store.
    public struct Measurement: Codable, Sendable, Equatable {
        public var seconds: Double
        /// The step of the suite (`b0/bench/1`) and its label (a device, a memory size).
        public var step: String
        public var label: String
        /// The study's run and the measurement's key in it.
        public var run: String?
        public var item: String
        public var status: String
        public var peakMB: Double?
        public var costUSD: Double?
        public var cold: Bool?
    }

    /// A step as it ran.
    public struct Step: Codable, Sendable {
        public var key: String
        public var kind: String
        public var label: String
        public var device: String?
        public var run: String?
        public var notes: [String]
        public var failure: String?
        public var wallSeconds: Double
        /// The completed measurements' statistics, when there are any.
        public var summary: Summary?
        /// A rendered frame (PNG, base64).
        public var frame: String?
    }

    /// How much faster the GPU side ran than the CPU side: the ratio of medians, and a 95 % interval of the ratio of
    /// geometric means (Welch's t on the logarithms).
    public struct Speedup: Codable, Sendable, Equatable {
        public var cpu: String
        public var gpu: String
        public var ratio: Double
        public var low: Double?
        public var high: Double?
        public var notes: [String]
    }

    /// One memory size of a caps study or sweep: the points measured, the caps, and the breaks.
    public struct CapSeries: Codable, Sendable {
        public var memoryMB: Int
        public var parameter: String
        /// The timeout the points ran under, seconds, and the one it stands for (unscaled).
        public var timeoutSeconds: Double
        public var examinedTimeoutSeconds: Double
        public var timeScale: Double
        public var points: [SweepSample]
        public var analysis: CapBreakAnalysis
        public var run: String?
    }

    /// A recommendation's table, projected.
    public struct RecommendationSummary: Codable, Sendable {
        public var strategy: String
        public var runs: Int
        public var pick: String?
        public var reasons: [String]
        public var options: [PlanOption]
        public var run: String?
        /// Deployment files written for the pick (beside the report).
        public var exported: [String] = []

        /// The pick, or that no option is feasible.
        var pickText: String { pick ?? "none feasible" }
    }

    /// The benchmarks with a recommendation, in order, each with it: the report's recommendation sections.
    var recommended: [(name: String, recommendation: RecommendationSummary)] {
        benchmarks.compactMap { benchmark in benchmark.recommendation.map { (benchmark.name, $0) } }
    }
}

extension SuiteResults {
    /// The results of a suite run from its recorded steps.
    public init(run: RunRecord, suite: Suite, suiteFile: String, steps: [SuiteStepResult], version: String) {
        self.suite = suite.name
        self.suiteFile = suiteFile
        self.run = run.id
        status = run.status.rawValue
        createdAt = run.createdAt
        finishedAt = run.finishedAt
        capsizeVersion = version
        machine = steps.first { $0.kind == .machine }?.notes.first.flatMap {
            try? StoredJSON.decode(SuiteMachine.self, from: $0)
        }
        benchmarks = suite.benchmarks.enumerated().map { index, benchmark in
            Self.benchmark(benchmark, steps: steps.filter { $0.benchmark == index })
        }
    }

    static func benchmark(_ benchmark: SuiteBenchmark, steps: [SuiteStepResult]) -> Benchmark {
        let measuring = steps.filter { [.bench, .invoke, .batch].contains($0.kind) }
        let all = measuring.flatMap { step in
            step.measurements.map { measurement in
                Measurement(
                    seconds: measurement.seconds, step: step.key, label: step.label, run: step.run,
                    item: measurement.item, status: measurement.status, peakMB: measurement.peakMB,
                    costUSD: measurement.costUSD, cold: measurement.cold)
            }
        }
        var caps: [CapSeries] = []
        var sweep: [CapSeries] = []
        for step in steps {
            guard let study = step.sweep else { continue }
            let series = zip(study.series, study.analyses).map { series, analysis in
                CapSeries(
                    memoryMB: series.memoryMB, parameter: study.parameter, timeoutSeconds: series.timeoutSeconds,
                    examinedTimeoutSeconds: study.timeoutSeconds, timeScale: study.timeScale, points: series.samples,
                    analysis: analysis, run: step.run)
            }
            if step.kind == .caps { caps += series } else { sweep += series }
        }
        let recommendation = steps.first { $0.recommendation != nil }.map { step in
            let recommendation = step.recommendation!
            return RecommendationSummary(
                strategy: recommendation.strategy.rawValue, runs: recommendation.runs, pick: recommendation.pick?.id,
                reasons: recommendation.reasons, options: recommendation.options, run: step.run,
                exported: step.notes.filter { $0.hasPrefix("exported ") }.map { String($0.dropFirst(9)) })
        }
        return Benchmark(
            name: benchmark.name, workload: benchmark.workload, executor: benchmark.executor.rawValue,
            measurements: all.filter { $0.status == "ok" }, failures: all.filter { $0.status != "ok" },
            steps: steps.map(Self.step), speedup: speedup(steps), caps: caps, sweep: sweep,
            recommendation: recommendation)
    }

    static func step(_ step: SuiteStepResult) -> Step {
        let seconds = step.measurements.filter { $0.status == "ok" }.map(\.seconds)
        return Step(
            key: step.key, kind: step.kind.rawValue, label: step.label, device: step.device, run: step.run,
            notes: step.notes, failure: step.failure, wallSeconds: step.wallSeconds,
            summary: seconds.isEmpty ? nil : Summary(seconds), frame: step.frame)
    }

    /// The speed-up of a GPU-vs-CPU pair, when both sides measured.
    static func speedup(_ steps: [SuiteStepResult]) -> Speedup? {
        guard let cpu = steps.first(where: { $0.side == .cpu }) else { return nil }
        let gpu = steps.first { $0.side == .gpu }
        let notes = steps.filter { $0.side != nil }.flatMap(\.notes)
        let cpuSeconds = cpu.measurements.filter { $0.status == "ok" }.map(\.seconds)
        guard let gpu, !cpuSeconds.isEmpty else {
            return Speedup(cpu: cpu.device ?? cpu.label, gpu: "", ratio: .nan, notes: notes)
        }
        let gpuSeconds = gpu.measurements.filter { $0.status == "ok" }.map(\.seconds)
        guard !gpuSeconds.isEmpty else {
            return Speedup(cpu: cpu.device ?? cpu.label, gpu: gpu.device ?? gpu.label, ratio: .nan, notes: notes)
        }
        let ratio = Summary(cpuSeconds).median / Summary(gpuSeconds).median
        let interval = ratioInterval(cpuSeconds, gpuSeconds)
        return Speedup(
            cpu: cpu.device ?? cpu.label, gpu: gpu.device ?? gpu.label, ratio: ratio, low: interval?.lowerBound,
            high: interval?.upperBound, notes: notes)
    }

    /// A 95 % interval of a/b's geometric means: Welch's t on the logarithms; nil with fewer than 2 of each.
    public static func ratioInterval(_ a: [Double], _ b: [Double]) -> ClosedRange<Double>? {
        guard a.count >= 2, b.count >= 2, (a + b).allSatisfy({ $0 > 0 }) else { return nil }
        func meanVariance(_ values: [Double]) -> (Double, Double) {
            let logs = values.map { Foundation.log($0) }
            let mean = logs.reduce(0, +) / Double(logs.count)
            return (mean, logs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(logs.count - 1))
        }
        let (meanA, varA) = meanVariance(a)
        let (meanB, varB) = meanVariance(b)
        let (na, nb) = (Double(a.count), Double(b.count))
        let se2 = varA / na + varB / nb
        let difference = meanA - meanB
        guard se2 > 0 else { return exp(difference)...exp(difference) }
        let df = se2 * se2 / ((varA / na) * (varA / na) / (na - 1) + (varB / nb) * (varB / nb) / (nb - 1))
        let t = StudentT.quantile(0.975, degreesOfFreedom: df)
        let half = t * se2.squareRoot()
        return exp(difference - half)...exp(difference + half)
    }
}
