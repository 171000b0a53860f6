public import Foundation

/// One measured item of a run (a bench repetition, a sweep point), recorded once when it ends.
///
/// The pair (run, item key) is unique: recording the same item twice is an error, so a resumed run
/// cannot hold duplicates.
public struct MeasurementRecord: Codable, Sendable, Equatable {
    public var runID: String
    /// The item's key in the run's plan, e.g. `rep=3` or `size=512/rep=2`.
    public var itemKey: String
    /// Named numbers, e.g. `step_seconds`, `frames_per_second`, `exit_code`.
    public var metrics: [String: Double]
    /// Seconds of the measured part.
    public var seconds: Double
    /// FLOPs performed (analytical), 0 when not known.
    public var flops: Double
    public var checksum: String?
    /// The workload's full result as JSON (see `StoredJSON`), for reports that need more than the numbers.
    public var details: String?
    public var startedAt: Date
    public var endedAt: Date

    public init(
        runID: String, itemKey: String, metrics: [String: Double] = [:], seconds: Double, flops: Double = 0,
        checksum: String? = nil, details: String? = nil, startedAt: Date, endedAt: Date
    ) {
        self.runID = runID
        self.itemKey = itemKey
        self.metrics = metrics
        self.seconds = seconds
        self.flops = flops
        self.checksum = checksum
        self.details = details
        self.startedAt = startedAt
        self.endedAt = endedAt
    }
}
