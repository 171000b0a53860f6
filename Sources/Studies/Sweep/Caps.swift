public import CapsizeCore
import CloudModel
import Foundation
public import Store

/// A cap-break study as asked: where a workload stops fitting in Lambda, per memory size. The sizes are stepped up as
/// function invocations until one times out or is killed for memory, the break confirmed and narrowed by bisection.
public struct CapsRequest {
    /// Lambda memory sizes examined by default, MB.
    public static let defaultMemories = [128, 512, 1_024, 1_769, 3_008, 5_308, 10_240]

    public var workload: String
    /// The workload's parameter words (and `-- argv` for command).
    public var parameters: [String]
    /// `NAME=SIZES` (see `SizeList`); nil for the workload's default sizes.
    public var sizes: String?
    /// Memory sizes in MB besides the default seven (or instead of them, `onlyListed`), comma-separated.
    public var memoryList: String?
    public var onlyListed: Bool
    /// The function timeout examined, seconds (1...900).
    public var timeout: Int
    /// The timeout really run is `timeout` scaled by this (0 < F ≤ 1), so that time breaks are observed quickly.
    public var timeCapScale: Double
    public var repeats: Int
    /// Narrow each break until the bracket is at most this wide, relatively; 0 to skip.
    public var refine: Double
    public var architecture: String
    public var governsCPUShare: Bool

    public init(
        workload: String, parameters: [String], sizes: String?, memoryList: String?, onlyListed: Bool, timeout: Int,
        timeCapScale: Double, repeats: Int, refine: Double, architecture: String, governsCPUShare: Bool
    ) {
        self.workload = workload
        self.parameters = parameters
        self.sizes = sizes
        self.memoryList = memoryList
        self.onlyListed = onlyListed
        self.timeout = timeout
        self.timeCapScale = timeCapScale
        self.repeats = repeats
        self.refine = refine
        self.architecture = architecture
        self.governsCPUShare = governsCPUShare
    }

    /// The timeout the invocations really run with: the examined one scaled, whole seconds, at least 1.
    public var scaledTimeout: Int { max(1, Int((Double(timeout) * timeCapScale).rounded())) }

    /// The sweep that answers the study: function invocations at every memory size, the breaks bisected.
    /// - Throws: `InputError` naming the setting: `timeCapScale`, `refine`, `timeout`, `onlyListed`, and those of
    ///   `SweepPlan` and of the variables.
    public func sweep(variables: UserVariables = UserVariables()) throws(InputError) -> SweepRequest {
        _ = try FunctionConfiguration(memoryMB: 128, timeoutSeconds: timeout)
        // The scaled timeout is whole seconds: a factor that leaves less than 1 s would be run as 1 s, and every
        // time converted back would be wrong.
        guard timeCapScale <= 1 && Double(timeout) * timeCapScale >= 1 else {
            throw InputError(
                setting: "timeCapScale", value: NumberText.significant(timeCapScale),
                allowed: "a factor in (0, 1] that leaves at least 1 s of the \(timeout) s timeout (at least "
                    + "\(NumberText.significant(1 / Double(timeout)))), e.g. 0.01")
        }
        guard refine == 0 || (0.01...1).contains(refine) else {
            throw InputError(
                setting: "refine", value: NumberText.significant(refine), allowed: "0 (no refinement) or 0.01...1")
        }
        if onlyListed && memoryList == nil {
            throw InputError(setting: "onlyListed", value: "", allowed: "with \(InputError.mention("memory")) LIST")
        }
        let plan = try SweepPlan(
            workload: workload, parameters: parameters, sizes: sizes, memoryList: memoryList,
            defaultMemories: onlyListed ? [] : Self.defaultMemories, repeats: repeats, executor: .function,
            timeout: scaledTimeout, architecture: architecture, governsCPUShare: governsCPUShare)
        return SweepRequest(
            plan: plan, timeoutSeconds: scaledTimeout, refine: refine > 0 ? refine : nil,
            variables: try variables.forFunction(),
            timeScale: Double(scaledTimeout) / Double(timeout))
    }
}

/// Runs cap-break studies: a sweep of function invocations (see `Sweep`), timed as a whole.
public enum Caps {
    /// As `Sweep.run`; the report carries the measured wall time of the study (none when analysed again).
    public static func run(
        _ request: SweepRequest, store: CapsizeStore, resuming: RunRecord?, replay: Bool = false,
        parameters: @autoclosure () -> any Encodable, onEvent: @escaping (SweepEvent) -> Void = { _ in }
    ) async throws -> SweepReport {
        let clock = ContinuousClock()
        let start = clock.now
        var report: SweepReport
        do {
            report = try await Sweep.run(
                request, store: store, resuming: resuming, replay: replay, parameters: parameters(), onEvent: onEvent)
        } catch StudyFailure.interrupted(let run, _) {
            throw StudyFailure.interrupted(run: run, kind: "caps")  // resumed with `caps --resume`
        }
        report.wallSeconds = replay ? nil : (clock.now - start).seconds
        return report
    }
}
