public import CapsizeCore
import Foundation

/// Prices and instance facts, from `data/prices.json` (compiled in) or a user's `--prices FILE`.
/// Every figure computed from it is **projected**, never measured.
public struct PriceCatalog: Codable, Sendable, Equatable {
    public struct PerArchitecture: Codable, Sendable, Equatable {
        // swift-format-ignore: AlwaysUseLowerCamelCase
        // The architecture's own name, as AWS and `uname -m` write it (and the JSON key of the price file).
        public var x86_64: Double
        public var arm64: Double

        public subscript(architecture: Architecture) -> Double {
            architecture == .x86_64 ? x86_64 : arm64
        }
    }

    public struct Lambda: Codable, Sendable, Equatable {
        public struct FreeTier: Codable, Sendable, Equatable {
            public var requests: Double
            public var gbSeconds: Double
            public var appliedByDefault: Bool
        }
        public var source: String
        public var gbSecond: PerArchitecture
        public var perRequest: Double
        public var billingGranularityMs: Int
        public var freeTier: FreeTier
        /// The memory sizes (MB) tried by default when no `--memory` list is given.
        public var memoryPresetsMB: [Int]
    }

    public struct Fargate: Codable, Sendable, Equatable {
        public var source: String
        public var vcpuHour: PerArchitecture
        public var gbHour: PerArchitecture
        public var minimumSeconds: Double
        public var taskSizes: TaskSizes
    }

    /// The task sizes Fargate accepts, with their own source.
    public struct TaskSizes: Codable, Sendable, Equatable {
        public struct Storage: Codable, Sendable, Equatable {
            public var `default`: Double
            public var maximum: Double
        }
        public var source: String
        /// Whether Fargate offers GPUs (it does not).
        public var gpu: Bool
        public var ephemeralStorageGB: Storage
        public var combinations: [FargateSize]

        /// The valid memory sizes (GB) for a vCPU count; empty when Fargate has no such vCPU count.
        public func memorySizesGB(vcpu: Double) -> [Double] {
            combinations.first { $0.vcpu == vcpu }?.memorySizesGB ?? []
        }
    }

    /// One vCPU count and the memory sizes Fargate allows with it: a list, or minimum...maximum in steps.
    public struct FargateSize: Codable, Sendable, Equatable {
        public var vcpu: Double
        public var memoryGB: [Double]?
        public var minimumGB: Double?
        public var maximumGB: Double?
        public var stepGB: Double?

        /// Every valid memory size in GB, ascending.
        public var memorySizesGB: [Double] {
            if let memoryGB { return memoryGB.sorted() }
            guard let minimumGB, let maximumGB, let stepGB, stepGB > 0, minimumGB <= maximumGB else { return [] }
            return Array(stride(from: minimumGB, through: maximumGB + stepGB / 1000, by: stepGB))
        }
    }

    /// A lower and an upper bound, written `[lower, upper]` in the file.
    public struct Span: Codable, Sendable, Equatable {
        public var lower: Double
        public var upper: Double
        /// The middle of the span, used where one figure is needed.
        public var typical: Double { (lower + upper) / 2 }

        public init(lower: Double, upper: Double) {
            self.lower = lower
            self.upper = upper
        }

        public init(from decoder: any Decoder) throws {
            var container = try decoder.unkeyedContainer()
            lower = try container.decode(Double.self)
            upper = try container.decode(Double.self)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.unkeyedContainer()
            try container.encode(lower)
            try container.encode(upper)
        }
    }

    /// How long capacity takes to come up (community figures, unconfirmed).
    public struct Provisioning: Codable, Sendable, Equatable {
        public var source: String
        /// Batch on EC2: submit to RUNNING when an instance must be launched.
        public var ec2Seconds: Span
        /// Batch or ECS on Fargate: submit to RUNNING.
        public var fargateSeconds: Span
        /// Lambda's own cold start, before the function's init code.
        public var lambdaColdStartSeconds: Span
    }

    public struct GPU: Codable, Sendable, Equatable {
        public var model: String
        public var count: Int
        public var memoryGiB: Double
        public var fp32TFLOPS: Double
    }

    public struct Instance: Codable, Sendable, Equatable {
        public var name: String
        public var vcpus: Int
        public var memoryGiB: Double
        public var hourly: Double
        public var gpu: GPU?
        public var note: String?
    }

    public struct EC2: Codable, Sendable, Equatable {
        public var source: String
        public var minimumSeconds: Double
        public var instances: [Instance]
    }

    public var version: String
    public var currency: String
    public var region: String
    public var notes: String?
    public var lambda: Lambda
    public var fargate: Fargate
    public var ec2: EC2
    public var provisioning: Provisioning

