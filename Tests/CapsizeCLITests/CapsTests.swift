import Compute
import Foundation
import TestSupport
import Testing

@testable import Store

/// `capsize sweep` and `capsize caps` on synthetic `command` workloads whose laws are known.
@Suite struct CapsTests {
    /// This test's CAPSIZE_HOME, removed after it.
    let testFolder = TestFolder("capsize-caps")
    var home: String { testFolder.path }

    /// A Python one-liner that takes `size` and sleeps `time` seconds after touching `megabytes` MB.
    static func program(time: String, megabytes: String) -> [String] {
        [
            "python3", "-c",
            "import sys,time\ns=int(sys.argv[1])\nb=b'x'*int((\(megabytes))*1048576)\ntime.sleep(\(time))",
            "{size}",
        ]
    }

    /// The observed break of `analysis`, expected at `cap`.
    static func observedBreak(_ analysis: [String: Any], at cap: String) throws -> [String: Any] {
        let observed = try #require(analysis["observed"] as? [String: Any])
        #expect(observed["cap"] as? String == cap)
        return observed
    }

    /// `capsize caps command --only-listed OPTIONS --json -- PROGRAM` in this test's home, expected to succeed: the
    /// analysis of each memory size.
    func capsAnalyses(_ options: [String], program: [String]) throws -> [[String: Any]] {
        let result = try capsize(
            ["caps", "command", "--only-listed"] + options + ["--json", "--"] + program,
            environment: ["CAPSIZE_HOME": home])
        #expect(result.status == 0, "\(result.stderr)")
        return try #require(try json(result.stdout)["analyses"] as? [[String: Any]])
    }

    /// `capsAnalyses` at one memory size, whose observed break is expected at `cap`: the analysis and that break.
    func capsBreak(at cap: String, _ options: [String], program: [String]) throws
        -> (analysis: [String: Any], observed: [String: Any])
    {
        let analysis = try #require(try capsAnalyses(options, program: program).first)
        return (analysis, try Self.observedBreak(analysis, at: cap))
    }

