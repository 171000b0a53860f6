import Analysis
import CapsizeCore
import Foundation
public import Store

/// The benchmarks of one result, whatever it was read from: a report directory's `results.json` or a run in the
/// store. `compare` knows this shape only.
public struct BenchmarkResults: Sendable, Equatable {
    /// One benchmark and its measured times.
    public struct Benchmark: Sendable, Equatable {
        public var name: String
        /// Seconds of each measurement, in the order recorded.
        public var seconds: [Double]

        public init(name: String, seconds: [Double]) {
            self.name = name
            self.seconds = seconds
        }
    }

    /// Where the result came from, in words: `report directory nightly` or `run 1f2e3d4c`.
    public var source: String
    public var benchmarks: [Benchmark]

    public init(source: String, benchmarks: [Benchmark]) {
        self.source = source
        self.benchmarks = benchmarks
    }

    /// The version of `results.json` this capsize reads.
    public static let schema = "capsize.results/1"

    /// A result that cannot be read or compared: a missing directory or run, an unreadable file, another schema.
    public struct Unavailable: Error, Equatable, Sendable, CustomStringConvertible {
        /// The argument that named the result.
        public var argument: String
        /// What is wrong, in words.
        public var reason: String

        public var description: String { "'\(InputError.oneLine(argument))': \(reason)" }
    }

    /// Reads the result `argument` names: a report directory (its `results.json`), a `results.json` file, or the
    /// id of a stored run (or a unique prefix of it).
    /// - Parameter store: opens the store, only when `argument` is not a path.
    /// - Throws: `Unavailable` saying why, when it names neither or what it names cannot be read.
    public static func load(_ argument: String, store: () throws -> CapsizeStore) throws -> BenchmarkResults {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory) {
            let file = isDirectory.boolValue ? (argument as NSString).appendingPathComponent("results.json") : argument
            return try read(file: file, argument: argument)
        }
        let unavailable = { (reason: String) in Unavailable(argument: argument, reason: reason) }
        guard !argument.isEmpty, argument.allSatisfy({ $0.isHexDigit || $0 == "-" }) else {
            throw unavailable("no such report directory or results.json file, and not a run id")
        }
        let found: CapsizeStore
        let run: RunRecord
        do {
            found = try store()
            run = try found.run(id: argument)
        } catch StoreError.runNotFound {
            throw unavailable("no such report directory, and no stored run has this id (see `capsize runs list`)")
        } catch let error as StoreError {
            throw unavailable(error.description)
        }
        let results = fromStore(run: run, measurements: try found.measurements(run: run.id))
        guard !results.benchmarks.isEmpty else {
            throw unavailable("run \(run.shortID) (\(run.kind)) has no measurements to compare")
        }
        return results
    }

    /// Reads `results.json` at `file`.
    static func read(file: String, argument: String) throws -> BenchmarkResults {
        let unavailable = { (reason: String) in Unavailable(argument: argument, reason: reason) }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw unavailable("\(file) cannot be read (a report directory holds results.json)")
        }
        let document: Document
        do {
            document = try InputError.decodeJSON(
                Document.self, from: data, file: file, document: "a capsize results.json")
        } catch {
            throw unavailable("\(error.field): found \(error.value), expected \(error.allowed)")
        }
        guard document.schema == schema else {
            throw unavailable("\(file) has schema '\(document.schema)'; this capsize reads \(schema)")
        }
        let benchmarks = document.benchmarks.map { benchmark in
            Benchmark(name: benchmark.name, seconds: benchmark.measurements.compactMap(\.seconds).filter(\.isFinite))
        }
        return BenchmarkResults(source: "report \(argument)", benchmarks: benchmarks)
    }

    /// What `compare` reads of a results.json: the schema, and each benchmark's name and measured seconds (a
    /// measurement without seconds, a failed one, is left out).
    struct Document: Decodable {
        struct Benchmark: Decodable {
            struct Measurement: Decodable { var seconds: Double? }
            var name: String
            var measurements: [Measurement]
        }
        var schema: String
        var benchmarks: [Benchmark]
    }

    /// The benchmarks of a stored run: its measurements grouped by item key without the repetition
    /// (`memory=512/size=1024/rep=2` → `memory=512/size=1024`); a key that is only a repetition (a bench's `rep=3`)
    /// is named after the command (`bench train-mlp`).
    public static func fromStore(run: RunRecord, measurements: [MeasurementRecord]) -> BenchmarkResults {
        var order: [String] = []
        var times: [String: [Double]] = [:]
        for measurement in measurements where measurement.seconds.isFinite {
            let name = benchmarkName(itemKey: measurement.itemKey, run: run)
            if times[name] == nil { order.append(name) }
            times[name, default: []].append(measurement.seconds)
        }
        return BenchmarkResults(
            source: "run \(run.shortID)", benchmarks: order.map { Benchmark(name: $0, seconds: times[$0]!) })
    }

    /// `memory=512/size=1024/rep=2` → `memory=512/size=1024`; `rep=2` → the command's words before its first
    /// option (`bench train-mlp`).
    static func benchmarkName(itemKey: String, run: RunRecord) -> String {
        let parts = itemKey.split(separator: "/").filter { !$0.hasPrefix("rep=") }
        if !parts.isEmpty { return parts.joined(separator: "/") }
        let words = run.commandLine.dropFirst().prefix { !$0.hasPrefix("-") }
        return words.isEmpty ? run.kind.rawValue : words.joined(separator: " ")
    }
}
