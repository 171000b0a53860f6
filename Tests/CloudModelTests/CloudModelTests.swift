import CapsizeCore
import Foundation
import Testing

@testable import CloudModel

@Suite struct LambdaModelTests {
    @Test("REPORT lines match the parsers used in the wild, with Init Duration only on cold starts")
    func reportLine() throws {
        let cold = LambdaLog.report(
            requestId: "8f5f1c2e-0000-4000-8000-000000000001", durationMs: 26.731, billedMs: 27, memoryMB: 128,
            maxMemoryUsedMB: 75, initDurationMs: 166.619)
        #expect(
            cold
                == "REPORT RequestId: 8f5f1c2e-0000-4000-8000-000000000001\tDuration: 26.73 ms\tBilled Duration: 27 ms\tMemory Size: 128 MB\tMax Memory Used: 75 MB\tInit Duration: 166.62 ms\t"
        )
        #expect(cold.firstMatch(of: /\tBilled Duration: (\d+) ms/)?.1 == "27")
        #expect(cold.firstMatch(of: /\tInit Duration: (\d+\.\d+) ms/)?.1 == "166.62")
        #expect(cold.firstMatch(of: /Max\s+Memory\s+Used:\s+(\d+)\s+MB/)?.1 == "75")
        let warm = LambdaLog.report(
            requestId: "r", durationMs: 1, billedMs: 1, memoryMB: 512, maxMemoryUsedMB: 80, initDurationMs: nil,
            status: "timeout")
        #expect(warm.firstMatch(of: /\tInit Duration: (\d+\.\d+) ms/) == nil)
        #expect(warm.hasSuffix("Status: timeout"))
        #expect(LambdaLog.timedOut(requestId: "r", seconds: 3.014).hasSuffix(" r Task timed out after 3.01 seconds"))
    }

    @Test("a failed invocation's REPORT ends with Status and Error Type after Init Duration, as Lambda writes it")
    func failedReports() {
        let oom = LambdaLog.report(
            requestId: "3b9e07c5-5fa2-47ad-af06-e44d2b64ec8f", durationMs: 344_356.22, billedMs: 344_756,
            memoryMB: 1024,
            maxMemoryUsedMB: 1024, initDurationMs: 399.33, status: "error", errorType: "Runtime.OutOfMemory")
        #expect(
            oom
                == "REPORT RequestId: 3b9e07c5-5fa2-47ad-af06-e44d2b64ec8f\tDuration: 344356.22 ms\tBilled Duration: 344756 ms\tMemory Size: 1024 MB\tMax Memory Used: 1024 MB\tInit Duration: 399.33 ms\tStatus: error\tError Type: Runtime.OutOfMemory"
        )
        let crash = LambdaLog.report(
            requestId: "1c2d", durationMs: 5, billedMs: 6, memoryMB: 128, maxMemoryUsedMB: 30, initDurationMs: nil,
            status: "error", errorType: LambdaLog.exitErrorType)
        #expect(
            crash
                == "REPORT RequestId: 1c2d\tDuration: 5.00 ms\tBilled Duration: 6 ms\tMemory Size: 128 MB\tMax Memory Used: 30 MB\tStatus: error\tError Type: Runtime.ExitError"
        )
        let timeout = LambdaLog.report(
            requestId: "c4c2", durationMs: 600_000, billedMs: 600_517, memoryMB: 1024, maxMemoryUsedMB: 1024,
            initDurationMs: 516.31, status: "timeout")
        #expect(
            timeout
                == "REPORT RequestId: c4c2\tDuration: 600000.00 ms\tBilled Duration: 600517 ms\tMemory Size: 1024 MB\tMax Memory Used: 1024 MB\tInit Duration: 516.31 ms\tStatus: timeout"
        )
        // Billed Duration = Init + Duration rounded up to 1 ms, as in that log (600000 + 516.31 -> 600517).
        #expect(
            LambdaBill(durationMs: 600_000, initMs: 516.31, memoryMB: 1024, architecture: .x86_64, prices: .embedded)
                .billedMilliseconds == 600_517)
    }

    @Test("log lines carry a UTC timestamp with milliseconds; a runtime exit names the request")
    func logTexts() {
        let date = Date(timeIntervalSince1970: 1_704_067_203.25)
        #expect(
            LambdaLog.timedOut(requestId: "r", seconds: 3, at: date)
                == "2024-01-01T00:00:03.250Z r Task timed out after 3.00 seconds")
        #expect(LambdaLog.timestamp(Date(timeIntervalSince1970: 1_704_067_200)) == "2024-01-01T00:00:00.000Z")
        #expect(
            LambdaLog.runtimeExited(requestId: "d88f", "exit status 137")
                == "RequestId: d88f Error: Runtime exited with error: exit status 137")
        #expect(
            LambdaLog.runtimeExited(requestId: "d88f", "signal: killed")
                == "RequestId: d88f Error: Runtime exited with error: signal: killed")
    }

    @Test("the variables' size is the bytes of their JSON object, keys sorted, slashes and non-ASCII as they are")
    func variablesSize() throws {
        let variables = ["B": "a/b \"q\" \\ tab\t nl\n \u{1} é 😀 \u{2028}", "A": "", "PATH_1": "/usr/bin:/bin"]
        let written = try JSONSerialization.data(
            withJSONObject: variables, options: [.sortedKeys, .withoutEscapingSlashes])
        #expect(LambdaEnvironment.size(of: variables) == written.count)
        #expect(LambdaEnvironment.size(of: ["K": "V"]) == #"{"K":"V"}"#.utf8.count)
        #expect(LambdaEnvironment.size(of: [:]) == 2)
    }

    @Test("payload-limit texts are Lambda's, with its byte counts")
    func payloadTexts() {
        #expect(
            LambdaLog.requestTooLarge(limit: 6_291_456)
                == "Request must be smaller than 6291456 bytes for the InvokeFunction operation")
        #expect(
            LambdaLog.eventTooLarge(bytes: 264_496, limit: 262_144)
                == "264496 byte payload is too large for the Event invocation type (limit 262144 bytes)")
        #expect(
            LambdaLog.responseTooLarge(limit: 6_291_556)
                == "Response payload size exceeded maximum allowed payload size (6291556 bytes).")
        #expect(LambdaLog.requestTooLargeErrorType == "RequestEntityTooLargeException")
        #expect(LambdaLog.responseTooLargeErrorType == "Function.ResponseSizeTooLarge")
    }

    @Test(
        "billing rounds up to 1 ms and adds the request fee (hand-computed)",
        arguments: [
            (26.73, 0.0, 128, 27), (0.2, 0.0, 128, 1), (1000.0, 0.0, 1024, 1000), (999.001, 0.0, 1024, 1000),
        ])
    func billing(duration: Double, initMs: Double, memory: Int, billed: Int) {
        let bill = LambdaBill(
            durationMs: duration, initMs: initMs, memoryMB: memory, architecture: .x86_64, prices: .embedded)
        #expect(bill.billedMilliseconds == billed)
        let gbSeconds = Double(billed) / 1000 * Double(memory) / 1024
        #expect(abs(bill.total - (gbSeconds * 0.0000166667 + 0.0000002)) < 1e-15)
    }

    @Test("1 s at 1,024 MB on arm64 costs 0.0000133334 plus the request fee")
    func armPrice() {
        let bill = LambdaBill(durationMs: 1000, memoryMB: 1024, architecture: .arm64, prices: .embedded)
        #expect(bill.gbSeconds == 1)
        #expect(abs(bill.total - 0.0000135334) < 1e-15)
    }

    @Test("the vCPU share is memory / 1,769 MB (5.79 of credit at 10,240 MB, which shows 6 cores)")
    func vcpuShare() throws {
        #expect(try FunctionConfiguration(memoryMB: 1769).vcpuShare == 1)
        #expect(abs(try FunctionConfiguration(memoryMB: 3008).vcpuShare - 1.7004) < 1e-3)
        #expect(abs(try FunctionConfiguration(memoryMB: 10_240).vcpuShare - 10_240 / 1_769) < 1e-12)
        #expect(try FunctionConfiguration(memoryMB: 10_240).threads == 6)
        #expect(try FunctionConfiguration(memoryMB: 128).threads == 1)
        #expect(try FunctionConfiguration(memoryMB: 3008).threads == 2)
    }

    @Test(
        "configuration values out of Lambda's ranges are refused, naming the field",
        arguments: [
            (127, 3, 512, "memory"), (10_241, 3, 512, "memory"), (128, 0, 512, "timeout"), (128, 901, 512, "timeout"),
            (128, 3, 511, "ephemeralStorage"), (128, 3, 10_241, "ephemeralStorage"),
        ])
    func ranges(memory: Int, timeout: Int, storage: Int, field: String) throws {
        let error = try #require(throws: InputError.self) {
            try FunctionConfiguration(memoryMB: memory, timeoutSeconds: timeout, ephemeralStorageMB: storage)
        }
        #expect(error.field == field)
    }
}

