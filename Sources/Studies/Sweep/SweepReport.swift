public import Analysis
import Foundation

/// What a sweep or a caps study found: per memory setting, the points (measured) and the breaks.
public struct SweepReport: Encodable {
    public var run: String
    public var plan: SweepPlan
    public var series: [SweepSeries]
    /// The factor the time cap was scaled by (a caps study's `timeCapScale`); 1 for a sweep.
    public var timeScale: Double
    /// Where the caps break per series (observed and predicted from fits): projections from measurements.
    public var analyses: [CapBreakAnalysis]
    /// Per series, the measured time exponent against the analytical FLOPs' (nil when the workload cannot say).
    public var analyticChecks: [AnalyticCheck?] = []
    /// Measured wall time of the whole analysis.
    public var wallSeconds: Double?

    public init(run: String, plan: SweepPlan, series: [SweepSeries], timeScale: Double) {
        self.run = run
        self.plan = plan
        self.series = series
        self.timeScale = timeScale
        analyses = series.map(Self.analyse)
        analyticChecks = series.map(analyticCheck)
    }

    /// The cap-break analysis of one series.
    public static func analyse(_ series: SweepSeries) -> CapBreakAnalysis {
        let points = series.samples.map { sample in
            let outcome: SweepPoint.Outcome =
                switch sample.status {
                case .completed: .completed
                case .timeout: .timeout
                case .outOfMemory: .outOfMemory
                case .error, .crash: .error
                }
            return SweepPoint(size: sample.size, outcome: outcome, seconds: sample.seconds, peakMemoryMB: sample.peakMB)
        }
        return CapBreakAnalysis(
            points: points, timeoutSeconds: series.timeoutSeconds, memoryMB: Double(series.memoryMB))
    }

    /// The measured time exponent of a series against the exponent of the workload's analytical FLOPs.
    public func analyticCheck(_ series: SweepSeries) -> AnalyticCheck? {
        let completed = Dictionary(grouping: series.samples.filter { $0.status == .completed }, by: \.size)
        let work = completed.keys.sorted().compactMap { size in plan.flops(at: size).map { (size, $0) } }
        return AnalyticCheck(
            sizes: work.map(\.0), seconds: work.map { Summary.quantile(completed[$0.0]!.map(\.seconds).sorted(), 0.5) },
            work: work.map(\.1))
    }

}
