import Foundation
import TestSupport
import Testing

/// `capsize recommend --export` and `capsize export` write files that run the user's job: `--image` and `--command`,
/// `--function`, or the recommended workload as sized; a placeholder only with `--placeholder`.
@Suite struct ExportDeployTests {
    let folder = TestFolder("capsize-export-deploy")
    var home: String { folder.path }
    static let image = "public.ecr.aws/acme/train:1.4"

    /// A recommendation of `arguments` (a workload and its parameters) saved by `recommend --json`, as a file.
    func saved(_ arguments: [String]) throws -> String {
        let result = try capsize(
            ["recommend", arguments[0], "--runs", "4", "--json"] + arguments.dropFirst(),
            environment: ["CAPSIZE_HOME": home])
        #expect(result.status == 0, "\(result.stderr)")
        let path = home + "/rec-\(UUID().uuidString).json"
        try result.stdout.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func export(_ arguments: [String]) throws -> ProcessOutput {
        try capsize(["export"] + arguments, environment: ["CAPSIZE_HOME": home])
    }

    func expectLintPasses(_ text: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let path = home + "/\(name)"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try lint(path)
        #expect(result.status == 0, "cfn-lint: \(result.stdout)\n\(text)", sourceLocation: sourceLocation)
    }

    @Test("capsize's own workload exports a command that runs it as sized: the sbatch's command runs the bench")
    func ownWorkload() throws {
        let file = try saved(["train-mlp", "--hidden", "32", "--batch", "8", "--inputs", "8", "--steps", "1"])
        let sbatch = try export([file, "--format", "sbatch", "--option", "batch-c7i.large"])
        #expect(sbatch.status == 0, "\(sbatch.stderr)")
        let last = try #require(sbatch.stdout.split(separator: "\n").last)
        #expect(
            last.hasPrefix("'capsize' 'bench' 'train-mlp' '--batch' '8' '--inputs' '8' '--hidden' '32' "), "\(last)")
        #expect(last.hasSuffix(" '--device' 'cpu' '--repeat' '1' '--warmup' '0'"), "\(last)")
        // The script as Slurm would run it, `capsize` being this build: it measures one training run.
        let binary = capsizeProcess([]).executableURL!.path
        let script = "capsize() { \"\(binary)\" \"$@\"; }\n" + sbatch.stdout
        let ran = try runScript(script, in: home, marker: home + "/none")
        #expect(ran.status == 0 && ran.stdout.contains("train-mlp on host CPU"), "\(ran.stdout)")
        #expect(ran.stdout.contains("hidden=32") && ran.stdout.contains("run 1:"), "\(ran.stdout)")
        // The Batch job definition runs the same command in the image given.
        let batch = try export([
            file, "--format", "batch-job-definition", "--option", "batch-c7i.large", "--image",
            Self.image,
        ])
        #expect(batch.status == 0, "\(batch.stderr)")
        let container = try #require(try json(batch.stdout)["containerProperties"] as? [String: Any])
        #expect((container["command"] as? [String])?.prefix(3) == ["capsize", "bench", "train-mlp"])
        #expect(container["image"] as? String == Self.image)
    }

    @Test("without --image a container file exits 2 saying to pass --image; --placeholder writes one, named so")
    func placeholder() throws {
        let file = try saved(["command", "--", "/bin/true"])
        for format in ["sam", "batch-job-definition", "cloudformation-batch"] {
            let option = format == "sam" ? ["--option", "lambda-1024-x86_64"] : ["--option", "batch-c7i.large"]
            let refused = try expectBadInput(
                ["export", file, "--format", format] + option, mentions: "--image", home: home)
            #expect(refused.stderr.contains("--placeholder") && refused.stdout.isEmpty, "\(refused.stderr)")
            let written = try export([file, "--format", format, "--placeholder"] + option)
            #expect(written.status == 0, "\(written.stderr)")
            #expect(written.stdout.contains("placeholder.invalid"), "\(written.stdout)")
            if format != "batch-job-definition" {
                #expect(written.stdout.contains("PLACEHOLDER image"), "\(written.stdout)")
                try expectLintPasses(written.stdout, "placeholder-\(format).yaml")
            }
        }
        // An sbatch script needs no image: it runs the command on the cluster.
        let sbatch = try export([file, "--format", "sbatch", "--option", "batch-c7i.large"])
        #expect(sbatch.status == 0 && sbatch.stdout.hasSuffix("\n'/bin/true'\n"), "\(sbatch.stdout)\(sbatch.stderr)")
        // A Fargate job's JSON needs an execution role as it needs an image.
        let fargate = [
            "--format", "batch-job-definition", "--option", "fargate-1vcpu-2gb-arm64", "--image", Self.image,
        ]
        try expectBadInput(["export", file] + fargate, mentions: "--execution-role", home: home)
        let role = try export(
            [file] + fargate + ["--execution-role", "arn:aws:iam::123456789012:role/ecsTaskExecutionRole"])
        #expect(role.status == 0, "\(role.stderr)")
        let request = try json(role.stdout)
        #expect(request["platformCapabilities"] as? [String] == ["FARGATE"])
        let container = try #require(request["containerProperties"] as? [String: Any])
        #expect((container["runtimePlatform"] as? [String: String])?["cpuArchitecture"] == "ARM64")
        try role.stdout.write(toFile: home + "/fargate.json", atomically: true, encoding: .utf8)
        if let report = try botocoreRegisterJobDefinitionReport(home + "/fargate.json") {
            #expect(report.isEmpty, "botocore: \(report)")
        }
    }

