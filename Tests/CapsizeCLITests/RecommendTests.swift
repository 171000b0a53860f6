import Foundation
import TestSupport
import Testing

/// `capsize recommend` and `capsize export`: a measured profile, every option, a pick, and files cfn-lint accepts.
@Suite struct RecommendTests {
    /// This test's CAPSIZE_HOME, removed after it.
    let testFolder = TestFolder("capsize-recommend")
    var home: String { testFolder.path }

    @Test(
        "render-frames at 100,000 frames: no Lambda can hold it at small memory, a GPU Batch option is listed with costs, exports pass cfn-lint"
    )
    func renderFrames() throws {
        // 100,000, not 10,000: the fit of a few small sizes measured on a loaded machine can come out sublinear
        // (an exponent of 0.85 in one CI run), and 10,000 frames then projected to 860 s at 128 MB, under the cap.
        let out = home + "/export"
        let result = try capsize(
            [
                "recommend", "render-frames", "--frames", "100000", "--strategy", "speed", "--export", out, "--option",
                "batch-g5.xlarge", "--json", "--image", "public.ecr.aws/capsize/capsize:1", "--execution-role",
                "arn:aws:iam::123456789012:role/capsize-batch",
            ],
            environment: ["CAPSIZE_HOME": home])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try json(result.stdout)
        let recommendation = try #require(report["recommendation"] as? [String: Any])
        let options = try #require(recommendation["options"] as? [[String: Any]])
        let gpu = options.filter { ($0["gpus"] as? Int ?? 0) > 0 }
        #expect(!gpu.isEmpty && gpu.allSatisfy { $0["costPerRun"] != nil && $0["runtime"] != nil })
        let lambda128 = try #require(options.first { $0["id"] as? String == "lambda-128-x86_64" })
        let reasons = lambda128["infeasibleReasons"] as? [String] ?? []
        #expect(reasons.contains { $0.contains("900 s") }, "\(reasons); profile: \(report["profile"] ?? "none")")
        // The answer names the best GPU Batch option, with its runtime, cost and a comparison with the pick.
        #expect(recommendation["pick"] is [String: Any])
        #expect(!(recommendation["reasons"] as? [String] ?? []).isEmpty)
        let best = try #require(recommendation["bestOfEach"] as? [[String: Any]])
        let gpuBest = try #require(best.first { $0["kind"] as? String == "Batch on GPU instances" })
        let gpuOption = try #require(gpuBest["option"] as? [String: Any])
        #expect((gpuOption["gpus"] as? Int ?? 0) > 0 && gpuOption["costForRuns"] != nil)
        #expect(!(gpuBest["comparison"] as? String ?? "").isEmpty)
        // The profile was measured here: at least three sizes on one thread and one on every core.
        let profile = try #require(report["profile"] as? [String: Any])
        let rungs = try #require(profile["rungs"] as? [[String: Any]])
        #expect(rungs.filter { $0["threads"] as? Int == 1 }.count >= 3)
        // The CloudFormation Batch job definition passes cfn-lint; the JSON request carries the GPU.
        let suffix =
            try FileManager.default.fileExists(atPath: out + "/batch-job-definition.yaml")
            ? "" : "-batch-g5.xlarge"
        let definition = try lint(out + "/batch-job-definition\(suffix).yaml")
        #expect(definition.status == 0, "\(definition.stdout)")
        let request = try json(String(contentsOfFile: out + "/batch-job-definition\(suffix).json", encoding: .utf8))
        let container = try #require(request["containerProperties"] as? [String: Any])
        let resources = try #require(container["resourceRequirements"] as? [[String: String]])
        #expect(resources.contains { $0["type"] == "GPU" })
        // Each file runs the workload as sized, on the GPU of the GPU option.
        let command = try #require(container["command"] as? [String])
        #expect(
            command.starts(with: ["capsize", "bench", "render-frames"]) && command.contains("100000"), "\(command)")
        #expect(command.contains("gpu") && container["image"] as? String == "public.ecr.aws/capsize/capsize:1")
        let sbatch = try String(contentsOfFile: out + "/job\(suffix).sbatch", encoding: .utf8)
        #expect(sbatch.contains("#SBATCH --gres=gpu:") && sbatch.contains("\n'capsize' 'bench' 'render-frames' "))

