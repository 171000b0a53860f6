import Analysis
import CapsizeCore
import Foundation
import Reports
import Studies

/// A suite's progress: on a terminal, a bar with the steps done, the total and an estimate of the time left (on
/// standard error, redrawn in place; coloured unless NO_COLOR is set); elsewhere (CI, a pipe) one plain line per
/// step that ended. `--quiet` shows neither.
final class SuiteProgress {
    let plan: SuitePlan
    let quiet: Bool
    let terminal: Bool
    let color: Bool
    private(set) var runID = ""
    private var done = 0
    private var total: Int
    private var current: (step: SuiteStep, done: Int, total: Int?)?
    private var measuredSeconds = 0.0
    /// The weight of the steps measured, and of those left (see `weight`).
    private var measuredWeight = 0.0
    private var leftWeight = 0.0
    private let clock = ContinuousClock()
    private var stepStart: ContinuousClock.Instant

    init(
        plan: SuitePlan, quiet: Bool, terminal: Bool = isatty(2) == 1,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        self.plan = plan
        self.quiet = quiet
        self.terminal = terminal
        // https://no-color.org: any non-empty value.
        color = terminal && (environment["NO_COLOR"] ?? "").isEmpty && environment["TERM"] != "dumb"
        total = plan.steps.count
        stepStart = clock.now
    }

    func show(_ event: SuiteEvent) {
        switch event {
        case .started(let run, let steps, let recorded):
            runID = run.id
            total = steps
            done = plan.steps.filter { recorded.contains($0.key) }.count
            leftWeight = plan.steps.filter { !recorded.contains($0.key) }.map(Self.weight).reduce(0, +)
            if !quiet {
                say(
                    "suite \(InputError.oneLine(plan.suite.name)): \(steps) step(s), run \(run.shortID)"
                        + (done > 0 ? ", \(done) recorded before (resumed)" : ""))
            }
        case .stepStarted(let step, _):
            current = (step, 0, nil)
            stepStart = clock.now
            draw()
        case .stepProgress(let step, let partDone, let partTotal):
            current = (step, partDone, partTotal)
            draw()
        case .stepEnded(let step, let result, _):
            done += 1
            measuredWeight += Self.weight(step)
            leftWeight -= Self.weight(step)
            measuredSeconds += (clock.now - stepStart).seconds
            current = nil
            clear()
            if !quiet {
                say(
                    "[\(done)/\(total)] "
                        + Self.line(step, result, benchmark: plan.suite.benchmarks[step.benchmark].name) + eta())
            }
            draw()
        }
    }

    func finish() { clear() }

    /// How long a step takes next to a bench of a few repetitions: a study that steps through sizes until a cap
    /// breaks takes tens of them, a recommendation's profile a few.
    static func weight(_ step: SuiteStep) -> Double {
        switch step.kind {
        case .sweep, .caps: 20
        case .recommend: 4
        default: 1
        }
    }

    /// The time left, from the time the measured steps took per unit of weight.
    func secondsLeft(besides current: Double = 0) -> Double? {
        guard measuredWeight > 0 else { return nil }
        return measuredSeconds / measuredWeight * max(0, leftWeight - current)
    }

    /// The time left as ` · about 1m05s left`.
    func eta() -> String {
        guard done < total, let left = secondsLeft() else { return "" }
        return " · about \(Self.duration(left)) left"
    }

    static func duration(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded())
        return whole >= 60 ? "\(whole / 60)m\(String(format: "%02d", whole % 60))s" : "\(whole)s"
    }

    /// One step that ended, in words: what it measured, said as measured.
    static func line(_ step: SuiteStep, _ result: SuiteStepResult, benchmark: String) -> String {
        let name = "\(step.kind.rawValue) \(InputError.oneLine(benchmark)) (\(result.device ?? step.label))"
        if let failure = result.failure { return "\(name): failed: \(InputError.oneLine(failure))" }
        let completed = result.measurements.filter { $0.status == "ok" }.map(\.seconds)
        var said = name + ": "
        if !completed.isEmpty {
            said += "\(completed.count) measured, median \(fmtSeconds(Summary(completed).median))"
            let broke = result.measurements.count - completed.count
            if broke > 0 { said += ", \(broke) did not complete" }
        } else if let sweep = result.sweep {
            let breaks = sweep.analyses.compactMap(\.observed).count
            said += "\(sweep.series.flatMap(\.samples).count) sample(s), \(breaks) observed break(s)"
        } else if let recommendation = result.recommendation {
            said += "pick \(recommendation.pick?.id ?? "none feasible") (projected)"
        } else {
            said += "\(result.measurements.count) measurement(s)"
        }
        return said + " in \(fmtSeconds(result.wallSeconds))"
    }

    private func draw() {
        guard terminal, !quiet else { return }
        let width = 24
        var fraction = Double(done)
        if let current, let partTotal = current.total, partTotal > 0 {
            fraction += min(1, Double(current.done) / Double(partTotal))
        }
        let filled = min(width, Int((fraction / Double(max(total, 1))) * Double(width)))
        var bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        if color { bar = "\u{1B}[32m" + bar + "\u{1B}[0m" }
        var text = "\r\(bar) \(done)/\(total)"
        var inFlight = 0.0
        if let current, let partTotal = current.total, partTotal > 0 {
            inFlight = Self.weight(current.step) * min(1, Double(current.done) / Double(partTotal))
        }
        if let left = secondsLeft(besides: inFlight) { text += " · ETA \(Self.duration(left))" }
        if let current {
            text +=
                " · \(current.step.kind.rawValue) \(InputError.oneLine(plan.suite.benchmarks[current.step.benchmark].name))"
            if current.done > 0 { text += " \(current.done)" + (current.total.map { "/\($0)" } ?? "") }
        }
        FileHandle.standardError.write(Data((text + "\u{1B}[K").utf8))
    }

    private func clear() {
        guard terminal, !quiet else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
