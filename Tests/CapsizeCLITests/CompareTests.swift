import Compute
import Foundation
import TestSupport
import Testing

@testable import Store

/// `capsize compare` on result directories written here and on runs stored here: each exit code
/// (package-benchmark's: 0 unchanged, 2 regression, 4 improvements only, 5 incomparable).
@Suite struct CompareTests {
    let testFolder = TestFolder("capsize-compare")
    var home: String { testFolder.path }

    static let base: [Double] = [1.00, 1.01, 0.99, 1.02, 0.98]

    /// Writes `benchmarks` (name → seconds) as DIR/results.json in a new directory under the test's folder.
    func report(_ name: String, _ benchmarks: [(String, [Double])], schema: String = "capsize.results/1") throws
        -> String
    {
        let directory = home + "/" + name
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let document: [String: Any] = [
            "schema": schema,
            "benchmarks": benchmarks.map { name, seconds in
                [
                    "name": name, "unit": "s",
                    "measurements": seconds.enumerated().map { ["seconds": $1, "repetition": $0] },
                ] as [String: Any]
            },
        ]
        try JSONSerialization.data(withJSONObject: document).write(
            to: URL(fileURLWithPath: directory + "/results.json"))
        return directory
    }

    func compare(_ arguments: [String]) throws -> ProcessOutput {
        try capsize(["compare"] + arguments, environment: ["CAPSIZE_HOME": home])
    }

    @Test("the same times exit 0; slower exits 2; faster exits 4, each with a table of the change")
    func exitCodes() throws {
        let base = try report("base", [("mlp", Self.base), ("render", Self.base)])
        let same = try report("same", [("mlp", Self.base.reversed()), ("render", Self.base)])
        let slower = try report("slower", [("mlp", Self.base.map { $0 * 1.3 }), ("render", Self.base)])
        let faster = try report("faster", [("mlp", Self.base.map { $0 * 0.7 }), ("render", Self.base)])

        let unchanged = try compare([base, same])
        #expect(unchanged.status == 0, "\(unchanged.stderr)")
        #expect(unchanged.stdout.contains("2 unchanged"), "\(unchanged.stdout)")
        #expect(unchanged.stderr.isEmpty)

        let regressed = try compare([base, slower])
        #expect(regressed.status == 2, "\(regressed.stderr)")
        let row = try #require(regressed.stdout.split(separator: "\n").first { $0.hasPrefix("mlp") })
        #expect(row.contains("+30%") && row.contains("regressed"), "\(regressed.stdout)")
        #expect(regressed.stderr.contains("regression: 1 regressed, 1 unchanged"), "\(regressed.stderr)")

        let improved = try compare([base, faster])
        #expect(improved.status == 4, "\(improved.stderr)")
        #expect(improved.stdout.contains("-30%") && improved.stdout.contains("improved"), "\(improved.stdout)")
    }

    @Test("--fail-if lets a slowdown within its threshold pass and fails one over it, naming the threshold")
    func thresholds() throws {
        let base = try report("base", [("mlp", Self.base)])
        let slower = try report("slower", [("mlp", Self.base.map { $0 * 1.08 })])
        #expect(try compare([base, slower]).status == 2)
        let within = try compare([base, slower, "--fail-if", "median:+10%"])
        #expect(within.status == 0, "\(within.stdout)")
        let over = try compare([base, slower, "--fail-if", "median:+10%", "--fail-if", "p90:+5%", "--json"])
        #expect(over.status == 2)
        let document = try json(over.stdout)
        #expect(document["outcome"] as? String == "regressed")
        #expect(document["thresholds"] as? [String] == ["median:+10%", "p90:+5%"])
        let benchmark = try #require((document["benchmarks"] as? [[String: Any]])?.first)
        #expect(benchmark["verdict"] as? String == "regressed")
        #expect((benchmark["breached"] as? [[String: Any]])?.first?["statistic"] as? String == "p90")
    }

    @Test(
        "a threshold that cannot be read exits 2 with one line naming --fail-if and the format",
        arguments: ["median:10", "median+10%", "p99:+10%", "median:+0%", "median:-10%", "median:+ten%"])
    func badThreshold(_ threshold: String) throws {
        let base = try report("base", [("mlp", Self.base)])
        let result = try expectBadInput(
            ["compare", base, base, "--fail-if", threshold], mentions: "invalid --fail-if '\(threshold)'", home: home)
        #expect(result.stderr.contains("e.g. median:+10%") && result.stdout.isEmpty)
    }