        // `capsize export` from the saved JSON: a SAM template for a Lambda option that cfn-lint accepts.
        let saved = home + "/rec.json"
        try result.stdout.write(toFile: saved, atomically: true, encoding: .utf8)
        let sam = try capsize(
            ["export", saved, "--format", "sam", "--option", "lambda-10240-arm64", "--placeholder"],
            environment: ["CAPSIZE_HOME": home])
        #expect(sam.status == 0, "\(sam.stderr)")
        #expect(sam.stdout.contains("MemorySize: 10240") && sam.stdout.contains("- arm64"))
        try sam.stdout.write(toFile: home + "/template.yaml", atomically: true, encoding: .utf8)
        let samLint = try lint(home + "/template.yaml")
        #expect(samLint.status == 0, "\(samLint.stdout)")
        // A format that does not fit the pick (which one wins on speed is measured, so either kind may) is refused.
        let pickID = (recommendation["pick"] as? [String: Any])?["id"] as? String ?? ""
        let mismatched = pickID.hasPrefix("lambda-") ? "batch-job-definition" : "sam"
        let wrong = try capsize(
            ["export", saved, "--format", mismatched, "--placeholder"], environment: ["CAPSIZE_HOME": home])
        #expect(wrong.status == 2 && wrong.stderr.contains("--format"), "\(wrong.stderr)")
    }

    @Test("the table shows the best 3 options of each kind with money in three digits; --all shows every option")
    func groupedTable() throws {
        let command = ["--", "/bin/sleep", "0.05"]
        let best = try capsize(
            ["recommend", "command", "--runs", "1000"] + command, environment: ["CAPSIZE_HOME": home])
        #expect(best.status == 0, "\(best.stderr)")
        let lines = best.stdout.split(separator: "\n")
        for kind in ["Lambda", "Fargate", "Batch on CPU instances", "Batch on GPU instances"] {
            let start = try #require(lines.firstIndex { $0.hasPrefix(kind + " (3 of ") }, "\(best.stdout)")
            #expect(lines[(start + 1)...].prefix { $0.hasPrefix("  ") }.count == 3, "\(kind): \(best.stdout)")
        }
        #expect(best.stdout.contains("more option(s) not shown: --all lists every one"))
        #expect(best.stdout.firstMatch(of: /\$[0-9.]+e-/) == nil, "\(best.stdout)")
        let every = try capsize(
            ["recommend", "command", "--runs", "1000", "--all"] + command, environment: ["CAPSIZE_HOME": home])
        #expect(every.status == 0, "\(every.stderr)")
        #expect(every.stdout.contains("Lambda:") && !every.stdout.contains("not shown"), "\(every.stdout)")
        #expect(every.stdout.split(separator: "\n").count > lines.count + 20)
    }

    @Test("a short light command is picked for Lambda on cost")
    func shortCommand() throws {
        let result = try capsize(
            ["recommend", "command", "--runs", "1000", "--strategy", "cost", "--json", "--", "/bin/sleep", "0.05"],
            environment: ["CAPSIZE_HOME": home])
        #expect(result.status == 0, "\(result.stderr)")
        let recommendation = try #require(try json(result.stdout)["recommendation"] as? [String: Any])
        let pick = try #require(recommendation["pick"] as? [String: Any])
        #expect(pick["service"] as? String == "lambda", "\(pick)")
        #expect((recommendation["reasons"] as? [String] ?? []).contains { $0.contains("Lambda") })
    }

    @Test("a price file with a negative price is refused, naming the item")
    func negativePrice() throws {
        let catalog = try String(contentsOfFile: Self.packageRoot() + "/data/prices.json", encoding: .utf8)
            .replacingOccurrences(of: "\"perRequest\": 0.0000002", with: "\"perRequest\": -0.0000002")
        try catalog.write(toFile: home + "/prices.json", atomically: true, encoding: .utf8)
        let result = try capsize(
            ["recommend", "train-mlp", "--prices", home + "/prices.json"], environment: ["CAPSIZE_HOME": home])
        #expect(result.status == 2 && result.stderr.contains("lambda.perRequest"), "\(result.stderr)")
    }

    static func packageRoot() -> String {
        var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path) {
            directory.deleteLastPathComponent()
        }
        return directory.path
    }
}
