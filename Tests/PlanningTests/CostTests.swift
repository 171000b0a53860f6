import CloudModel
import Testing

@testable import Planning

@Suite struct CostTests {
    let prices = PriceCatalog.embedded

    @Test("Lambda rounds 100.2 ms up to 101 ms at 1,024 MB x86_64 and adds the $0.20-per-million request fee")
    func lambdaRounding() {
        let cost = CostModel.lambda(seconds: 0.1002, memoryMB: 1024, architecture: .x86_64, prices: prices)
        #expect(cost.billedSeconds == 0.101)
        // 0.101 s × 1 GB × $0.0000166667/GB-s + $0.0000002
        #expect(abs(cost.dollars - 0.0000018833367) < 1e-16)
        #expect(cost.provenance == .projectedFromPrices)
        #expect(cost.provenance.label == "projected")
    }

    @Test("Lambda on arm64: 1 s at 1,024 MB is $0.0000133334 plus the request fee; 1,000 runs cost 1,000 times one")
    func lambdaArmAndRuns() {
        let arm = CostModel.lambda(seconds: 1, memoryMB: 1024, architecture: .arm64, prices: prices)
        #expect(abs(arm.dollars - 0.0000135334) < 1e-16)
        let many = CostModel.lambda(seconds: 0.1002, memoryMB: 1024, architecture: .x86_64, runs: 1000, prices: prices)
        #expect(abs(many.dollars - 0.0018833367) < 1e-13)
        #expect(many.units == 1000)
    }

    @Test("Lambda bills the init phase of cold starts only")
    func lambdaColdStarts() {
        let cost = CostModel.lambda(
            seconds: 1, initSeconds: 0.5, memoryMB: 2048, architecture: .x86_64, runs: 10, coldStarts: 2,
            prices: prices)
        // 10 × (2 GB-s × price + request) + 2 × 0.5 s × 2 GB × price
        #expect(abs(cost.dollars - (10 * (2 * 0.0000166667 + 0.0000002) + 2 * 1 * 0.0000166667)) < 1e-15)
    }

    @Test("Fargate bills a 10 s run as the 1-minute minimum, and whole seconds beyond it")
    func fargateMinimum() {
        let short = CostModel.fargate(seconds: 10, vcpu: 1, memoryGB: 2, prices: prices)
        #expect(short.billedSeconds == 60)
        // 60 s × (1 × $0.04048 + 2 × $0.004445) / 3600
        #expect(abs(short.dollars - 60 * 0.04937 / 3600) < 1e-15)
        let long = CostModel.fargate(seconds: 90.2, vcpu: 1, memoryGB: 2, prices: prices)
        #expect(long.billedSeconds == 91)
        #expect(abs(long.dollars - 91 * 0.04937 / 3600) < 1e-15)
        let arm = CostModel.fargate(seconds: 3600, vcpu: 2, memoryGB: 4, architecture: .arm64, runs: 3, prices: prices)
        #expect(abs(arm.dollars - 3 * (2 * 0.03238 + 4 * 0.00356)) < 1e-12)
    }

    @Test("EC2 bills a 10 s run as 60 s and 120 s as 120 s at the hourly price")
    func ec2Minimum() throws {
        let large = try #require(prices.ec2.instances.first { $0.name == "c7i.large" })
        #expect(abs(CostModel.ec2(seconds: 10, instance: large, prices: prices).dollars - 0.0014875) < 1e-15)
        #expect(abs(CostModel.ec2(seconds: 120, instance: large, prices: prices).dollars - 0.002975) < 1e-15)
        #expect(
            abs(CostModel.ec2(seconds: 120, instance: large, instances: 4, prices: prices).dollars - 0.0119) < 1e-15)
    }

    @Test("Batch packs runs that fit on one instance in parallel: 5 one-vCPU runs on c7i.large need 3 instances")
    func batchPacking() throws {
        let large = try #require(prices.ec2.instances.first { $0.name == "c7i.large" })
        let packing = try #require(
            BatchPacking.pack(runs: 5, vcpusPerRun: 1, memoryMiBPerRun: 1024, gpusPerRun: 0, instance: large))
        #expect(packing.runsPerInstance == 2 && packing.instances == 3 && packing.limitedBy == "vCPUs")
        let cost = CostModel.batch(seconds: 600, instance: large, packing: packing, prices: prices)
        #expect(abs(cost.dollars - 3 * 600 * 0.08925 / 3600) < 1e-15)
        // Memory limits the packing: 3 GiB runs on a 4 GiB instance go one per instance.
        let heavy = try #require(
            BatchPacking.pack(runs: 5, vcpusPerRun: 1, memoryMiBPerRun: 3072, gpusPerRun: 0, instance: large))
        #expect(heavy.runsPerInstance == 1 && heavy.instances == 5 && heavy.limitedBy == "memory")
        // GPUs limit it on p5.48xlarge (8 GPUs): 20 runs need 3 instances.
        let p5 = try #require(prices.ec2.instances.first { $0.name == "p5.48xlarge" })
        let gpu = try #require(
            BatchPacking.pack(runs: 20, vcpusPerRun: 24, memoryMiBPerRun: 8192, gpusPerRun: 1, instance: p5))
        #expect(gpu.runsPerInstance == 8 && gpu.instances == 3)
        #expect(
            BatchPacking.pack(runs: 1, vcpusPerRun: 1, memoryMiBPerRun: 5000, gpusPerRun: 0, instance: large) == nil)
        #expect(BatchPacking.pack(runs: 1, vcpusPerRun: 1, memoryMiBPerRun: 100, gpusPerRun: 1, instance: large) == nil)
    }
}
