public import CapsizeCore
import CloudModel
public import Foundation

extension Recommendation {
    /// The most runs a recommendation plans for (what `recommend` takes).
    public static let runsRange = 1...10_000_000

    /// A recommendation saved by `recommend --json` (its `recommendation`), read from `file` and checked: every
    /// number an export writes (runs, an option's vCPUs, memory, GPUs, runtime and start-up) is finite and in a range
    /// the deployment files can hold.
    /// - Throws: `InputError` naming the file and the place in it (`recommendation.options[2].memoryMB`).
    public init(saved data: Data, file: String) throws(InputError) {
        struct Saved: Decodable { var recommendation: Recommendation }
        self = try InputError.decodeJSON(
            Saved.self, from: data, file: file, document: "the JSON of a saved recommendation"
        ).recommendation
        try InputError.check(runs, field: "\(file): recommendation.runs", in: Self.runsRange)
        for (index, option) in options.enumerated() {
            try option.check(place: "\(file): recommendation.options[\(index)]")
        }
        try pick?.check(place: "\(file): recommendation.pick")
        for (index, alternative) in bestOfEach.enumerated() {
            try alternative.option.check(place: "\(file): recommendation.bestOfEach[\(index)].option")
        }
    }
}

extension PlanOption {
    /// Refuses a number an export cannot write, naming it at `place`.
    func check(place: String) throws(InputError) {
        // Lambda gives a share of one vCPU (128 MB: 0.072).
        try InputError.check(vcpus, field: "\(place).vcpus", in: 0.01...4_096)
        try InputError.check(memoryMB, field: "\(place).memoryMB", in: 1...4_194_304, unit: "MiB")
        try InputError.check(gpus, field: "\(place).gpus", in: 0...64)
        if let runtime {
            // At most the longest Batch timeout capsize takes: exports turn it into whole seconds and minutes.
            try InputError.check(
                runtime.seconds, field: "\(place).runtime.seconds", in: 0...BatchLimits.maximumTimeoutSeconds,
                unit: "seconds")
        }
        try InputError.check(startup.lower, field: "\(place).startup[0]", in: 0...1e9, unit: "seconds")
        try InputError.check(startup.upper, field: "\(place).startup[1]", in: 0...1e9, unit: "seconds")
    }
}

extension SizedWorkload {
    /// The workload a recommendation saved by `recommend --json` was sized for (its `workload`), read from `file`;
    /// nil for one saved before recommendations recorded it.
    /// - Throws: `InputError` naming the file and the place in it.
    public static func saved(_ data: Data, file: String) throws(InputError) -> SizedWorkload? {
        struct Saved: Decodable { var workload: SizedWorkload? }
        let workload = try InputError.decodeJSON(
            Saved.self, from: data, file: file, document: "the JSON of a saved recommendation"
        ).workload
        if let workload, workload.name.isEmpty || workload.program.map({ $0.first?.isEmpty ?? true }) == true {
            throw InputError(
                field: "\(file): workload", value: workload.name, allowed: "a workload's name and its program, if any")
        }
        return workload
    }
}
