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

/// Reads a composed YAML document into a `Suite`, every error at its node's mark.
struct SuiteReader {
    var file: String
    var places: SuitePlaces

    init(file: String) {
        self.file = file
        places = SuitePlaces(file: file)
    }

    static func yamlError(_ error: YamlError, file: String) -> InputError {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
            .composer(_, let problem, let mark, _):
            return InputError(field: "\(file):\(mark)", value: "", allowed: "YAML (\(problem))")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return InputError(
                field: "\(file):\(context.mark)", value: duplicates.joined(separator: ", "),
                allowed: "each key once in a mapping")
        default:
            return InputError(field: "\(file):1:1", value: "", allowed: "YAML (\(error))")
        }
    }

    func place(_ node: Node, _ path: String) -> String { "\(file):\(node.mark?.description ?? "1:1"): \(path)" }

    func fail(_ node: Node, _ path: String, allowed: String) -> InputError {
        InputError(field: place(node, path), value: Self.text(node), allowed: allowed)
    }

    /// A node as the suite wrote it, on one line.
    static func text(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar): return scalar.string
        case .sequence(let sequence): return "[" + sequence.map { text($0) }.joined(separator: ", ") + "]"
        case .mapping(let mapping):
            return "{" + mapping.map { "\(text($0.key)): \(text($0.value))" }.joined(separator: ", ") + "}"
        case .alias: return "*alias"
        }
    }

    /// The pairs of a mapping, each key checked against `allowed`.
    func pairs(_ node: Node, _ path: String, allowed: [String]) throws(InputError) -> [(String, Node, Node)] {
        guard let mapping = node.mapping else {
            throw fail(node, path, allowed: "a mapping with " + allowed.joined(separator: ", "))
        }
        var result: [(String, Node, Node)] = []
        for (key, value) in mapping {
            guard let name = key.string, allowed.contains(name) else {
                throw InputError(
                    field: place(key, path.isEmpty ? Self.text(key) : "\(path).\(Self.text(key))"),
                    value: Self.text(key), allowed: "one of the keys " + allowed.joined(separator: ", "))
            }
            result.append((name, key, value))
        }
        return result
    }

    func string(_ node: Node, _ path: String) throws(InputError) -> String {
        guard case .scalar(let scalar) = node else { throw fail(node, path, allowed: "text") }
        return scalar.string
    }

    func int(_ node: Node, _ path: String, allowed: String = "an integer") throws(InputError) -> Int {
        guard case .scalar = node, let value = node.int else { throw fail(node, path, allowed: allowed) }
        return value
    }

    func double(_ node: Node, _ path: String) throws(InputError) -> Double {
        guard case .scalar = node, let value = node.float ?? node.int.map(Double.init) else {
            throw fail(node, path, allowed: "a number")
        }
        return value
    }

    func bool(_ node: Node, _ path: String) throws(InputError) -> Bool {
        guard case .scalar = node, let value = node.bool else { throw fail(node, path, allowed: "true or false") }
        return value
    }

    /// A list, or one value standing for a list of one.
    func list<T>(_ node: Node, _ path: String, _ item: (Node, String) throws(InputError) -> T) throws(InputError) -> [T]
    {
        guard let sequence = node.sequence else { return [try item(node, path)] }
        var values: [T] = []
        for (index, element) in sequence.enumerated() { values.append(try item(element, "\(path)[\(index)]")) }
        guard !values.isEmpty else { throw fail(node, path, allowed: "at least one value") }
        return values
    }

    mutating func suite(_ root: Node) throws(InputError) -> Suite {
        var name: String?
        var benchmarks: [SuiteBenchmark] = []
        var sawBenchmarks = false
        for (key, _, value) in try pairs(root, "", allowed: ["name", "benchmarks"]) {
            switch key {
            case "name": name = try string(value, "name")
            default:
                sawBenchmarks = true
                guard let sequence = value.sequence, sequence.count > 0 else {
                    throw fail(value, "benchmarks", allowed: "a list of at least one benchmark")
                }
                for (index, element) in sequence.enumerated() {
                    benchmarks.append(try benchmark(element, index: index))
                }
            }
        }
        guard let name, sawBenchmarks else {
            throw InputError(
                field: place(root, name == nil ? "name" : "benchmarks"), value: "",
                allowed: "a suite with a name and a list of benchmarks")
        }
        let names = benchmarks.map(\.name)
        if let repeated = names.enumerated().first(where: { names.firstIndex(of: $0.element) != $0.offset }) {
            throw InputError(
                field: "\(file):\(places.marks["benchmarks[\(repeated.offset)].name"] ?? "1:1"): "
                    + "benchmarks[\(repeated.offset)].name",
                value: repeated.element, allowed: "a name no other benchmark of the suite has")
        }
        return Suite(name: name, benchmarks: benchmarks, places: places)
    }

    static let benchmarkKeys = [
        "name", "workload", "params", "command", "executor", "memory", "repeat", "warmup", "devices", "device",
        "timeout", "gpu-vs-cpu", "sweep", "caps", "recommend",
    ]

    mutating func benchmark(_ node: Node, index: Int) throws(InputError) -> SuiteBenchmark {
        let base = "benchmarks[\(index)]"
        places.marks[base] = node.mark?.description
        var fields: [String: (key: Node, value: Node)] = [:]
        for (name, key, value) in try pairs(node, base, allowed: Self.benchmarkKeys) {
            fields[name] = (key, value)
            places.marks["\(base).\(name)"] = value.mark?.description
        }
        func required(_ key: String) throws(InputError) -> Node {
            guard let node = fields[key]?.value else {
                throw InputError(field: place(node, "\(base).\(key)"), value: "", allowed: "a value (required)")
            }
            return node
        }
        let name = try string(try required("name"), "\(base).name")
        let workload = try string(try required("workload"), "\(base).workload")
        var words: [String] = []
        if let params = fields["params"]?.value {
            for (key, keyNode, value) in try pairsAnyKey(params, "\(base).params") {
                places.marks["\(base).params.\(key)"] = value.mark?.description ?? keyNode.mark?.description
                // One word each, `--name=value`: a flag's `false` is a value too, not a word of its own.
                words.append("--\(key)=\(Self.text(value))")
            }
        }
        if let command = fields["command"]?.value {
            words +=
                ["--"]
                + (try list(command, "\(base).command") { (node, path) throws(InputError) in
                    try string(node, path)
                })
        }
        var executor = SuiteBenchmark.Executor.bench
        if let node = fields["executor"]?.value {
            guard let value = SuiteBenchmark.Executor(rawValue: try string(node, "\(base).executor")) else {
                throw fail(node, "\(base).executor", allowed: "function, batch or bench")
            }
            executor = value
        }
        let memory = try fields["memory"].map { (field) throws(InputError) in
            try list(field.value, "\(base).memory") { (node, path) throws(InputError) in
                try int(node, path, allowed: "an integer, MB")
            }
        }
        let devicesNode = fields["devices"]?.value ?? fields["device"]?.value
        let devices = try devicesNode.map { (node) throws(InputError) in
            try list(node, "\(base).devices") { (node, path) throws(InputError) in try string(node, path) }
        }
        if fields["devices"] == nil, let mark = fields["device"]?.value.mark {
            places.marks["\(base).devices"] = "\(mark)"
        }
        return SuiteBenchmark(
            name: name, workload: workload, parameters: words, executor: executor,
            memory: memory ?? [executor == .batch ? 1_024 : 1_769],
            repeats: try fields["repeat"].map { (field) throws(InputError) in try int(field.value, "\(base).repeat") }
                ?? 3,
            warmup: try fields["warmup"].map { (field) throws(InputError) in try int(field.value, "\(base).warmup") }
                ?? 1,
            devices: devices ?? ["auto"],
            timeout: try fields["timeout"].map { (field) throws(InputError) in try int(field.value, "\(base).timeout") }
                ?? 60,
            gpuVsCPU: try fields["gpu-vs-cpu"].map { (field) throws(InputError) in
                try bool(field.value, "\(base).gpu-vs-cpu")
            } ?? false,
            sweep: try fields["sweep"].map { (field) throws(InputError) in try sweep(field.value, "\(base).sweep") },
            caps: try fields["caps"].flatMap { (field) throws(InputError) in try caps(field.value, "\(base).caps") },
            recommend: try fields["recommend"].flatMap { (field) throws(InputError) in
                try recommend(field.value, "\(base).recommend")
            })
    }

    /// A mapping's pairs whatever their keys (a workload's parameters, checked by the workload).
    func pairsAnyKey(_ node: Node, _ path: String) throws(InputError) -> [(String, Node, Node)] {
        guard let mapping = node.mapping else { throw fail(node, path, allowed: "a mapping of parameter: value") }
        var result: [(String, Node, Node)] = []
        for (key, value) in mapping {
            guard case .scalar = value else { throw fail(value, "\(path).\(Self.text(key))", allowed: "one value") }
            result.append((Self.text(key), key, value))
        }
        return result
    }

    mutating func sweep(_ node: Node, _ path: String) throws(InputError) -> SuiteBenchmark.SweepSpec {
        var param: String?
        var values: String?
        for (key, _, value) in try pairs(node, path, allowed: ["param", "values"]) {
            places.marks["\(path).\(key)"] = value.mark?.description
            if key == "param" { param = try string(value, "\(path).param") } else { values = Self.text(value) }
        }
        guard let param, let values else {
            throw InputError(field: place(node, path), value: Self.text(node), allowed: "{param: NAME, values: SIZES}")
        }
        return .init(param: param, values: values)
    }

    mutating func caps(_ node: Node, _ path: String) throws(InputError) -> SuiteBenchmark.CapsSpec? {
        var spec = SuiteBenchmark.CapsSpec()
        if case .scalar = node {
            return try bool(node, path) ? spec : nil
        }
        for (key, _, value) in try pairs(node, path, allowed: ["timeout", "time-cap-scale", "refine", "sizes"]) {
            places.marks["\(path).\(key)"] = value.mark?.description
            switch key {
            case "timeout": spec.timeout = try int(value, "\(path).timeout")
            case "time-cap-scale": spec.timeCapScale = try double(value, "\(path).time-cap-scale")
            case "refine": spec.refine = try double(value, "\(path).refine")
            default: spec.sizes = try string(value, "\(path).sizes")
            }
        }
        return spec
    }

    mutating func recommend(_ node: Node, _ path: String) throws(InputError) -> SuiteBenchmark.RecommendSpec? {
        var spec = SuiteBenchmark.RecommendSpec()
        if case .scalar = node {
            return try bool(node, path) ? spec : nil
        }
        for (key, _, value) in try pairs(node, path, allowed: ["runs", "strategy", "memory", "size", "export"]) {
            places.marks["\(path).\(key)"] = value.mark?.description
            switch key {
            case "runs": spec.runs = try int(value, "\(path).runs")
            case "strategy": spec.strategy = try string(value, "\(path).strategy")
            case "size": spec.size = Self.text(value)
            case "export": spec.export = try bool(value, "\(path).export")
            default:
                spec.memory = try list(value, "\(path).memory") { (node, path) throws(InputError) in
                    try int(node, path, allowed: "an integer, MB")
                }
            }
        }
        return spec
    }
}
