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
