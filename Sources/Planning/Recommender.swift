public import CapsizeCore
public import CloudModel
import Foundation

/// What the recommender optimises.
public enum Strategy: String, Codable, Sendable, CaseIterable {
    /// The cheapest feasible option for all runs.
    case cost
    /// The option that finishes all runs first, start-up included.
    case speed
    /// The least cost × time: each normalised by the best feasible value, then multiplied; 1 is unbeatable.
    case balanced

    /// Parses `--strategy`.
    /// - Throws: `InputError` naming `--strategy` and the allowed values.
    public init(parsing text: String) throws(InputError) {
        guard let strategy = Strategy(rawValue: text.lowercased()) else {
            throw InputError(
                setting: "strategy", value: text, allowed: Strategy.allCases.map(\.rawValue).joined(separator: ", "))
        }
        self = strategy
    }

    /// `options` best first for this strategy: the feasible ones by its key (ties in the order given), then the
    /// rest in the order given. The first, when feasible, is the pick among them.
    public func ranked(_ options: [PlanOption]) -> [PlanOption] {
        let feasible = options.filter(\.isRankable)
        let rest = options.filter { !$0.isRankable }
        guard let cheapest = feasible.map({ $0.costForRuns!.dollars }).min(),
            let fastest = feasible.map({ $0.completionSeconds! }).min()
        else { return options }
        func key(_ option: PlanOption) -> (Double, Double) {
            let cost = option.costForRuns!.dollars
            let time = option.completionSeconds!
            switch self {
            case .cost: return (cost, time)
            case .speed: return (time, cost)
            case .balanced: return ((cheapest > 0 ? cost / cheapest : 1) * (fastest > 0 ? time / fastest : 1), cost)
            }
        }
        let keyed = feasible.enumerated().map { (key: key($1), index: $0, option: $1) }
        return keyed.sorted { ($0.key.0, $0.key.1, $0.index) < ($1.key.0, $1.key.1, $1.index) }.map(\.option) + rest
    }
}

/// One way to run the workload, with everything projected about it and whether it fits every cap.
public struct PlanOption: Codable, Sendable, Equatable {
    public enum Service: String, Codable, Sendable {
        case lambda
        case fargate
        /// AWS Batch on an EC2 compute environment (CPU or GPU instances).
        case batchEC2 = "batch-ec2"
    }

    /// A stable identifier, e.g. "lambda-1024-x86_64", "fargate-2vcpu-4gb", "batch-g5.xlarge".
    public var id: String
    public var service: Service
    /// The option in words, e.g. "Lambda 1024 MB x86_64" or "Batch on g5.xlarge (1× NVIDIA A10G)".
    public var summary: String
    public var architecture: Architecture
    /// vCPUs one run gets (Lambda's share, Fargate's task size, or the Batch job's VCPU request).
    public var vcpus: Double
    /// Memory one run gets, MiB (Lambda's MemorySize, Fargate's task memory, or the Batch job's MEMORY request).
    public var memoryMB: Int
    /// GPUs one run gets.
    public var gpus: Int
    /// The EC2 instance type, for Batch.
    public var instance: String?
    /// How runs share instances, for Batch.
    public var packing: BatchPacking?
    /// One run's projected duration; nil when it cannot be projected (the reason is in `infeasibleReasons`).
    public var runtime: ProjectedSeconds?
    /// Seconds from submission until the first run starts (capacity and cold start, plus the measured start-up).
    public var startup: PriceCatalog.Span
    public var costPerRun: Cost?
    public var costForRuns: Cost?
    /// Seconds until all runs finish: typical start-up + waves × runtime.
    public var completionSeconds: Double?
    /// Why the option cannot be used (empty when feasible).
    public var infeasibleReasons: [String]
    /// Caps the option comes close to (within 20 %).
    public var warnings: [String]

    public var isFeasible: Bool { infeasibleReasons.isEmpty && runtime != nil }

    /// Feasible, with a cost and a completion time to rank it by.
    var isRankable: Bool { isFeasible && costForRuns != nil && completionSeconds != nil }

    /// The kinds of option, in the order the recommendation lists them.
    public static let kinds = ["Lambda", "Fargate", "Batch on CPU instances", "Batch on GPU instances"]

    /// Which of `kinds` the option is.
    public var kind: String {
        switch service {
        case .lambda: Self.kinds[0]
        case .fargate: Self.kinds[1]
        case .batchEC2: gpus == 0 ? Self.kinds[2] : Self.kinds[3]
        }
    }
}