@Suite struct PriceCatalogTests {
    @Test("the embedded catalog is valid and has Lambda, Fargate and EC2 GPU entries with sources")
    func embedded() {
        let catalog = PriceCatalog.embedded
        #expect(catalog.lambda.gbSecond.x86_64 == 0.0000166667)
        #expect(!catalog.lambda.source.isEmpty && !catalog.fargate.source.isEmpty && !catalog.ec2.source.isEmpty)
        #expect(catalog.ec2.instances.contains { $0.gpu?.model == "NVIDIA H100" })
        #expect(catalog.lambda.freeTier.appliedByDefault == false)
    }

    @Test("a price file with a missing or negative price is refused, naming the item")
    func invalidFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("prices-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var json = try #require(
            try JSONSerialization.jsonObject(with: Data(EmbeddedData.sources["prices.json"]!.utf8)) as? [String: Any])
        var lambda = try #require(json["lambda"] as? [String: Any])
        lambda["perRequest"] = -1
        json["lambda"] = lambda
        let negative = directory.appendingPathComponent("negative.json")
        try JSONSerialization.data(withJSONObject: json).write(to: negative)
        let error = try #require(throws: InputError.self) { try PriceCatalog.load(path: negative.path) }
        #expect(error.field.hasSuffix("lambda.perRequest"))

