import CapsizeCore
import CloudModel
import Foundation
import TestSupport
import Testing

@testable import Planning

/// The exported files run the user's job: an image and a command, a function's code, or capsize's own workload as
/// sized; a placeholder only when asked for, and named as one; every template accepted by cfn-lint.
@Suite struct DeployExportTests {
    let folder = TestFolder("capsize-deploy")
    static let image = "public.ecr.aws/acme/train:1.4"
    static let command = ["python3", "train.py", "--epochs", "3"]

    func option(_ id: String) throws -> PlanOption {
        try option { $0.id == id }
    }

    func option(where matches: (PlanOption) -> Bool) throws -> PlanOption {
        let profile = try WorkloadProfile(localSeconds: 60, localThreads: 2, peakMemoryMB: 1500)
        let recommendation = try recommend(
            profile: profile, runs: 4, strategy: .cost, architectures: [.x86_64, .arm64])
        let found = recommendation.options.first(where: matches)
        return try #require(found)
    }

    /// Writes `text` into the test's folder as `name` and runs cfn-lint on it.
    func expectLintPasses(_ text: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let path = folder.path + "/\(name)"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try lint(path)
        #expect(
            result.status == 0, "cfn-lint rejected \(name):\n\(result.stdout)\n\(text)", sourceLocation: sourceLocation)
    }

    /// A function as `capsize function create` records it.
    static func function(variables: [String: String] = ["MODEL": "small", "QUOTE": "a\"b: #c"]) throws
        -> FunctionDefinition
    {
        FunctionDefinition(
            name: "resize-images", runtime: .python312, handler: "app.handler",
            codeDirectory: "/home/u/.local/share/capsize/functions/resize-images/code",
            sourceDirectory: "src/resize images",
            configuration: try FunctionConfiguration(
                memoryMB: 512, timeoutSeconds: 30, ephemeralStorageMB: 1024),
            variables: variables)
    }

    @Test("an EC2 Batch pick exports the user's image and command for EC2; the template passes cfn-lint")
    func ec2Job() throws {
        let option = try option("batch-c7i.large")
        let data = try Export.batchJobDefinition(
            for: option, name: "train", image: Self.image, command: Self.command)
        #expect(validateBatchJobDefinition(data) == [])
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(json["platformCapabilities"] as? [String] == ["EC2"])
        let container = try #require(json["containerProperties"] as? [String: Any])
        #expect(container["image"] as? String == Self.image)
        #expect(container["command"] as? [String] == Self.command)
        #expect(container["executionRoleArn"] == nil && container["networkConfiguration"] == nil)
        let template = try Export.batchJobDefinitionTemplate(
            for: option, name: "train", image: Self.image, command: Self.command)
        #expect(template.contains("- EC2\n") && template.contains("Image: \"\(Self.image)\"\n"))
        #expect(template.contains("Command:\n          - \"python3\"\n          - \"train.py\"\n"))
        try expectLintPasses(template, "ec2.yaml")
        try expectBotocoreAccepts(data, "ec2.json")
    }

    @Test(
        "an arm64 Fargate pick exports FARGATE, an ARM64 runtime platform, an execution role and a public IP; cfn-lint and botocore accept it"
    )
    func fargateJob() throws {
        for architecture in [Architecture.arm64, .x86_64] {
            let option = try option { $0.service == .fargate && $0.architecture == architecture && $0.vcpus < 1 }
            let id = option.id
            let role = "arn:aws:iam::123456789012:role/ecsTaskExecutionRole"
            let data = try Export.batchJobDefinition(
                for: option, name: "train", image: Self.image, command: Self.command, executionRoleArn: role)
            #expect(validateBatchJobDefinition(data) == [])
            let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            #expect(json["platformCapabilities"] as? [String] == ["FARGATE"])
            let container = try #require(json["containerProperties"] as? [String: Any])
            let platform = architecture == .arm64 ? "ARM64" : "X86_64"
            #expect(
                container["runtimePlatform"] as? [String: String]
                    == ["cpuArchitecture": platform, "operatingSystemFamily": "LINUX"])
            #expect(container["executionRoleArn"] as? String == role)
            #expect(container["networkConfiguration"] as? [String: String] == ["assignPublicIp": "ENABLED"])
            #expect(container["command"] as? [String] == Self.command)
            try expectBotocoreAccepts(data, "\(id).json")
            // Without a role, the template takes the one its parameter names in the account it is deployed to.
            let template = try Export.batchJobDefinitionTemplate(
                for: option, name: "train", image: Self.image, command: Self.command)
            #expect(template.contains("CpuArchitecture: \(platform)\n"))
            #expect(template.contains("ExecutionRoleArn: !Sub \"arn:${AWS::Partition}:iam::${AWS::AccountId}:role/"))
            #expect(template.contains("NetworkConfiguration:\n          AssignPublicIp: ENABLED\n"))
            try expectLintPasses(template, "\(id).yaml")
            let given = try Export.batchJobDefinitionTemplate(
                for: option, name: "train", image: Self.image, command: Self.command, executionRoleArn: role)
            #expect(given.contains("ExecutionRoleArn: \"\(role)\"\n") && !given.contains("Parameters:"))
            try expectLintPasses(given, "\(id)-role.yaml")
        }
    }

    @Test("the validator refuses a Fargate job without an execution role or with a size Fargate does not have")
    func fargateRules() throws {
        var request = try BatchJobDefinitionRequest(
            for: try option("fargate-1vcpu-2gb-x86_64"), name: "j", image: Self.image, command: ["true"])
        #expect(request.problems().isEmpty)
        request.containerProperties.executionRoleArn = nil
        #expect(request.problems() == ["containerProperties.executionRoleArn is required on FARGATE"])
        request.containerProperties.executionRoleArn = "arn:aws:iam::123456789012:role/r"
        request.containerProperties.resourceRequirements[1].value = "1536"
        #expect(request.problems().count == 1 && request.problems()[0].contains("Fargate task size"))
    }

    @Test("a function exports as SAM with its handler, runtime, source directory, storage and variables")
    func functionSAM() throws {
        let lambda = try option("lambda-1024-arm64")
        let template = try Export.samTemplate(for: lambda, function: try Self.function())
        #expect(template.contains("FunctionName: \"resize-images\"\n"))
        #expect(template.contains("Handler: \"app.handler\"\n") && template.contains("Runtime: \"python3.12\"\n"))
        #expect(template.contains("CodeUri: \"src/resize images\"\n"))
        #expect(template.contains("MemorySize: 1024\n") && template.contains("- arm64\n"))
        #expect(template.contains("Size: 1024\n"))
        #expect(template.contains("\"MODEL\": \"small\"\n") && template.contains("\"QUOTE\": \"a\\\"b: #c\"\n"))
        // The function's own timeout (30 s) holds the projected run × 1.5 (the option's runtime).
        let projected = Int(((lambda.runtime?.seconds ?? 0) * Export.timeoutMargin).rounded(.up))
        #expect(template.contains("Timeout: \(min(900, max(30, projected)))\n"), "\(template)")
        try expectLintPasses(template, "function.yaml")
        if let read = try readYAML(template, in: folder.path) {
            let function = (read["Resources"] as? [String: Any])?["CapsizeFunction"] as? [String: Any]
            let properties = try #require(function?["Properties"] as? [String: Any])
            #expect(
                (properties["Environment"] as? [String: Any])?["Variables"] as? [String: String]
                    == ["MODEL": "small", "QUOTE": "a\"b: #c"])
        }
    }

    @Test("a user's image exports as a SAM image function whose command is the user's; cfn-lint accepts it")
    func imageSAM() throws {
        let template = try Export.samTemplate(
            for: try option("lambda-1769-x86_64"), functionName: "train", image: Self.image, command: Self.command)
        #expect(template.contains("PackageType: Image\n") && template.contains("ImageUri: \"\(Self.image)\"\n"))
        #expect(template.contains("ImageConfig:\n        Command:\n          - \"python3\"\n"))
        #expect(!template.contains("Handler:") && !template.contains("PLACEHOLDER"))
        try expectLintPasses(template, "image.yaml")
    }

    @Test("capsize's own workload exports the command that runs it as sized, on the GPU for a GPU option")
    func ownWorkload() throws {
        let workload = SizedWorkload(
            name: "train-mlp", parameters: ["--batch", "256", "--hidden", "4096", "--steps", "10"])
        let job = try DeployedJob(image: Self.image, workload: workload)
        let cpu = try job.jobCommand(for: try option("batch-c7i.large"))
        #expect(
            cpu == [
                "capsize", "bench", "train-mlp", "--batch", "256", "--hidden", "4096", "--steps", "10", "--device",
                "cpu", "--repeat", "1", "--warmup", "0",
            ])
        let profile = try WorkloadProfile(
            localSeconds: 600, localThreads: 4, peakMemoryMB: 2000, gpu: MeasuredGPU(seconds: 20, deviceName: "L4"))
        let g6 = try #require(
            try recommend(profile: profile, runs: 1, strategy: .cost).options.first { $0.id == "batch-g6.xlarge" })
        #expect(try job.jobCommand(for: g6).contains("gpu"))
        let script = Export.sbatchScript(for: g6, jobName: "t", command: try job.jobCommand(for: g6))
        #expect(
            script.hasSuffix(
                "\n'capsize' 'bench' 'train-mlp' '--batch' '256' '--hidden' '4096' '--steps' '10' "
                    + "'--device' 'gpu' '--repeat' '1' '--warmup' '0'\n"), "\(script)")
        // A program-running workload (command) runs its program itself.
        let program = SizedWorkload(name: "command", parameters: ["--size", "8"], program: ["./render", "8"])
        #expect(try DeployedJob(workload: program).jobCommand(for: g6) == ["./render", "8"])
        // A command given wins over the workload's.
        #expect(try DeployedJob(command: ["make"], workload: workload).jobCommand(for: g6) == ["make"])
    }

    @Test("no image is refused naming image unless a placeholder is asked for, which the files then name")
    func placeholder() throws {
        let refused = try #require(throws: InputError.self) { try DeployedJob(command: ["true"]).containerImage() }
        #expect(refused.field == "image" && refused.isSetting && refused.allowed.contains("placeholder"))
        let role = try #require(throws: InputError.self) { try DeployedJob().fargateExecutionRole() }
        #expect(role.field == "executionRole" && role.isSetting)
        let job = try DeployedJob(command: ["true"], placeholder: true)
        let (image, isPlaceholder) = try job.containerImage()
        #expect(image == DeployedJob.placeholderImage && isPlaceholder)
        #expect(try job.fargateExecutionRole().isPlaceholder)
        let sam = try Export.samTemplate(
            for: try option("lambda-1024-x86_64"), functionName: "f", image: image, command: ["true"],
            isPlaceholder: true)
        let batch = try Export.batchJobDefinitionTemplate(
            for: try option("batch-c7i.large"), name: "j", image: image, command: ["true"], isPlaceholder: true)
        for (template, name) in [(sam, "placeholder-sam.yaml"), (batch, "placeholder-batch.yaml")] {
            #expect(template.contains("Description: \"capsize: PLACEHOLDER image"), "\(template)")
            #expect(template.contains("\"placeholder.invalid/"))
            try expectLintPasses(template, name)
        }
    }

    @Test("a hostile command word stays one argument: in the sbatch script, the JSON and the YAML")
    func hostileCommand() throws {
        let marker = folder.path + "/pwned"
        let values = hostileValues(marker: marker) + ["-x", "$HOME", "a\nb"]
        let command = ["printf", "[%s]\\n"] + values
        let option = try option("batch-c7i.large")
        let script = Export.sbatchScript(for: option, jobName: "j", runs: 2, command: command)
        let result = try runScript(script, in: folder.path, marker: marker)
        #expect(result.stdout == values.map { "[\($0)]\n" }.joined(), "\(script)")
        let data = try Export.batchJobDefinition(for: option, name: "j", image: Self.image, command: command)
        let container = try #require(
            (try JSONSerialization.jsonObject(with: data) as? [String: Any])?["containerProperties"] as? [String: Any])
        #expect(container["command"] as? [String] == command)
        let template = try Export.batchJobDefinitionTemplate(
            for: option, name: "j", image: Self.image, command: command)
        if let read = try readYAML(template, in: folder.path) {
            let job = (read["Resources"] as? [String: Any])?["CapsizeJobDefinition"] as? [String: Any]
            let properties = (job?["Properties"] as? [String: Any])?["ContainerProperties"] as? [String: Any]
            #expect(properties?["Command"] as? [String] == command)
        }
        try expectLintPasses(template, "hostile.yaml")
    }

    @Test("an image that is not a reference, an empty command, a role that is not an ARN are refused by name")
    func validation() throws {
        for image in ["", "UPPER/case", "a b", "img:tag:tag", "x\n", String(repeating: "a", count: 256), "-x"] {
            let error = try #require(throws: InputError.self) { try DeployedJob(image: image) }
            #expect(error.field == "image" && error.isSetting, "\(image)")
        }
        for image in [
            "busybox", "python:3.12-slim", "localhost:5000/a/b", "123456789012.dkr.ecr.us-east-1.amazonaws.com/x:1",
            "ghcr.io/o/r@sha256:" + String(repeating: "a", count: 64),
        ] {
            #expect(throws: Never.self) { try DeployedJob(image: image) }
        }
        for command in [[], [""], ["a", "b\u{0}c"]] {
            let error = try #require(throws: InputError.self) { try DeployedJob(command: command) }
            #expect(error.field == "command" && error.isSetting, "\(command)")
        }
        let role = try #require(throws: InputError.self) { try DeployedJob(executionRoleArn: "ecsTaskExecutionRole") }
        #expect(role.field == "executionRole")
        let both = try #require(throws: InputError.self) {
            try DeployedJob(image: Self.image, function: try Self.function())
        }
        #expect(both.field == "function")
    }

    /// botocore's model of RegisterJobDefinition accepts `data` (nothing is checked where botocore is missing).
    func expectBotocoreAccepts(_ data: Data, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let path = folder.path + "/\(name)"
        try data.write(to: URL(fileURLWithPath: path))
        if let report = try botocoreRegisterJobDefinitionReport(path) {
            #expect(report.isEmpty, "botocore: \(report)", sourceLocation: sourceLocation)
        }
    }
}