    @Test("time ∝ size²: the observed time break and the predicted one agree within 10 % of the true break")
    func timeLaw() throws {
        // time = 0.03·size² s (plus start-up) against a 3 s timeout: the true break is at size √100 = 10.
        let (analysis, observed) = try capsBreak(
            at: "time", ["--memory", "512", "--timeout", "3", "--param", "size=1..64*2"],
            program: Self.program(time: "0.03*s*s", megabytes: "1"))
        let observedSize = try #require(observed["size"] as? Double)
        #expect(abs(observedSize - 10) / 10 <= 0.1, "observed break \(observedSize)")
        let predicted = try #require(analysis["predictedTime"] as? [String: Any])
        let predictedSize = try #require(predicted["size"] as? Double)
        #expect(abs(predictedSize - 10) / 10 <= 0.1, "predicted break \(predictedSize)")
        #expect(analysis["predictionAgrees"] as? Bool == true)
        #expect(analysis["firstCap"] as? String == "time")
        // Every sample is in the store, with the executor's invocation records beside it.
        let store = try CapsizeStore(path: home + "/capsize.sqlite", machine: CalibrationKey.machine())
        let run = try #require(try store.runs().first)
        let measurements = try store.measurements(run: run.id)
        let invocations = try store.invocations(run: run.id)
        #expect(measurements.count == invocations.count && measurements.count >= 7)
        #expect(invocations.contains { $0.status == .timeout } && invocations.contains { $0.status == .success })
        #expect(
            Set(invocations.compactMap { $0.itemKey?.components(separatedBy: "/invocation").first })
                == Set(measurements.map(\.itemKey)))
    }

    @Test("a CPU-bound law breaks the timeout at half the size at 128 MB that it does at 256 MB, each break predicted")
    func cpuBoundBreaksFollowTheShare() throws {
        // 4 ms of CPU per unit of size (plus python's start-up), held to 0.0724 and 0.145 of a CPU, against 2 s:
        // shares a busy 2-core machine still gives in full.
        let burn = [
            "python3", "-c",
            "import sys,time\ns=int(sys.argv[1])\nt=time.process_time()\nwhile time.process_time()-t<0.004*s: pass",
            "{size}",
        ]
        let analyses = try capsAnalyses(
            ["--memory", "128,256", "--timeout", "2", "--param", "size=4..256*2", "--refine", "0.1"], program: burn)
        let breaks = try analyses.map { analysis -> (memory: Int, observed: Double, predicted: Double) in
            let observed = try Self.observedBreak(analysis, at: "time")
            let predicted = try #require(analysis["predictedTime"] as? [String: Any])
            let (size, predictedSize) = (
                try #require(observed["size"] as? Double), try #require(predicted["size"] as? Double)
            )
            // The 10 % agreement on a quiet machine is a benchmark (RESULTS.md: 1.9–4.0 %); with the other suites
            // running beside it, each held run still lands within the governor's resolution of its CPU / share.
            #expect(abs(predictedSize - size) / size <= 0.2, "\(analysis)")
            return (
                try #require(analysis["memoryMB"] as? Int), try #require(observed["size"] as? Double),
                try #require(predicted["size"] as? Double)
            )
        }
        #expect(breaks.map(\.memory) == [128, 256])
        // Twice the share: twice the size (a little more, as python's start-up is paid once at each).
        #expect(
            breaks[1].observed > 1.7 * breaks[0].observed && breaks[1].observed < 2.6 * breaks[0].observed,
            "\(breaks)")
    }

    @Test("memory ∝ size breaks before time: observed and predicted memory breaks agree, and the slope is the law's")
    func memoryLaw() throws {
        // memory = base + 3 MB·size against 384 MB; time stays far under the 10 s timeout.
        let analysis = try capsBreak(
            at: "memory", ["--memory", "384", "--timeout", "10", "--param", "size=8..1024*2"],
            program: Self.program(time: "0.1", megabytes: "3*s")
        ).analysis
        #expect(analysis["firstCap"] as? String == "memory")
        #expect(analysis["predictedFirst"] as? String == "memory")
        #expect(analysis["predictionAgrees"] as? Bool == true, "\(analysis)")
        let fit = try #require(analysis["memoryFit"] as? [String: Any])
        let sizes = [16.0, 32.0]
        // The fitted law's slope between two sizes is the program's 3 MB per size unit (within 10 %).
        let model = "\(fit["model"] ?? "")"
        let coefficients = try #require(fit["coefficients"] as? [Double])
        func predict(_ x: Double) -> Double {
            if model.contains("powerLaw") { return coefficients[0] * pow(x, coefficients[1]) }
            return coefficients.enumerated().reduce(0) { $0 + $1.element * pow(x, Double($1.offset)) }
        }
        let slope = (predict(sizes[1]) - predict(sizes[0])) / (sizes[1] - sizes[0])
        #expect(abs(slope - 3) / 3 <= 0.1, "slope \(slope) MB per size, model \(model) \(coefficients)")
    }

    @Test("a batch sweep stops one size after the first break and records the jobs' measured memory")
    func batchSweep() throws {
        let result = try capsize(
            [
                "sweep", "command", "--executor", "batch", "--memory", "200", "--timeout", "5", "--param",
                "size=20,40,80,160,320,640",
                "--json", "--",
            ] + Self.program(time: "0.05", megabytes: "s"),
            environment: ["CAPSIZE_HOME": home])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try json(result.stdout)
        let series = try #require((report["series"] as? [[String: Any]])?.first)
        let samples = try #require(series["samples"] as? [[String: Any]])
        let statuses = samples.map { "\($0["size"] ?? ""):\($0["status"] ?? "")" }
        // 160 MB of data fits a 200 MiB job, 320 does not; 640 confirms the break; nothing more runs.
        #expect(
            statuses == [
                "20:completed", "40:completed", "80:completed", "160:completed", "320:outOfMemory", "640:outOfMemory",
            ], "\(statuses)")
        let peaks = samples.prefix(4).compactMap { $0["peakMB"] as? Double }
        #expect(
            peaks.count == 4 && zip(peaks, [20.0, 40, 80, 160]).allSatisfy { $0 >= $1 && $0 < $1 + 40 }, "\(peaks)")
        #expect(series["confirmed"] as? Bool == true)
    }

}
