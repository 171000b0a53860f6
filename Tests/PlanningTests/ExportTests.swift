import CapsizeCore
import CloudModel
import Foundation
import TestSupport
import Testing

@testable import Planning

@Suite struct ExportTests {
    func option(_ id: String, profile: WorkloadProfile, runs: Int = 1) throws -> PlanOption {
        let recommendation = try recommend(
            profile: profile, runs: runs, strategy: .cost, architectures: [.x86_64, .arm64])
        return try #require(recommendation.options.first { $0.id == id })
    }

    @Test("the SAM template of a Lambda option passes cfn-lint", .timeLimit(.minutes(1)))
    func samTemplate() throws {
        let profile = try WorkloadProfile(localSeconds: 0.2, peakMemoryMB: 300)
        let lambda = try option("lambda-1024-x86_64", profile: profile)
        let template = try Export.samTemplate(
            for: lambda, functionName: "render-frames", codeUri: "build/dir with: colon # and \"quotes\"",
            ephemeralStorageMB: 2048)
        #expect(template.contains("MemorySize: 1024\n"))
        #expect(template.contains("Size: 2048\n"))
        #expect(template.contains("- x86_64\n"))
        #expect(template.contains("Timeout: 1\n") || template.contains("Timeout: 2\n"))

        let file = FileManager.default.temporaryDirectory.appendingPathComponent("capsize-sam-\(UUID()).yaml")
        try template.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try lint(file.path)
        #expect(result.status == 0, "cfn-lint rejected the template:\n\(result.stdout)\n\(template)")
    }

    @Test("YAML quoting escapes quotes, backslashes and control characters")
    func quoting() {
        #expect(Export.yamlQuoted("a\"b\\c\nd: #e\u{1}") == "\"a\\\"b\\\\c\\nd: #e\\u0001\"")
    }

    @Test("a SAM template is refused for an option that is not Lambda, and for a bad function name")
    func samRefusals() throws {
        let profile = try WorkloadProfile(localSeconds: 0.2, peakMemoryMB: 300)
        let fargate = try option("fargate-1vcpu-2gb-x86_64", profile: profile)
        #expect(throws: InputError.self) { try Export.samTemplate(for: fargate, functionName: "f") }
        let lambda = try option("lambda-1024-x86_64", profile: profile)
        let error = try #require(throws: InputError.self) { try Export.samTemplate(for: lambda, functionName: "a b") }
        #expect(error.field == "name" && error.isSetting)
    }

    @Test("the Batch job definition of a GPU option has VCPU, MEMORY and GPU, a timeout of at least 60 s, and is valid")
    func batchJobDefinition() throws {
        let profile = try WorkloadProfile(
            localSeconds: 600, localThreads: 4, peakMemoryMB: 2000,
            gpu: MeasuredGPU(seconds: 20, deviceName: "NVIDIA L4"))
        let g6 = try option("batch-g6.xlarge", profile: profile)
        let data = try Export.batchJobDefinition(
            for: g6, name: "train_mlp-1", image: "public.ecr.aws/capsize/capsize:latest",
            command: ["capsize", "bench", "train-mlp"], retryStrategy: try RetryStrategy(attempts: 3))
        #expect(validateBatchJobDefinition(data) == [])
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let container = try #require(json["containerProperties"] as? [String: Any])
        let resources = try #require(container["resourceRequirements"] as? [[String: String]])
        #expect(resources.contains(["type": "GPU", "value": "1"]))
        // The 2000 MB peak measured here, 25 % more and 512 MiB for the GPU driver: 2000 × 1.25 + 512.
        #expect(resources.contains(["type": "MEMORY", "value": "3012"]))
        #expect(json["platformCapabilities"] as? [String] == ["EC2"])
        #expect(container["runtimePlatform"] == nil)
        #expect(resources.contains(["type": "VCPU", "value": "4"]))
        #expect((json["timeout"] as? [String: Int])?["attemptDurationSeconds"] == 60)
        #expect((json["retryStrategy"] as? [String: Any])?["attempts"] as? Int == 3)
    }

