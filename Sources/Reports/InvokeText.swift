public import CloudModel
public import Execution
import Foundation
public import Studies

/// How a function's CPU share is said, wherever functions or jobs run.
public enum ShareText {
    /// `vCPU share 3.00 (3 thread(s)), held to it`, and how far this machine's cores fall short of the share.
    public static func share(memoryMB: Int, governed: Bool, hints: some Hints) -> String {
        let share = FunctionConfiguration.vcpuShare(memoryMB: memoryMB)
        let cores = ProcessInfo.processInfo.activeProcessorCount
        var text = "vCPU share \(fmt(share)) (\(FunctionConfiguration.threads(memoryMB: memoryMB)) thread(s))"
        text += governed ? ", held to it as Lambda holds it" : ", run " + hints.ungoverned
        if share > Double(cores) {
            text += "; this machine has \(cores) cores, \(fmt(share - Double(cores))) vCPUs short of the share"
        }
        return text
    }
}

/// An invoke as terminal text: the header, the log lines Lambda would write per invocation, the summary.
public enum InvokeText {
    /// `train-mlp as a function: 128 MB, timeout 3 s, x86_64, vCPU share …, no GPU`.
    public static func header(_ request: InvokeRequest, hints: some Hints) -> String {
        let configuration = request.settings.configuration
        let share = ShareText.share(
            memoryMB: configuration.memoryMB, governed: request.settings.governsCPUShare, hints: hints)
        return "\(request.event.workload) as a function: \(configuration.memoryMB) MB, timeout "
            + "\(configuration.timeoutSeconds) s, \(configuration.architecture.rawValue), \(share), no GPU"
    }

    /// What Lambda's log shows for one invocation (its REPORT line included), or why it did not run.
    public static func log(_ outcome: InvocationOutcome, hints: some Hints) -> [String] {
        var lines: [String] = []
        switch outcome.status {
        case .throttled:
            return [
                "\(outcome.errorType ?? ""): \(outcome.errorMessage ?? "") (request \(outcome.requestId) was throttled, not run)"
            ]
        case .timeout:
            lines += outcome.logLines
        case .success:
            break
        default:
            if outcome.report == nil {
                return ["\(outcome.errorType ?? "Error"): \(outcome.errorMessage ?? "") (request \(outcome.requestId))"]
            }
            if outcome.logLines.isEmpty {
                lines += [
                    "RequestId: \(outcome.requestId) Error: \(outcome.errorMessage ?? "")",
                    outcome.errorType ?? "Error",
                ]
            } else {
                lines += outcome.logLines
            }
        }
        if let report = outcome.report {
            lines.append(report)
            if outcome.heldToCPUShare == nil { lines.append("  (Duration above: \(hints.ungoverned))") }
        }
        if let letter = outcome.deadLetterPath {
            lines.append(
                "event \(outcome.requestId) failed after \(outcome.attempts) attempt(s): dead letter \(letter)")
        }
        if let failure = outcome.deadLetterFailure {
            lines.append(
                "warning: event \(outcome.requestId) failed after \(outcome.attempts) attempt(s) and its dead letter "
                    + "was not written: \(failure)")
        }
        return lines
    }

    /// A user's function's invocation: its log as CloudWatch has it (START, what the function wrote, END, REPORT;
    /// the last 4 KB), then its response, or why it did not run.
    public static func functionLog(_ outcome: InvocationOutcome, hints: some Hints) -> String {
        guard let tail = outcome.logTail else { return log(outcome, hints: hints).joined(separator: "\n") }
        var lines = [tail.hasSuffix("\n") ? String(tail.dropLast()) : tail]
        if outcome.heldToCPUShare == nil { lines.append("  (Duration above: \(hints.ungoverned))") }
        if let letter = outcome.deadLetterPath {
            lines.append(
                "event \(outcome.requestId) failed after \(outcome.attempts) attempt(s): dead letter \(letter)")
        }
        if outcome.status == .success {
            lines.append("response: \(outcome.response ?? "")")
        } else {
            let document = outcome.response.flatMap { $0.isEmpty ? nil : $0 }
            lines.append(
                "error (Unhandled): " + (document ?? "\(outcome.errorType ?? "Error"): \(outcome.errorMessage ?? "")"))
        }
        return lines.joined(separator: "\n")
    }

    /// Counts, measured percentiles and projected costs over the invocations.
    public static func summary(
        _ report: InvokeReport, governed: Bool, hints: some Hints, prices: PriceCatalog = .embedded
    ) -> String {
        let summary = report.summary
        let statuses = summary.statuses.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(
            separator: ", ")
        var lines = [
            "summary: \(report.invocations.count) invocation(s), \(summary.cold) cold, \(summary.warm) warm; \(statuses)"
        ]
        if let p50 = summary.durationP50Ms, let p90 = summary.durationP90Ms {
            let held = governed ? "held to the vCPU share" : hints.ungoverned
            lines.append(
                "  Duration (measured here, \(held)): p50 \(String(format: "%.2f", p50)) ms, p90 "
                    + "\(String(format: "%.2f", p90)) ms")
        }
        if let initP50 = summary.initP50Ms {
            lines.append("  Init Duration (measured here, cold starts): p50 \(String(format: "%.2f", initP50)) ms")
        }
        lines.append(
            "  cost (projected from the price table, \(prices.lambda.source)): "
                + "x86_64 \(fmtDollars(summary.costUSD["x86_64"] ?? 0)), "
                + "arm64 \(fmtDollars(summary.costUSD["arm64"] ?? 0)) for these invocations; "
                + "per million like them: x86_64 \(fmtDollars(summary.costPerMillionUSD["x86_64"] ?? 0)), "
                + "arm64 \(fmtDollars(summary.costPerMillionUSD["arm64"] ?? 0))")
        return lines.joined(separator: "\n")
    }
}