/// Every option, the pick for a strategy, and why.
public struct Recommendation: Codable, Sendable, Equatable {
    public var strategy: Strategy
    public var runs: Int
    public var options: [PlanOption]
    /// The chosen option; nil when none is feasible.
    public var pick: PlanOption?
    /// Short reasons for the pick, following the decision shortcut (short and event-triggered → Lambda; long,
    /// heavy or GPU → Batch; always-on → EC2 or Fargate).
    public var reasons: [String]
    /// Caps that options come close to, each prefixed with the option.
    public var warnings: [String]
    /// The assumptions behind the projections.
    public var notes: [String]
    /// The best feasible option of each kind (Lambda, Fargate, Batch on CPU, Batch on GPU) for the strategy, each
    /// compared with the pick, so that the answer names the alternatives a user weighs.
    public var bestOfEach: [Alternative] = []
}

/// The best option of one kind, and how it compares with the pick.
public struct Alternative: Codable, Sendable, Equatable {
    public var kind: String
    public var option: PlanOption
    public var comparison: String
}

/// Limits the recommender applies that are not in the catalog.
public enum PlanningRules {
    /// A Lambda option within this fraction of a cap gets a warning.
    public static let capMargin = 0.2
    /// Lambda's default concurrency per Region: runs beyond it wait for a free environment.
    public static let lambdaConcurrency = 1_000

    /// A GPU job asks for this fraction more memory than the peak measured here, plus `gpuDriverMiB`.
    ///
    /// Batch stops a container that goes over its MEMORY request, so a request at the bare peak fails the first run
    /// that allocates a little more. A GPU run needs more than its measured peak twice over: the peak was measured
    /// here (a CPU or PoCL run, or one GPU bench), and run-to-run variation of the allocator and the data is
    /// covered by 25 %; and the GPU driver keeps host memory of its own in every process (the CUDA or OpenCL
    /// context, its pinned staging buffers: a few hundred MiB), which no CPU run here includes.
    public static let gpuMemoryHeadroom = 0.25
    /// Host memory a GPU job asks for beyond its measured peak for the GPU driver's own context (see
    /// `gpuMemoryHeadroom`).
    public static let gpuDriverMiB = 512

    /// The MEMORY request of a GPU job whose peak measured here is `peakMB`: with the headroom above.
    public static func gpuMemoryRequestMiB(peakMB: Double) -> Int {
        Int((peakMB * (1 + gpuMemoryHeadroom)).rounded(.up)) + gpuDriverMiB
    }
}

/// Lists every option for `runs` runs of a profiled workload and picks one for `strategy`.
///
/// Feasibility: a Lambda run must end **before** the 900 s timeout (at exactly 900 s Lambda kills it), and its peak
/// memory may **equal** MemorySize (memory limits kill above the limit); the same memory rule holds for Fargate task
/// memory and for instance memory. Lambda, Fargate and CPU instances are infeasible for a GPU-only workload. A GPU
/// option whose runtime cannot be projected is listed as infeasible with the reason.
/// - Parameters:
///   - runs: how many independent runs (array children, invocations, tasks).
///   - lambdaMemories: Lambda memory sizes to try; nil means the catalog's presets.
///   - architectures: architectures for Lambda and Fargate (arm64 is assumed as fast as x86_64: not measured).
/// - Throws: `InputError` naming `--runs` or `--memory` when out of range.
public func recommend(
    profile: WorkloadProfile, runs: Int, strategy: Strategy, prices: PriceCatalog = .embedded,
    lambdaMemories: [Int]? = nil, architectures: [Architecture] = [.x86_64]
) throws(InputError) -> Recommendation {
    guard runs >= 1 else { throw InputError(setting: "runs", value: "\(runs)", allowed: "1 or more runs") }
    let memories = lambdaMemories ?? prices.lambda.memoryPresetsMB
    for memory in memories where !FunctionConfiguration.memoryRange.contains(memory) {
        throw InputError(setting: "memory", value: "\(memory)", allowed: "128...10240 MB (Lambda's range)")
    }
    let planner = Planner(profile: profile, runs: runs, prices: prices)
    var options: [PlanOption] = []
    for architecture in architectures {
        options += Set(memories).sorted().map { planner.lambda(memoryMB: $0, architecture: architecture) }
    }
    for architecture in architectures {
        options += prices.fargate.taskSizes.combinations.map { planner.fargate(size: $0, architecture: architecture) }
    }
    options += prices.ec2.instances.map(planner.batch(instance:))

    let pick = planner.pick(options, strategy: strategy)
    var bestOfEach: [Alternative] = []
    for kind in PlanOption.kinds {
        let members = options.filter { $0.kind == kind }
        guard let best = planner.pick(members, strategy: strategy) else {
            let reason = members.first?.infeasibleReasons.first ?? "no option"
            bestOfEach.append(
                Alternative(
                    kind: kind, option: members.max { $0.memoryMB < $1.memoryMB } ?? members[0],
                    comparison: "none feasible: \(reason)"))
            continue
        }
        bestOfEach.append(Alternative(kind: kind, option: best, comparison: compare(best, with: pick, runs: runs)))
    }
    var notes = [
        "Batch: runs that fit share an instance in parallel up to its vCPUs, memory and GPUs; all instances start "
            + "at once; each is billed for one run's duration (60 s minimum), provisioning not billed.",
        "Start-up is the middle of the catalog's range (\(prices.provisioning.source)); completion = start-up + "
            + "runtime (Lambda: in waves of \(PlanningRules.lambdaConcurrency) concurrent invocations).",
        "balanced minimises (cost / cheapest) × (completion time / fastest) over the feasible options.",
        "One EC2 or Fargate vCPU is taken as one hardware thread of this machine.",
    ]
    if architectures.contains(.arm64) { notes.append("arm64 is assumed as fast as x86_64 (not measured).") }
    if profile.serialFraction == nil {
        notes.append(
            "No Amdahl fit: runs are assumed perfectly parallel up to the \(profile.localThreads) measured thread(s) "
                + "and no faster beyond them.")
    }
    return Recommendation(
        strategy: strategy, runs: runs, options: options, pick: pick,
        reasons: planner.reasons(for: pick, among: options, strategy: strategy),
        warnings: options.flatMap { option in option.warnings.map { "\(option.summary): \($0)" } }, notes: notes,
        bestOfEach: bestOfEach)
}

