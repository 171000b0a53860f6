public import CapsizeCore
import Foundation
import Yams

/// A benchmark suite as written in YAML: a name and its benchmarks, each a workload measured by one executor and,
/// when asked, swept, studied for its caps and recommended (see docs/suites.md).
public struct Suite: Sendable, Equatable {
    public var name: String
    public var benchmarks: [SuiteBenchmark]
    /// Where each value was written, for the errors found when the benchmarks' requests are built.
    public var places: SuitePlaces

    public init(name: String, benchmarks: [SuiteBenchmark], places: SuitePlaces) {
        self.name = name
        self.benchmarks = benchmarks
        self.places = places
    }
}

/// One benchmark of a suite: what runs, on what, how often, and the studies around it.
public struct SuiteBenchmark: Sendable, Equatable, Codable {
    /// How the workload is run: as Lambda-model functions, as Batch-model jobs, or directly on a device.
    public enum Executor: String, Sendable, Codable, CaseIterable {
        case function, batch, bench
    }

    /// A sweep of the size parameter over sizes (`SizeList`'s words), under the executor's model.
    public struct SweepSpec: Sendable, Equatable, Codable {
        public var param: String
        public var values: String
    }

    /// A cap-break study: the function timeout examined and how it is scaled to be observed quickly.
    public struct CapsSpec: Sendable, Equatable, Codable {
        public var timeout = 900
        public var timeCapScale = 0.01
        public var refine = 0.1
        /// The sizes stepped through, `NAME=SIZES`; nil for the workload's default ladder.
        public var sizes: String?
    }

    /// A recommendation for `runs` runs with a strategy.
    public struct RecommendSpec: Sendable, Equatable, Codable {
        public var runs = 1
        public var strategy = "balanced"
        /// Lambda memory sizes considered, nil for the catalog's presets.
        public var memory: [Int]?
        /// The size recommended for (the workload's size parameter), nil for the benchmark's own.
        public var size: String?
        /// Write the pick's deployment files (SAM, Batch job definition, sbatch) beside the report.
        public var export = false
    }

    /// Free text: the name reports and `capsize compare` use.
    public var name: String
    public var workload: String
    /// The workload's parameter words (`--batch=256`), then `--` and a command's argv for `command`.
    public var parameters: [String]
    public var executor: Executor
    /// Function memory sizes (MB) or batch job memory (MiB).
    public var memory: [Int]
    public var repeats: Int
    public var warmup: Int
    /// Devices a bench runs on (`auto`, `cpu`, `native`, `gpu`, `opencl:N`).
    public var devices: [String]
    /// A function's timeout or a batch job's attempt duration, seconds.
    public var timeout: Int
    /// Bench on the CPU and on a GPU (the PoCL OpenCL CPU device when there is none) and compare.
    public var gpuVsCPU: Bool
    public var sweep: SweepSpec?
    public var caps: CapsSpec?
    public var recommend: RecommendSpec?
}

extension Suite {
    /// Parses and checks a suite; `file` names it in errors.
    /// - Throws: `InputError` whose field is `FILE:LINE:COLUMN: PATH` (e.g. `suite.yaml:7:13: benchmarks[0].memory`),
    ///   with the value and what is allowed: a YAML error, an unknown key, a value of the wrong type, and every
    ///   value the commands refuse (checked with their own requests: `SuitePlan`).
    public init(yaml text: String, file: String) throws(InputError) {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw InputError(
                    field: "\(file):1:1", value: "", allowed: "a suite: a mapping with name and benchmarks")
            }
            root = node
        } catch let error as InputError {
            throw error
        } catch let error as YamlError {
            throw SuiteReader.yamlError(error, file: file)
        } catch {
            throw InputError(field: "\(file):1:1", value: "", allowed: "YAML (\(error))")
        }
        var reader = SuiteReader(file: file)
        self = try reader.suite(root)
    }

    /// Loads the suite at `path`.
    /// - Throws: `InputError` naming the setting `suite` for a file that cannot be read, or a place in it.
    public init(path: String) throws(InputError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(setting: "suite", value: path, allowed: "a readable YAML file")
        }
        try self.init(yaml: String(decoding: data, as: UTF8.self), file: path)
    }
}

/// Where each value of a suite was written, so that an error found later names its place.
public struct SuitePlaces: Sendable, Equatable {
    /// The file, as errors name it.
    public var file: String
    /// `benchmarks[i].key` (or `.params.NAME`, `.caps.refine`) → `LINE:COLUMN`.
    var marks: [String: String] = [:]

    public init(file: String) { self.file = file }

    /// An error about benchmark `index`'s `setting` (a request's key), placed where the suite wrote it.
    public func error(_ error: InputError, benchmark index: Int) -> InputError {
        // A parameter the workload does not have: named by its key under params, the others by theirs.
        if error.field == "parameter", error.value.hasPrefix("--") {
            let name = String(error.value.dropFirst(2))
            let path = "benchmarks[\(index)].params.\(name)"
            return InputError(
                field: "\(file):\(marks[path] ?? marks["benchmarks[\(index)]"] ?? "1:1"): \(path)", value: name,
                allowed: error.allowed.replacingOccurrences(of: "--", with: ""))
        }
        let named = error.namingSetting { Self.key(for: $0) }
        let path = "benchmarks[\(index)]" + (error.isSetting ? "." + Self.key(for: error.field) : "")
        let candidates = [path, "benchmarks[\(index)].params.\(error.field)", "benchmarks[\(index)]"]
        let place = candidates.first { marks[$0] != nil }
        let shownPath = place.map { $0 == "benchmarks[\(index)]" && error.isSetting ? path : $0 } ?? path
        let mark = place.flatMap { marks[$0] } ?? "1:1"
        let field = error.isSetting ? shownPath : "\(shownPath) (\(error.field))"
        return InputError(field: "\(file):\(mark): \(field)", value: named.value, allowed: named.allowed)
    }

    /// A request's setting as the suite's key.
    static func key(for setting: String) -> String {
        let keys = [
            "device": "devices", "timeCapScale": "caps.time-cap-scale", "refine": "caps.refine",
            "runs": "recommend.runs", "strategy": "recommend.strategy", "architectures": "recommend.architectures",
            "sizes": "sweep.values", "param": "sweep.param", "count": "repeat", "repeats": "repeat",
        ]
        return keys[setting] ?? setting
    }
}