    @Test("--image and --command run the user's job; a hostile word stays one argument in sbatch and JSON")
    func userCommand() throws {
        let file = try saved(["command", "--", "/bin/true"])
        let marker = home + "/pwned"
        let words = hostileValues(marker: marker) + ["--image", "-x"]
        let command = ["printf", "[%s]\\n"] + words
        let flags = command.flatMap { ["--command", $0] } + ["--image", Self.image]
        let sbatch = try export([file, "--format", "sbatch", "--option", "batch-c7i.large"] + flags)
        #expect(sbatch.status == 0, "\(sbatch.stderr)")
        let ran = try runScript(sbatch.stdout, in: home, marker: marker)
        #expect(ran.stdout == words.map { "[\($0)]\n" }.joined(), "\(sbatch.stdout)")
        let batch = try export([file, "--format", "batch-job-definition", "--option", "batch-c7i.large"] + flags)
        #expect(batch.status == 0, "\(batch.stderr)")
        let container = try #require(try json(batch.stdout)["containerProperties"] as? [String: Any])
        #expect(container["command"] as? [String] == command)
        let template = try export([file, "--format", "cloudformation-batch", "--option", "batch-c7i.large"] + flags)
        try expectLintPasses(template.stdout, "user.yaml")
        let sam = try export([file, "--format", "sam", "--option", "lambda-1024-x86_64"] + flags)
        #expect(sam.stdout.contains("PackageType: Image") && sam.stdout.contains("- \"printf\""), "\(sam.stdout)")
        try expectLintPasses(sam.stdout, "user-sam.yaml")
        // Bad words are refused naming the flag.
        try expectBadInput(
            ["export", file, "--format", "sbatch", "--option", "batch-c7i.large", "--command", ""],
            mentions: "--command ''", home: home)
        try expectBadInput(
            ["export", file, "--format", "sbatch", "--image", "Not An Image"], mentions: "--image 'Not An Image'",
            home: home)
    }

    @Test("--function exports the function's handler, runtime and code as SAM; an unknown one is refused")
    func function() throws {
        let file = try saved(["command", "--", "/bin/true"])
        let code = home + "/functions/resize/code"
        try FileManager.default.createDirectory(atPath: code, withIntermediateDirectories: true)
        // As `capsize function create` records it: default keys, the date in ISO 8601.
        let definition = """
            {"name":"resize","runtime":"python3.12","handler":"app.handler","codeDirectory":"\(code)",
             "sourceDirectory":"src/resize","configuration":{"memoryMB":512,"timeoutSeconds":30,
             "ephemeralStorageMB":1024,"architecture":"arm64"},"variables":{"SIZE":"small"},"createdAt":"2026-12-06T12:00:00Z"}
            """
        try definition.write(toFile: home + "/functions/resize/function.json", atomically: true, encoding: .utf8)
        let sam = try export([file, "--format", "sam", "--option", "lambda-1769-arm64", "--function", "resize"])
        #expect(sam.status == 0, "\(sam.stderr)")
        for line in [
            "FunctionName: \"resize\"", "Handler: \"app.handler\"", "Runtime: \"python3.12\"",
            "CodeUri: \"src/resize\"", "MemorySize: 1769", "Size: 1024", "\"SIZE\": \"small\"", "- arm64",
        ] {
            #expect(sam.stdout.contains(line + "\n"), "\(line): \(sam.stdout)")
        }
        try expectLintPasses(sam.stdout, "function.yaml")
        try expectBadInput(
            ["export", file, "--format", "sam", "--function", "nope"], mentions: "--function 'nope'", home: home)
        try expectBadInput(
            ["export", file, "--format", "sbatch", "--option", "batch-c7i.large", "--function", "resize"],
            mentions: "--function 'resize'", home: home)
        try expectBadInput(
            ["export", file, "--format", "sam", "--function", "resize", "--image", Self.image],
            mentions: "--function 'resize'", home: home)
    }
}