    @Test("a missing baseline, an unreadable file, another schema or no benchmark in common exits 5")
    func incomparable() throws {
        let base = try report("base", [("mlp", Self.base)])
        let missing = try compare([home + "/nowhere", base])
        #expect(missing.status == 5)
        #expect(missing.stderr.contains("no such report directory"), "\(missing.stderr)")
        #expect(try compare(["0123abcd", base]).status == 5)

        let broken = home + "/broken"
        try FileManager.default.createDirectory(atPath: broken, withIntermediateDirectories: true)
        try Data("{\"schema\": ".utf8).write(to: URL(fileURLWithPath: broken + "/results.json"))
        let unreadable = try compare([broken, base])
        #expect(unreadable.status == 5)
        #expect(unreadable.stderr.contains("results.json"), "\(unreadable.stderr)")
        #expect(try compare([home + "/empty-dir-\(getpid())", base]).status == 5)

        let future = try report("future", [("mlp", Self.base)], schema: "capsize.results/2")
        let schema = try compare([base, future])
        #expect(schema.status == 5)
        #expect(schema.stderr.contains("capsize.results/2"), "\(schema.stderr)")

        let other = try report("other", [("render", Self.base)])
        let nothingInCommon = try compare([base, other])
        #expect(nothingInCommon.status == 5)
        #expect(nothingInCommon.stdout.contains("missing in new"), "\(nothingInCommon.stdout)")
        #expect(nothingInCommon.stderr.contains("no benchmark is in both"), "\(nothingInCommon.stderr)")
    }

    /// Stores a sweep-shaped run: `memory=512/size=S/rep=R` for each size and time, returning its id.
    func storedRun(_ store: CapsizeStore, times: [String: [Double]]) throws -> String {
        let run = try store.createRun(
            kind: .sweep, commandLine: ["capsize", "sweep", "train-mlp", "--memory", "512"],
            parameters: ["arguments": [String]()])
        let start = Date()
        for (size, seconds) in times {
            for (repetition, value) in seconds.enumerated() {
                try store.record(
                    MeasurementRecord(
                        runID: run.id, itemKey: "memory=512/size=\(size)/rep=\(repetition)", seconds: value,
                        startedAt: start, endedAt: start))
            }
        }
        try store.finish(run: run.id)
        return run.id
    }

    @Test("stored runs compare by id prefix, their repetitions grouped by item; a report compares with a run")
    func storedRuns() throws {
        let store = try CapsizeStore(path: home + "/capsize.sqlite", machine: CalibrationKey.machine())
        let base = try storedRun(store, times: ["256": Self.base, "512": Self.base.map { $0 * 2 }])
        let slower = try storedRun(store, times: ["256": Self.base.map { $0 * 1.5 }, "512": Self.base.map { $0 * 2 }])
        let faster = try storedRun(store, times: ["256": Self.base.map { $0 * 0.5 }, "512": Self.base.map { $0 * 2 }])

        let regressed = try compare([String(base.prefix(8)), String(slower.prefix(8))])
        #expect(regressed.status == 2, "\(regressed.stderr)")
        #expect(regressed.stdout.contains("memory=512/size=256"), "\(regressed.stdout)")
        #expect(regressed.stdout.contains("5/5"), "\(regressed.stdout)")
        #expect(try compare([base, faster]).status == 4)
        #expect(try compare([base, base]).status == 0)

        let directory = try report(
            "report", [("memory=512/size=256", Self.base), ("memory=512/size=512", Self.base.map { $0 * 2 })])
        let mixed = try compare([directory, faster, "--json"])
        #expect(mixed.status == 4, "\(mixed.stderr)")
        #expect(try json(mixed.stdout)["new"] as? String == "run \(faster.prefix(8))")

        let empty = try store.createRun(
            kind: .invoke, commandLine: ["capsize", "invoke"], parameters: [String: String]())
        let nothing = try compare([empty.id, base])
        #expect(nothing.status == 5)
        #expect(nothing.stderr.contains("has no measurements"), "\(nothing.stderr)")
    }
}