/// One line comparing `option` with `pick` on completion time and cost (all projected).
func compare(_ option: PlanOption, with pick: PlanOption?, runs: Int) -> String {
    guard let pick, let time = option.completionSeconds, let cost = option.costForRuns?.dollars,
        let pickTime = pick.completionSeconds, let pickCost = pick.costForRuns?.dollars
    else { return "no pick to compare with" }
    if option == pick { return "the pick" }
    func ratio(_ a: Double, _ b: Double) -> String { b > 0 ? NumberText.significant(a / b) + "×" : "-" }
    let short = Projection.short
    var parts = [
        "finishes in \(short(time)) s (\(ratio(time, pickTime)) the pick's)",
        "costs \(NumberText.dollars(cost)) for \(runs) run(s) (\(ratio(cost, pickCost)) the pick's)",
    ]
    if option.startup.typical > 4 * max(option.runtime?.seconds ?? 0, 1) {
        parts.append(
            "its start-up (\(short(option.startup.lower))–\(short(option.startup.upper)) s) outweighs its runtime")
    }
    return parts.joined(separator: "; ")
}

/// The option builders and the pick, for one profile and run count.
struct Planner {
    let profile: WorkloadProfile
    let runs: Int
    let prices: PriceCatalog

    var startupSeconds: Double { profile.startupSeconds ?? 0 }

    func shifted(_ span: PriceCatalog.Span) -> PriceCatalog.Span {
        PriceCatalog.Span(lower: span.lower + startupSeconds, upper: span.upper + startupSeconds)
    }

    func lambda(memoryMB: Int, architecture: Architecture) -> PlanOption {
        let runtime = Projection.lambda(profile, memoryMB: memoryMB)
        let timeout = Double(FunctionConfiguration.timeoutRange.upperBound)
        var reasons: [String] = []
        var warnings: [String] = []
        if profile.requiresGPU { reasons.append("needs a GPU: Lambda has none") }
        if runtime.seconds >= timeout {
            reasons.append(
                "projected \(seconds(runtime.seconds)) per run reaches Lambda's 900 s timeout "
                    + "(the invocation is killed at the timeout)")
        } else if runtime.seconds >= timeout * (1 - PlanningRules.capMargin) {
            warnings.append(
                "projected \(seconds(runtime.seconds)) is within 20 % of Lambda's 900 s timeout")
        }
        if profile.peakMemoryMB > Double(memoryMB) {
            reasons.append("peak memory \(megabytes(profile.peakMemoryMB)) exceeds MemorySize \(memoryMB) MB")
        } else if profile.peakMemoryMB >= Double(memoryMB) * (1 - PlanningRules.capMargin) {
            warnings.append(
                "peak memory \(megabytes(profile.peakMemoryMB)) is within 20 % of MemorySize \(memoryMB) MB")
        }
        if startupSeconds > FunctionConfiguration.initLimitSeconds {
            warnings.append(
                "start-up \(seconds(startupSeconds)) exceeds Lambda's 10 s init limit: init is retried in the first "
                    + "invocation, under the timeout")
        }
        let coldStarts = min(runs, PlanningRules.lambdaConcurrency)
        let waves = Double((runs + PlanningRules.lambdaConcurrency - 1) / PlanningRules.lambdaConcurrency)
        let startup = shifted(prices.provisioning.lambdaColdStartSeconds)
        return PlanOption(
            id: "lambda-\(memoryMB)-\(architecture.rawValue)", service: .lambda,
            summary: "Lambda \(memoryMB) MB \(architecture.rawValue)", architecture: architecture,
            vcpus: FunctionConfiguration.vcpuShare(memoryMB: memoryMB),
            memoryMB: memoryMB, gpus: 0, instance: nil, packing: nil, runtime: runtime, startup: startup,
            costPerRun: CostModel.lambda(
                seconds: runtime.seconds, memoryMB: memoryMB, architecture: architecture, prices: prices),
            costForRuns: CostModel.lambda(
                seconds: runtime.seconds, initSeconds: startupSeconds, memoryMB: memoryMB, architecture: architecture,
                runs: runs, coldStarts: coldStarts, prices: prices),
            completionSeconds: startup.typical + waves * runtime.seconds, infeasibleReasons: reasons,
            warnings: warnings)
    }

