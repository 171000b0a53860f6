public import CapsizeCore
public import CloudModel
import Execution
import Foundation
public import Workloads

/// What runs each point of a sweep.
public enum SweepExecutor: String, CaseIterable, Codable, Sendable {
    /// The Lambda model (`FunctionExecutor`).
    case function
    /// The Batch model (`BatchExecutor`).
    case batch
}

/// A validated sweep: the workload, its base parameters, the sizes, the memory settings, the executor.
public struct SweepPlan: Encodable {
    public var workload: String
    /// The workload's type (`workload` is its name).
    public var type: any Workload.Type
    public var arguments: [String]
    public var sizes: SizeList
    public var memories: [Int]
    public var repeats: Int
    public var executor: SweepExecutor
    public var architecture: Architecture
    /// Whether functions and jobs are held to their vCPU share.
    public var governsCPUShare: Bool

    enum CodingKeys: String, CodingKey {
        case workload, arguments, memories, repeats, executor, architecture, governsCPUShare
    }

    /// - Parameters:
    ///   - sizes: `NAME=SIZES` (see `SizeList`); nil for the workload's default sizes.
    ///   - memoryList: comma-separated memory settings; nil for `defaultMemories` alone.
    ///   - defaultMemories: memory settings used besides (caps) or instead of (sweep, when empty) the list.
    /// - Throws: `InputError` naming the setting: the workload's parameters, `param`, `memory`, `repeat`,
    ///   `architecture`, `timeout`.
    public init(
        workload: String, parameters: [String], sizes sizeText: String?, memoryList: String?, defaultMemories: [Int],
        repeats: Int, executor: SweepExecutor, timeout: Int, architecture: String, governsCPUShare: Bool
    ) throws(InputError) {
        self.governsCPUShare = governsCPUShare
        let (type, values) = try WorkloadCatalog.parse(workload, arguments: parameters)
        _ = try type.init(parameters: values)
        guard (1...100).contains(repeats) else {
            throw InputError(setting: "repeat", value: "\(repeats)", allowed: "an integer in 1...100")
        }
        guard let architecture = Architecture(rawValue: architecture) else {
            throw InputError(setting: "architecture", value: architecture, allowed: "x86_64 or arm64")
        }
        var memories = defaultMemories
        if let memoryList {
            for word in memoryList.split(separator: ",", omittingEmptySubsequences: false) {
                let text = word.trimmingCharacters(in: .whitespaces)
                let range = executor == .function ? FunctionConfiguration.memoryRange : 4...(1 << 24)
                guard let value = Int(text), range.contains(value) else {
                    throw InputError(
                        setting: "memory", value: text,
                        allowed: executor == .function
                            ? "comma-separated sizes in 128...10240 MB (Lambda's range)"
                            : "comma-separated job memory limits in MiB (at least 4)")
                }
                if !memories.contains(value) { memories.append(value) }
            }
        }
        guard !memories.isEmpty else {
            throw InputError(setting: "memory", value: "", allowed: "at least one memory size")
        }
        if executor == .function {
            _ = try FunctionConfiguration(memoryMB: memories[0], timeoutSeconds: timeout)
        } else if timeout < 1 {
            throw InputError(setting: "timeout", value: "\(timeout)", allowed: "at least 1 second")
        }
        self.sizes = try SizeList(parsing: sizeText ?? Self.defaultSizes(type), workload: type)
        self.workload = type.name
        self.type = type
        self.arguments = parameters
        self.memories = memories.sorted()
        self.repeats = repeats
        self.executor = executor
        self.architecture = architecture
    }

    /// The workload's analytical FLOPs at `size` (nil when the workload cannot say, as for `command`).
    public func flops(at size: Double) -> Double? { sizes.flops(type, arguments: arguments, size: size) }

    /// Without sizes: the size parameter from an eighth of its default, doubling up to its maximum.
    public static func defaultSizes(_ type: any Workload.Type) -> String {
        guard let spec = type.parameters.first(where: { $0.name == type.sizeParameter }) else { return "" }
        let start = max(1, (Double(spec.defaultValue ?? "1") ?? 1) / 8)
        switch spec.kind {
        case .integer(let range):
            let from = max(range.lowerBound, Int(start))
            return "\(spec.name)=\(from)..\(range.upperBound)*2"
        case .real(let range): return "\(spec.name)=\(max(range.lowerBound, start))..\(range.upperBound)*2"
        default: return spec.name
        }
    }
}