    /// The catalog compiled into capsize (`data/prices.json`).
    public static let embedded: PriceCatalog = {
        // The embedded file is validated by the tests; a failure here is a build defect.
        try! decode(Data(EmbeddedData.sources["prices.json"]!.utf8), source: "data/prices.json")
    }()

    /// Reads and validates a catalog file.
    /// - Throws: `InputError` naming the file and the missing, malformed or negative item.
    public static func load(path: String) throws(InputError) -> PriceCatalog {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(setting: "prices", value: path, allowed: "a readable JSON price file")
        }
        return try decode(data, source: path)
    }

    static func decode(_ data: Data, source: String) throws(InputError) -> PriceCatalog {
        let catalog = try InputError.decodeJSON(
            PriceCatalog.self, from: data, file: source, document: "a price catalog like data/prices.json")
        try catalog.validate(source: source)
        return catalog
    }

    /// What an instance name may be: it becomes an option's id (`batch-NAME`), part of exported file names and a
    /// word of generated scripts.
    public static let instanceNameRule =
        "1 to 64 of A-Z a-z 0-9 . _ -, starting with a letter or digit (an EC2 instance type such as g5.xlarge)"

    /// Instance names are `instanceNameRule` and each used once; a GPU's model (shown in summaries and comments)
    /// has 1 to 1,000 characters, none of them a control character; the catalog's version, currency, region and
    /// sources (shown and written into deployment files' comments) are one line of at most 1,000 characters. The
    /// error names the file, the item (`ec2.instances[3].name`) and the value.
    func validateNames(source: String) throws(InputError) {
        let texts = [
            ("version", version), ("currency", currency), ("region", region), ("lambda.source", lambda.source),
            ("fargate.source", fargate.source), ("fargate.taskSizes.source", fargate.taskSizes.source),
            ("ec2.source", ec2.source), ("provisioning.source", provisioning.source),
        ]
        for (field, text) in texts
        where text.unicodeScalars.count > 1_000 || text.unicodeScalars.contains(where: Shell.isLineBreakingOrControl) {
            throw InputError(
                field: "\(source): \(field)", value: text, allowed: "one line of at most 1,000 characters")
        }
        var seen: Set<String> = []
        for (index, instance) in ec2.instances.enumerated() {
            let item = "\(source): ec2.instances[\(index)]"
            guard instance.name.unicodeScalars.count <= 64, ContainedPath.isSafeName(instance.name) else {
                throw InputError(field: "\(item).name", value: instance.name, allowed: Self.instanceNameRule)
            }
            guard seen.insert(instance.name).inserted else {
                throw InputError(field: "\(item).name", value: instance.name, allowed: "a name not used before")
            }
            if let model = instance.gpu?.model,
                model.isEmpty || model.unicodeScalars.count > 1_000
                    || model.unicodeScalars.contains(where: Shell.isLineBreakingOrControl)
            {
                throw InputError(
                    field: "\(item).gpu.model", value: model,
                    allowed: "a model name of 1 to 1,000 characters without control characters")
            }
        }
    }

    /// The largest figure a catalog may give (a price, a size, seconds): beyond it sums and products of figures
    /// would overflow what capsize computes with.
    public static let largestFigure = 1e9
    /// The most memory sizes one Fargate vCPU count may allow (AWS allows at most a few dozen).
    public static let maximumFargateSizes = 1_000

    /// Every price and size must be finite, non-negative and at most `largestFigure`, every count and size
    /// positive and within what AWS offers, and every span ordered; the error names the first item that is not.
    func validate(source: String) throws(InputError) {
        try validateNames(source: source)
        var nonNegative: [(String, Double)] = [
            ("lambda.gbSecond.x86_64", lambda.gbSecond.x86_64), ("lambda.gbSecond.arm64", lambda.gbSecond.arm64),
            ("lambda.perRequest", lambda.perRequest), ("fargate.vcpuHour.x86_64", fargate.vcpuHour.x86_64),
            ("fargate.vcpuHour.arm64", fargate.vcpuHour.arm64), ("fargate.gbHour.x86_64", fargate.gbHour.x86_64),
            ("fargate.gbHour.arm64", fargate.gbHour.arm64), ("fargate.minimumSeconds", fargate.minimumSeconds),
            ("ec2.minimumSeconds", ec2.minimumSeconds), ("lambda.freeTier.requests", lambda.freeTier.requests),
            ("lambda.freeTier.gbSeconds", lambda.freeTier.gbSeconds),
        ]
        // Sizes, each with the largest AWS could plausibly offer: they become whole MiB and vCPU counts.
        var positive: [(String, Double, Double)] = [
            ("fargate.taskSizes.ephemeralStorageGB.default", fargate.taskSizes.ephemeralStorageGB.default, 65_536),
            ("fargate.taskSizes.ephemeralStorageGB.maximum", fargate.taskSizes.ephemeralStorageGB.maximum, 65_536),
        ]
        if ec2.instances.isEmpty {
            throw InputError(field: "\(source): ec2.instances", value: "[]", allowed: "at least one instance type")
        }
        for instance in ec2.instances {
            let item = "ec2.\(instance.name)"
            nonNegative.append(("\(item).hourly", instance.hourly))
            positive.append(("\(item).vcpus", Double(instance.vcpus), 4_096))
            positive.append(("\(item).memoryGiB", instance.memoryGiB, 65_536))
            if let gpu = instance.gpu {
                positive.append(("\(item).gpu.count", Double(gpu.count), 64))
                positive.append(("\(item).gpu.memoryGiB", gpu.memoryGiB, 4_096))
                positive.append(("\(item).gpu.fp32TFLOPS", gpu.fp32TFLOPS, 1e6))
            }
        }
        for (index, size) in fargate.taskSizes.combinations.enumerated() {
            let item = "fargate.taskSizes.combinations[\(index)]"
            positive.append(("\(item).vcpu", size.vcpu, 1_024))
            for (field, value) in [
                ("minimumGB", size.minimumGB), ("maximumGB", size.maximumGB), ("stepGB", size.stepGB),
            ] {
                if let value { positive.append(("\(item).\(field)", value, 65_536)) }
            }
            for value in size.memoryGB ?? [] { positive.append(("\(item).memoryGB", value, 65_536)) }
        }
        let spans = [
            ("provisioning.ec2Seconds", provisioning.ec2Seconds),
            ("provisioning.fargateSeconds", provisioning.fargateSeconds),
            ("provisioning.lambdaColdStartSeconds", provisioning.lambdaColdStartSeconds),
        ]
        for (item, span) in spans {
            nonNegative.append(("\(item)[0]", span.lower))
            nonNegative.append(("\(item)[1]", span.upper))
        }
        for (item, value) in nonNegative {
            try InputError.check(value, field: "\(source): \(item)", in: 0...Self.largestFigure)
        }
        for (item, value, largest) in positive where !(value.isFinite && value > 0 && value <= largest) {
            throw InputError(
                field: "\(source): \(item)", value: "\(value)",
                allowed: "a number above 0 and at most \(NumberText.significant(largest))")
        }
        try validateFargateSizes(source: source)
        for (item, span) in spans where span.lower > span.upper {
            throw InputError(
                field: "\(source): \(item)", value: "[\(span.lower), \(span.upper)]",
                allowed: "[lower, upper] with lower ≤ upper")
        }
        if lambda.memoryPresetsMB.isEmpty {
            throw InputError(
                field: "\(source): lambda.memoryPresetsMB", value: "[]", allowed: "at least one memory size")
        }
        for memory in lambda.memoryPresetsMB where !FunctionConfiguration.memoryRange.contains(memory) {
            throw InputError(
                field: "\(source): lambda.memoryPresetsMB", value: "\(memory)",
                allowed: "128...10240 MB (Lambda's range)")
        }
        try InputError.check(
            lambda.billingGranularityMs, field: "\(source): lambda.billingGranularityMs", in: 1...900_000,
            unit: "ms (at most Lambda's 900 s timeout)")
    }

    /// Each Fargate vCPU count has memory sizes, at most `maximumFargateSizes` of them (a tiny `stepGB` over a
    /// wide range would make millions).
    private func validateFargateSizes(source: String) throws(InputError) {
        if fargate.taskSizes.combinations.isEmpty {
            throw InputError(
                field: "\(source): fargate.taskSizes.combinations", value: "[]",
                allowed: "at least one vCPU/memory combination")
        }
        for (index, size) in fargate.taskSizes.combinations.enumerated() {
            let item = "\(source): fargate.taskSizes.combinations[\(index)]"
            if size.memoryGB == nil, let minimumGB = size.minimumGB, let maximumGB = size.maximumGB,
                let stepGB = size.stepGB, (maximumGB - minimumGB) / stepGB > Double(Self.maximumFargateSizes)
            {
                throw InputError(
                    field: "\(item).stepGB", value: "\(stepGB)",
                    allowed: "a step that gives at most \(Self.maximumFargateSizes) sizes from minimumGB to maximumGB")
            }
            if size.memorySizesGB.isEmpty {
                throw InputError(
                    field: "\(item).memoryGB", value: "(missing)",
                    allowed: "a list of sizes, or minimumGB ≤ maximumGB with stepGB")
            }
        }
    }
}

/// A Lambda (or Fargate) CPU architecture.
public enum Architecture: String, Codable, Sendable, CaseIterable {
    // swift-format-ignore: AlwaysUseLowerCamelCase
    // The architecture's own name, as AWS and `uname -m` write it.
    case x86_64, arm64
}