    /// Fargate at one vCPU count, with the smallest memory size that holds the peak (or the largest, if none does).
    func fargate(size: PriceCatalog.FargateSize, architecture: Architecture) -> PlanOption {
        let sizes = size.memorySizesGB
        let peakGB = profile.peakMemoryMB / 1024
        let memoryGB = sizes.first { $0 >= peakGB } ?? sizes.last ?? 0
        var reasons: [String] = []
        if profile.requiresGPU { reasons.append("needs a GPU: Fargate has none") }
        if peakGB > memoryGB {
            reasons.append(
                "peak memory \(megabytes(profile.peakMemoryMB)) exceeds Fargate's largest size at "
                    + "\(CostModel.format(size.vcpu)) vCPU (\(CostModel.format(memoryGB)) GB)")
        }
        let runtime = Projection.cpu(profile, vcpus: size.vcpu)
        let startup = shifted(prices.provisioning.fargateSeconds)
        let vcpu = CostModel.format(size.vcpu)
        return PlanOption(
            id: "fargate-\(vcpu)vcpu-\(CostModel.format(memoryGB))gb-\(architecture.rawValue)", service: .fargate,
            summary: "Fargate \(vcpu) vCPU \(CostModel.format(memoryGB)) GB \(architecture.rawValue)",
            architecture: architecture, vcpus: size.vcpu, memoryMB: Int(memoryGB * 1024), gpus: 0, instance: nil,
            packing: nil, runtime: runtime, startup: startup,
            costPerRun: CostModel.fargate(
                seconds: runtime.seconds, vcpu: size.vcpu, memoryGB: memoryGB, architecture: architecture,
                prices: prices),
            costForRuns: CostModel.fargate(
                seconds: runtime.seconds, vcpu: size.vcpu, memoryGB: memoryGB, architecture: architecture,
                runs: runs, prices: prices),
            completionSeconds: startup.typical + runtime.seconds, infeasibleReasons: reasons, warnings: [])
    }

