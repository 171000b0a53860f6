public import Analysis
public import Foundation
public import Workloads

/// Everything a bench measured and derived (what `capsize bench --json` prints): the runs as measured, and what was derived from them.
public struct BenchReport: Encodable, Sendable {
    public struct Peak: Encodable, Sendable {
        public var name: String
        public var gflops: Double
        public var measuredAt: Date
        public var quick: Bool
    }
    /// The run's id in the store.
    public var run: String
    public var workload: String
    public var parameters: [String: String]
    public var argv: [String]
    public var device: String
    public var deviceLabel: String
    /// Projected from the parameters, before running.
    public var estimate: ResourceEstimate
    public var initSeconds: Double
    public var warmup: Int
    public var runs: [RunResult]
    public var peak: Peak?

    public var summary: Summary { Summary(runs.map(\.seconds)) }
    /// Measured runs whose program failed (a nonzero exit code or a signal).
    public var failedRuns: Int { runs.filter { ($0.metrics["exit_code"] ?? 0) != 0 }.count }
    public var gflops: Summary? { runs[0].flops > 0 ? Summary(runs.map(\.gflops)) : nil }
    public var fractionOfPeak: Double? { peak.flatMap { p in gflops.map { $0.median / p.gflops } } }
    public var throughputMedians: [String: Double] {
        runs[0].throughput.keys.reduce(into: [:]) { medians, key in
            medians[key] = Summary.quantile(runs.compactMap { $0.throughput[key] }.sorted(), 0.5)
        }
    }
    public var medianRunIndex: Int {
        let order = runs.indices.sorted { runs[$0].seconds < runs[$1].seconds }
        return order[(order.count - 1) / 2]
    }

    enum CodingKeys: String, CodingKey {
        case run, workload, parameters, argv, device, deviceLabel, estimate, initSeconds, warmup, runs, peak
        case summary, gflops, fractionOfPeak, throughputMedians
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(run, forKey: .run)
        try c.encode(workload, forKey: .workload)
        try c.encode(parameters, forKey: .parameters)
        try c.encode(argv, forKey: .argv)
        try c.encode(device, forKey: .device)
        try c.encode(deviceLabel, forKey: .deviceLabel)
        try c.encode(estimate, forKey: .estimate)
        try c.encode(initSeconds, forKey: .initSeconds)
        try c.encode(warmup, forKey: .warmup)
        try c.encode(runs, forKey: .runs)
        try c.encodeIfPresent(peak, forKey: .peak)
        try c.encode(summary, forKey: .summary)
        try c.encodeIfPresent(gflops, forKey: .gflops)
        try c.encodeIfPresent(fractionOfPeak, forKey: .fractionOfPeak)
        try c.encode(throughputMedians, forKey: .throughputMedians)
    }
}