        lambda.removeValue(forKey: "gbSecond")
        json["lambda"] = lambda
        let missing = directory.appendingPathComponent("missing.json")
        try JSONSerialization.data(withJSONObject: json).write(to: missing)
        let missingError = try #require(throws: InputError.self) { try PriceCatalog.load(path: missing.path) }
        #expect(missingError.field.hasSuffix("lambda.gbSecond"))
        #expect(throws: InputError.self) {
            try PriceCatalog.load(path: directory.appendingPathComponent("none.json").path)
        }
    }
}

@Suite struct CatalogAdditionsTests {
    @Test(
        "Fargate's task sizes, storage and lack of GPU, Lambda's presets and the provisioning spans are in the catalog")
    func additions() {
        let catalog = PriceCatalog.embedded
        let sizes = catalog.fargate.taskSizes
        #expect(sizes.memorySizesGB(vcpu: 0.25) == [0.5, 1, 2])
        #expect(sizes.memorySizesGB(vcpu: 0.5) == [1, 2, 3, 4])
        #expect(sizes.memorySizesGB(vcpu: 4).count == 23)
        #expect(sizes.memorySizesGB(vcpu: 8) == Array(stride(from: 16.0, through: 60, by: 4)))
        #expect(sizes.memorySizesGB(vcpu: 16).last == 120)
        #expect(sizes.memorySizesGB(vcpu: 3).isEmpty)
        #expect(sizes.gpu == false)
        #expect(sizes.ephemeralStorageGB.default == 20 && sizes.ephemeralStorageGB.maximum == 200)
        #expect(!sizes.source.isEmpty && !catalog.provisioning.source.isEmpty)
        #expect(catalog.lambda.memoryPresetsMB == [128, 512, 1024, 1769, 3008, 5308, 10240])
        #expect(catalog.provisioning.ec2Seconds == PriceCatalog.Span(lower: 300, upper: 900))
        #expect(catalog.provisioning.fargateSeconds.typical == 60)
    }

    /// Writes the embedded catalog with one edit and loads it.
    func load(_ edit: (inout [String: Any]) -> Void) throws -> InputError? {
        CatalogRangeTests.load(try CatalogRangeTests.text(edit))
    }

    @Test("a catalog with a missing, negative or disordered new item is refused, naming the item")
    func invalidAdditions() throws {
        func fargate(_ edit: @escaping (inout [String: Any]) -> Void) -> (inout [String: Any]) -> Void {
            { json in
                var section = json["fargate"] as! [String: Any]
                var sizes = section["taskSizes"] as! [String: Any]
                edit(&sizes)
                section["taskSizes"] = sizes
                json["fargate"] = section
            }
        }
        let negativeVCPU = try load(
            fargate { sizes in
                var combinations = sizes["combinations"] as! [[String: Any]]
                combinations[1]["vcpu"] = -0.5
                sizes["combinations"] = combinations
            })
        #expect(negativeVCPU?.field.hasSuffix("fargate.taskSizes.combinations[1].vcpu") == true)
        let missing = try load(fargate { $0.removeValue(forKey: "combinations") })
        #expect(missing?.field.hasSuffix("fargate.taskSizes.combinations") == true)
        #expect(missing?.value == "(missing)")
        let disordered = try load { json in
            var provisioning = json["provisioning"] as! [String: Any]
            provisioning["ec2Seconds"] = [900, 300]
            json["provisioning"] = provisioning
        }
        #expect(disordered?.field.hasSuffix("provisioning.ec2Seconds") == true)
        let negativeLatency = try load { json in
            var provisioning = json["provisioning"] as! [String: Any]
            provisioning["fargateSeconds"] = [-30, 90]
            json["provisioning"] = provisioning
        }
        #expect(negativeLatency?.field.hasSuffix("provisioning.fargateSeconds[0]") == true)
        let preset = try load { json in
            var lambda = json["lambda"] as! [String: Any]
            lambda["memoryPresetsMB"] = [64, 1024]
            json["lambda"] = lambda
        }
        #expect(preset?.field.hasSuffix("lambda.memoryPresetsMB") == true && preset?.value == "64")
        let gpu = try load { json in
            var ec2 = json["ec2"] as! [String: Any]
            var instances = ec2["instances"] as! [[String: Any]]
            let index = instances.firstIndex { $0["name"] as? String == "g4dn.xlarge" }!
            instances[index]["gpu"] = ["model": "NVIDIA T4", "count": 1, "memoryGiB": 16, "fp32TFLOPS": -8.1]
            ec2["instances"] = instances
            json["ec2"] = ec2
        }
        #expect(gpu?.field.hasSuffix("ec2.g4dn.xlarge.gpu.fp32TFLOPS") == true)
    }
}