    /// Batch on one instance type. A CPU run asks for the measured thread count (with an Amdahl fit, an equal share
    /// of the instance when fewer runs than its vCPUs); a GPU run asks for one GPU and the instance's vCPUs per GPU.
    func batch(instance: PriceCatalog.Instance) -> PlanOption {
        var reasons: [String] = []
        let runtime: ProjectedSeconds?
        let vcpusPerRun: Int
        let gpusPerRun: Int
        var summary = "Batch on \(instance.name)"
        if let gpu = instance.gpu {
            summary += " (\(gpu.count)× \(gpu.model))"
            gpusPerRun = 1
            vcpusPerRun = max(1, instance.vcpus / gpu.count)
            runtime = Projection.gpu(profile, on: gpu, prices: prices)
            if runtime == nil {
                reasons.append("no GPU run, CPU FP32 peak or FLOP count to project a \(gpu.model) run from")
            }
        } else {
            gpusPerRun = 0
            let measured = min(profile.localThreads, instance.vcpus)
            vcpusPerRun =
                profile.serialFraction == nil ? measured : max(measured, instance.vcpus / min(runs, instance.vcpus))
            runtime = Projection.cpu(profile, vcpus: Double(vcpusPerRun))
            if profile.requiresGPU { reasons.append("needs a GPU: \(instance.name) has none") }
        }
        let memoryMiB =
            gpusPerRun > 0
            ? PlanningRules.gpuMemoryRequestMiB(peakMB: profile.peakMemoryMB)
            : max(4, Int(profile.peakMemoryMB.rounded(.up)))
        let packing = BatchPacking.pack(
            runs: runs, vcpusPerRun: vcpusPerRun, memoryMiBPerRun: memoryMiB, gpusPerRun: gpusPerRun,
            instance: instance)
        if packing == nil {
            reasons.append(
                "peak memory \(megabytes(profile.peakMemoryMB)) exceeds the instance's "
                    + "\(CostModel.format(instance.memoryGiB)) GiB")
        }
        let startup = shifted(prices.provisioning.ec2Seconds)
        let costs = runtime.flatMap { runtime in
            packing.map { packing in
                let one = BatchPacking.pack(
                    runs: 1, vcpusPerRun: vcpusPerRun, memoryMiBPerRun: memoryMiB, gpusPerRun: gpusPerRun,
                    instance: instance)!
                return (
                    CostModel.batch(seconds: runtime.seconds, instance: instance, packing: one, prices: prices),
                    CostModel.batch(seconds: runtime.seconds, instance: instance, packing: packing, prices: prices)
                )
            }
        }
        return PlanOption(
            id: "batch-\(instance.name)", service: .batchEC2, summary: summary, architecture: .x86_64,
            vcpus: Double(vcpusPerRun), memoryMB: memoryMiB, gpus: gpusPerRun, instance: instance.name,
            packing: packing, runtime: runtime, startup: startup, costPerRun: costs?.0, costForRuns: costs?.1,
            completionSeconds: runtime.map { startup.typical + $0.seconds }, infeasibleReasons: reasons, warnings: [])
    }

    func pick(_ options: [PlanOption], strategy: Strategy) -> PlanOption? {
        strategy.ranked(options).first(where: \.isRankable)
    }

    func reasons(for pick: PlanOption?, among options: [PlanOption], strategy: Strategy) -> [String] {
        let lambdas = options.filter { $0.service == .lambda }
        let noLambda =
            lambdas.contains(where: \.isFeasible)
            ? nil
            : lambdas.max { $0.memoryMB < $1.memoryMB }.map {
                "No Lambda size is feasible: at \($0.memoryMB) MB, \($0.infeasibleReasons.joined(separator: "; "))."
            }
        guard let pick, let runtime = pick.runtime, let total = pick.costForRuns,
            let completion = pick.completionSeconds
        else {
            return ["No option is feasible: see each option's reasons."] + (noLambda.map { [$0] } ?? [])
        }
        let goal =
            switch strategy {
            case .cost: "the cheapest feasible option"
            case .speed: "the fastest feasible option (start-up included)"
            case .balanced: "the best cost × time of the feasible options"
            }
        var reasons = [
            "\(pick.summary) is \(goal) for \(runs) run(s): \(dollars(total.dollars)) in all (projected from prices), "
                + "\(seconds(runtime.seconds)) per run and \(seconds(completion)) to finish (projected)."
        ]
        switch pick.service {
        case .lambda:
            reasons.append(
                "Short (\(seconds(runtime.seconds)) per run, under the 900 s timeout) and light "
                    + "(\(megabytes(profile.peakMemoryMB)) peak): Lambda bills per millisecond with nothing to "
                    + "provision, the shortcut for short, event-triggered jobs.")
        case .fargate:
            reasons.append(
                "Fargate: no instance to manage and a 1-minute minimum; for long or heavy runs Batch on Fargate, "
                    + "for an always-on service ECS on Fargate.")
        case .batchEC2:
            let why =
                pick.gpus > 0
                ? "uses a GPU (\(runtime.basis)), which Lambda and Fargate lack"
                : "long or heavy (\(seconds(runtime.seconds)) per run, \(megabytes(profile.peakMemoryMB)) peak)"
            reasons.append("The job \(why): Batch, the shortcut for long, heavy or GPU jobs; Batch itself is free.")
        }
        if let noLambda { reasons.append(noLambda) }
        reasons.append(
            "For an always-on service rather than runs, EC2 or Fargate (capsize projects runs, not idle time).")
        return reasons
    }

    func seconds(_ value: Double) -> String {
        value < 1 ? String(format: "%.0f ms", value * 1000) : String(format: value < 100 ? "%.1f s" : "%.0f s", value)
    }

    func megabytes(_ value: Double) -> String { String(format: "%.0f MB", value) }

    func dollars(_ value: Double) -> String { NumberText.dollars(value) }
}
