import CapsizeCore
import Foundation
import Yams

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