    @Test(
        "arm64 Fargate exports FARGATE and an ARM64 runtime platform; cfn-lint accepts each kind",
        .timeLimit(.minutes(1)))
    func fargateTemplates() throws {
        let profile = try WorkloadProfile(localSeconds: 60, localThreads: 2, peakMemoryMB: 1500)
        let arm = try option("fargate-1vcpu-2gb-arm64", profile: profile)
        let data = try Export.batchJobDefinition(
            for: arm, name: "job", image: "public.ecr.aws/capsize/capsize:latest", command: ["capsize"])
        #expect(validateBatchJobDefinition(data) == [])
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(json["platformCapabilities"] as? [String] == ["FARGATE"])
        let container = try #require(json["containerProperties"] as? [String: Any])
        #expect(
            container["runtimePlatform"] as? [String: String]
                == ["cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"])
        let directory = try temporaryDirectory("capsize-fargate")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for id in ["fargate-1vcpu-2gb-arm64", "fargate-1vcpu-2gb-x86_64", "batch-c7i.large", "batch-g6.xlarge"] {
            let template = try Export.batchJobDefinitionTemplate(
                for: try option(id, profile: profile), name: "job", image: "public.ecr.aws/capsize/capsize:latest",
                command: ["capsize", "bench"])
            let fargate = id.hasPrefix("fargate")
            #expect(template.contains("PlatformCapabilities:\n        - \(fargate ? "FARGATE" : "EC2")\n"))
            #expect(template.contains("CpuArchitecture: ARM64") == id.hasSuffix("arm64"), "\(template)")
            #expect(template.contains("RuntimePlatform:") == fargate, "\(template)")
            let file = directory + "/\(id).yaml"
            try template.write(toFile: file, atomically: true, encoding: .utf8)
            let result = try lint(file)
            #expect(result.status == 0, "cfn-lint rejected \(id):\n\(result.stdout)\n\(template)")
        }
    }

    @Test("the validator refuses a runtime platform on EC2, an unknown architecture and a GPU on Fargate")
    func platformRules() throws {
        /// A GPU job's problems on `platform`, with `runtimePlatform` when given.
        func problems(on platform: String, runtimePlatform: [String: String]? = nil) throws -> [String] {
            var container: [String: Any] = [
                "image": "busybox", "executionRoleArn": "arn:aws:iam::123456789012:role/r",
                "resourceRequirements": [
                    ["type": "VCPU", "value": "1"], ["type": "MEMORY", "value": "2048"], ["type": "GPU", "value": "1"],
                ],
            ]
            container["runtimePlatform"] = runtimePlatform
            return validateBatchJobDefinition(
                try definition {
                    $0["platformCapabilities"] = [platform]
                    $0["containerProperties"] = container
                })
        }
        let sparc = try problems(
            on: "EC2", runtimePlatform: ["cpuArchitecture": "SPARC", "operatingSystemFamily": "LINUX"])
        #expect(sparc.count == 2 && sparc.allSatisfy { $0.contains("runtimePlatform") }, "\(sparc)")
        #expect(try problems(on: "EC2").isEmpty)
        let gpuOnFargate = try problems(on: "FARGATE")
        #expect(gpuOnFargate.count == 1 && gpuOnFargate[0].contains("Fargate has no GPUs"), "\(gpuOnFargate)")
    }

    @Test("the job definition is written as JSONSerialization wrote it: pretty-printed, keys sorted, slashes escaped")
    func batchJobDefinitionText() throws {
        let profile = try WorkloadProfile(localSeconds: 600, localThreads: 4, peakMemoryMB: 2000)
        for (id, retry) in [
            ("fargate-1vcpu-2gb-x86_64", try RetryStrategy()),
            (
                "batch-g6.xlarge",
                try RetryStrategy(attempts: 3, evaluateOnExit: [.init(action: .retry, onReason: "Host*")])
            ),
        ] {
            let data = try Export.batchJobDefinition(
                for: try option(id, profile: profile), name: "job", image: "public.ecr.aws/capsize/capsize:latest",
                command: ["capsize", "bench", "a/b"], retryStrategy: retry)
            let object = try JSONSerialization.jsonObject(with: data)
            let rewritten = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
            #expect(String(decoding: data, as: UTF8.self) == String(decoding: rewritten, as: UTF8.self))
        }
    }

    @Test("a definition that is not an object, lacks a field or has one of the wrong type gets one problem naming it")
    func validatorShapes() throws {
        #expect(validateBatchJobDefinition(Data("[]".utf8)) == ["the job definition is not a JSON object"])
        #expect(validateBatchJobDefinition(Data("{".utf8)) == ["the job definition is not a JSON object"])
        let command = validateBatchJobDefinition(
            try definition {
                $0["containerProperties"] =
                    ["image": "busybox", "command": "true", "resourceRequirements": []] as [String: Any]
            })
        #expect(command == ["containerProperties.command has the wrong type or value"])
        let name = validateBatchJobDefinition(try definition { $0["jobDefinitionName"] = nil })
        #expect(name == ["jobDefinitionName is required"])
        let value = validateBatchJobDefinition(
            try definition {
                $0["containerProperties"] =
                    ["image": "busybox", "resourceRequirements": [["type": "VCPU", "value": 1] as [String: Any]]]
                    as [String: Any]
            })
        #expect(value == ["containerProperties.resourceRequirements[0].value has the wrong type or value"])
    }

    /// A valid definition, with one field changed by `edit`.
    func definition(_ edit: (inout [String: Any]) -> Void) throws -> Data {
        var json: [String: Any] = [
            "jobDefinitionName": "capsize-job", "type": "container",
            "containerProperties": [
                "image": "busybox", "command": ["true"],
                "resourceRequirements": [["type": "VCPU", "value": "1"], ["type": "MEMORY", "value": "2048"]],
            ] as [String: Any],
            "timeout": ["attemptDurationSeconds": 60],
            "retryStrategy": ["attempts": 2, "evaluateOnExit": [["action": "EXIT", "onExitCode": "1*"]]]
                as [String: Any],
        ]
        edit(&json)
        return try JSONSerialization.data(withJSONObject: json)
    }

    @Test("the job definition validator refuses what the Batch API refuses")
    func validatorNegatives() throws {
        #expect(validateBatchJobDefinition(try definition { _ in }) == [])
        let attempts = validateBatchJobDefinition(try definition { $0["retryStrategy"] = ["attempts": 11] })
        #expect(attempts.count == 1 && attempts[0].contains("retryStrategy.attempts"))
        let memory = validateBatchJobDefinition(
            try definition {
                $0["containerProperties"] =
                    [
                        "image": "busybox",
                        "resourceRequirements": [["type": "VCPU", "value": "1"], ["type": "MEMORY", "value": "0"]],
                    ] as [String: Any]
            })
        #expect(memory.count == 1 && memory[0].contains("MEMORY"))
        let timeout = validateBatchJobDefinition(try definition { $0["timeout"] = ["attemptDurationSeconds": 30] })
        #expect(timeout.count == 1 && timeout[0].contains("attemptDurationSeconds"))
        let rules = validateBatchJobDefinition(
            try definition {
                $0["retryStrategy"] =
                    [
                        "attempts": 3,
                        "evaluateOnExit": Array(repeating: ["action": "RETRY", "onReason": "Host*"], count: 6),
                    ] as [String: Any]
            })
        #expect(rules.count == 1 && rules[0].contains("at most 5"))
        let name = validateBatchJobDefinition(try definition { $0["jobDefinitionName"] = "bad name" })
        #expect(name.count == 1 && name[0].contains("jobDefinitionName"))
        let glob = validateBatchJobDefinition(
            try definition {
                $0["retryStrategy"] = ["attempts": 2, "evaluateOnExit": [["action": "MAYBE", "onExitCode": "1*2"]]]
            })
        #expect(glob.count == 2)
        let gpu = validateBatchJobDefinition(
            try definition {
                $0["containerProperties"] =
                    [
                        "image": "busybox",
                        "resourceRequirements": [
                            ["type": "VCPU", "value": "1"], ["type": "MEMORY", "value": "4"],
                            ["type": "GPU", "value": "0.5"],
                        ],
                    ] as [String: Any]
            })
        #expect(gpu.count == 1 && gpu[0].contains("GPU"))
    }

    @Test("the sbatch header has the job's CPUs, memory in MiB, time rounded up to minutes, GPUs and the array")
    func sbatch() throws {
        let profile = try WorkloadProfile(
            localSeconds: 30_000, localThreads: 4, peakMemoryMB: 2000,
            gpu: MeasuredGPU(seconds: 100, deviceName: "NVIDIA L4"))
        let g6 = try option("batch-g6.xlarge", profile: profile, runs: 10)
        let header = Export.sbatchHeader(for: g6, jobName: "train mlp", runs: 10)
        #expect(header.hasPrefix("#!/bin/bash\n#SBATCH --job-name=train_mlp\n"))
        #expect(header.contains("#SBATCH --cpus-per-task=4\n"))
        // A GPU job's memory has headroom over the 2000 MB peak: × 1.25 + 512 MiB.
        #expect(header.contains("#SBATCH --mem=3012M\n"))
        // 100 s × 1.5 = 150 s → 3 minutes.
        #expect(header.contains("#SBATCH --time=0-00:03:00\n"))
        #expect(header.contains("#SBATCH --gres=gpu:1\n"))
        #expect(header.contains("#SBATCH --array=0-9\n"))
        // 30,000 s × 1.5 = 45,000 s = 750 min on a CPU instance; one run, no array, no GPU.
        let cpu = try option("batch-c7i.xlarge", profile: profile)
        let long = Export.sbatchHeader(for: cpu, jobName: "x", runs: 1)
        #expect(long.contains("#SBATCH --time=0-12:30:00\n"))
        #expect(!long.contains("--gres") && !long.contains("--array"))
    }
}
