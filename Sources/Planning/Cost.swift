public import CloudModel
import Foundation

/// An amount of money projected from the price catalog, with what was billed.
public struct Cost: Codable, Sendable, Equatable {
    public var dollars: Double
    /// The billed time of one unit (an invocation, a task or an instance), in seconds.
    public var billedSeconds: Double
    /// How many units were billed (invocations, tasks or instances).
    public var units: Int
    /// Always `.projectedFromPrices`: capsize never sees a bill.
    public var provenance: Provenance = .projectedFromPrices
    /// The arithmetic in words, e.g. "1000 × 101 ms × 1 GB × $0.0000166667/GB-s + 1000 × $0.0000002".
    public var breakdown: String
}

/// How N runs of one job share Batch instances.
///
/// The rule: a run asks Batch for `vcpusPerRun` vCPUs, `memoryMiBPerRun` MiB and `gpusPerRun` GPUs; as many runs
/// as fit in one instance's vCPUs, memory and GPUs run on it **in parallel**;
/// `instances = ⌈runs / runsPerInstance⌉` instances start at once (the compute environment's maxvCpus is assumed
/// large enough), each billed for one run's duration (a partly filled last instance is billed in full). Batch itself is free. Provisioning and idle teardown
/// time are not billed in the projection, so it is a lower bound.
public struct BatchPacking: Codable, Sendable, Equatable {
    public var vcpusPerRun: Int
    public var memoryMiBPerRun: Int
    public var gpusPerRun: Int
    public var runsPerInstance: Int
    public var instances: Int
    /// What stopped more runs from sharing an instance: "vCPUs", "memory" or "GPUs".
    public var limitedBy: String

    /// Packs `runs` runs onto instances of one type.
    /// - Returns: nil when a single run does not fit the instance.
    public static func pack(
        runs: Int, vcpusPerRun: Int, memoryMiBPerRun: Int, gpusPerRun: Int, instance: PriceCatalog.Instance
    ) -> BatchPacking? {
        let memoryMiB = Int(instance.memoryGiB * 1024)
        let gpus = instance.gpu?.count ?? 0
        guard vcpusPerRun >= 1, vcpusPerRun <= instance.vcpus, memoryMiBPerRun <= memoryMiB, gpusPerRun <= gpus else {
            return nil
        }
        var limits = [("vCPUs", instance.vcpus / vcpusPerRun), ("memory", memoryMiB / max(memoryMiBPerRun, 1))]
        if gpusPerRun > 0 { limits.append(("GPUs", gpus / gpusPerRun)) }
        let tightest = limits.min { $0.1 < $1.1 }!
        let perInstance = max(1, tightest.1)
        return BatchPacking(
            vcpusPerRun: vcpusPerRun, memoryMiBPerRun: memoryMiBPerRun, gpusPerRun: gpusPerRun,
            runsPerInstance: perInstance, instances: (max(runs, 1) + perInstance - 1) / perInstance,
            limitedBy: tightest.0)
    }
}

/// Each service's billing rules applied to projected durations. Every result is `.projectedFromPrices`.
public enum CostModel {
    /// Lambda: each invocation is billed separately (duration rounded up to 1 ms, GB-s at the architecture's price,
    /// plus the request fee); `coldStarts` of the `runs` invocations also bill `initSeconds` (billed since Aug 2025).
    /// - Parameters:
    ///   - seconds: one invocation's duration.
    ///   - initSeconds: the function's init phase on a cold start (0 when unknown).
    ///   - runs: invocations.
    ///   - coldStarts: how many of them start a new execution environment (at most `runs`).
    public static func lambda(
        seconds: Double, initSeconds: Double = 0, memoryMB: Int, architecture: Architecture, runs: Int = 1,
        coldStarts: Int = 0, prices: PriceCatalog
    ) -> Cost {
        let warm = LambdaBill(
            durationMs: seconds * 1000, memoryMB: memoryMB, architecture: architecture, prices: prices)
        let cold = LambdaBill(
            durationMs: seconds * 1000, initMs: initSeconds * 1000, memoryMB: memoryMB, architecture: architecture,
            prices: prices)
        let colds = min(max(coldStarts, 0), runs)
        let dollars = Double(runs - colds) * warm.total + Double(colds) * cold.total
        var breakdown =
            "\(runs) × \(warm.billedMilliseconds) ms × \(format(Double(memoryMB) / 1024)) GB × "
            + "$\(format(prices.lambda.gbSecond[architecture]))/GB-s (\(architecture.rawValue)) + \(runs) × "
            + "$\(format(prices.lambda.perRequest)) per request"
        if colds > 0 && initSeconds > 0 { breakdown += " + \(colds) cold init × \(format(initSeconds)) s" }
        return Cost(
            dollars: dollars, billedSeconds: Double(warm.billedMilliseconds) / 1000, units: runs, breakdown: breakdown)
    }

    /// Fargate: each run is one task, billed per second (rounded up) with a 1-minute minimum, for its vCPUs and GB.
    public static func fargate(
        seconds: Double, vcpu: Double, memoryGB: Double, architecture: Architecture = .x86_64, runs: Int = 1,
        prices: PriceCatalog
    ) -> Cost {
        let billed = billedSeconds(seconds, minimum: prices.fargate.minimumSeconds)
        let hourly = vcpu * prices.fargate.vcpuHour[architecture] + memoryGB * prices.fargate.gbHour[architecture]
        let breakdown =
            "\(runs) × \(format(billed)) s × (\(format(vcpu)) vCPU"
            + " × $\(format(prices.fargate.vcpuHour[architecture]))/h"
            + " + \(format(memoryGB)) GB × $\(format(prices.fargate.gbHour[architecture]))/h)"
            + " (per second, \(format(prices.fargate.minimumSeconds)) s minimum)"
        return Cost(
            dollars: Double(runs) * billed * hourly / 3600, billedSeconds: billed, units: runs, breakdown: breakdown)
    }

    /// EC2: `instances` instances, each billed per second (rounded up) with a 60 s minimum at the hourly price.
    public static func ec2(
        seconds: Double, instance: PriceCatalog.Instance, instances: Int = 1, prices: PriceCatalog
    ) -> Cost {
        let billed = billedSeconds(seconds, minimum: prices.ec2.minimumSeconds)
        let breakdown =
            "\(instances) × \(instance.name) × \(format(billed)) s × $\(format(instance.hourly))/h"
            + " (per second, \(format(prices.ec2.minimumSeconds)) s minimum)"
        return Cost(
            dollars: Double(instances) * billed * instance.hourly / 3600, billedSeconds: billed, units: instances,
            breakdown: breakdown)
    }

    /// Batch on EC2: the EC2 cost of the instances `packing` starts, each running its runs in parallel for `seconds`.
    /// Batch itself is free.
    public static func batch(
        seconds: Double, instance: PriceCatalog.Instance, packing: BatchPacking, prices: PriceCatalog
    ) -> Cost {
        var cost = ec2(seconds: seconds, instance: instance, instances: packing.instances, prices: prices)
        cost.breakdown += "; \(packing.runsPerInstance) run(s) per instance in parallel, Batch itself free"
        return cost
    }

    /// Per-second billing: whole seconds, rounded up, never below the minimum.
    static func billedSeconds(_ seconds: Double, minimum: Double) -> Double {
        max(minimum, max(0, seconds).rounded(.up))
    }

    /// A short decimal without trailing zeros or exponent noise.
    static func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
        var text = String(format: "%.10f", value)
        while text.hasSuffix("0") { text.removeLast() }
        return text
    }
}
