import CapsizeCore
import CloudModel
import Testing

@testable import Planning

@Suite struct RecommenderTests {
    @Test("a short, light job picks Lambda for cost, with a reason that names Lambda")
    func shortJob() throws {
        let profile = try WorkloadProfile(localSeconds: 0.2, peakMemoryMB: 100)
        let recommendation = try recommend(profile: profile, runs: 1000, strategy: .cost)
        let pick = try #require(recommendation.pick)
        #expect(pick.service == .lambda)
        #expect(recommendation.reasons.joined().contains("Lambda"))
        // Every option is listed: each preset, each Fargate vCPU count, each instance.
        let prices = PriceCatalog.embedded
        #expect(recommendation.options.filter { $0.service == .lambda }.count == prices.lambda.memoryPresetsMB.count)
        #expect(
            recommendation.options.filter { $0.service == .fargate }.count
                == prices.fargate.taskSizes.combinations.count)
        #expect(recommendation.options.filter { $0.service == .batchEC2 }.count == prices.ec2.instances.count)
        #expect(
            recommendation.options.allSatisfy { $0.costForRuns.map { $0.provenance == .projectedFromPrices } ?? true })
    }

    @Test("a 2-hour job has no feasible Lambda (900 s timeout) and picks Batch for cost")
    func longJob() throws {
        let profile = try WorkloadProfile(localSeconds: 7200, localThreads: 4, serialFraction: 0.05, peakMemoryMB: 3000)
        let recommendation = try recommend(profile: profile, runs: 1, strategy: .cost)
        let lambdas = recommendation.options.filter { $0.service == .lambda }
        #expect(!lambdas.isEmpty && lambdas.allSatisfy { !$0.isFeasible })
        #expect(lambdas.allSatisfy { $0.infeasibleReasons.joined().contains("900 s timeout") })
        let pick = try #require(recommendation.pick)
        #expect(pick.service == .batchEC2)
        #expect(recommendation.reasons.contains { $0.contains("No Lambda size is feasible") })
        #expect(recommendation.reasons.contains { $0.contains("Batch") })
    }

    @Test("a job measured on a GPU picks a GPU Batch instance for speed")
    func gpuJob() throws {
        let profile = try WorkloadProfile(
            localSeconds: 3600, localThreads: 16, peakMemoryMB: 2000,
            gpu: MeasuredGPU(seconds: 20, deviceName: "NVIDIA H100 80GB HBM3"))
        let recommendation = try recommend(profile: profile, runs: 8, strategy: .speed)
        let pick = try #require(recommendation.pick)
        #expect(pick.service == .batchEC2 && pick.gpus == 1)
        #expect(pick.instance == "p5.48xlarge")
        #expect(pick.runtime?.basis.contains("same GPU model") == true)
        #expect(recommendation.reasons.contains { $0.contains("GPU") })
    }

    @Test("a GPU-only job makes Lambda, Fargate and CPU instances infeasible")
    func gpuOnly() throws {
        let profile = try WorkloadProfile(
            localSeconds: 1, peakMemoryMB: 100, gpu: MeasuredGPU(seconds: 1, deviceName: "NVIDIA L4"), requiresGPU: true
        )
        let recommendation = try recommend(profile: profile, runs: 1, strategy: .cost)
        #expect(recommendation.options.filter(\.isFeasible).allSatisfy { $0.gpus > 0 })
        #expect(
            recommendation.options.filter { $0.service == .lambda }
                .allSatisfy { $0.infeasibleReasons.contains("needs a GPU: Lambda has none") })
    }

    @Test("a Lambda option within 20 % of the timeout or of MemorySize gets a warning")
    func nearCap() throws {
        let slow = try WorkloadProfile(localSeconds: 800, peakMemoryMB: 100)
        let timeWarnings = try recommend(profile: slow, runs: 1, strategy: .cost, lambdaMemories: [3008]).warnings
        #expect(timeWarnings == ["Lambda 3008 MB x86_64: projected 800 s is within 20 % of Lambda's 900 s timeout"])
        let big = try WorkloadProfile(localSeconds: 0.1, peakMemoryMB: 900)
        let memoryWarnings = try recommend(profile: big, runs: 1, strategy: .cost, lambdaMemories: [1024]).warnings
        #expect(memoryWarnings.contains { $0.contains("within 20 % of MemorySize 1024 MB") })
        let fast = try WorkloadProfile(localSeconds: 0.1, peakMemoryMB: 100)
        #expect(try recommend(profile: fast, runs: 1, strategy: .cost, lambdaMemories: [1024]).warnings.isEmpty)
    }

    @Test("exactly at a cap: a 900 s run is infeasible (killed at the timeout), a peak equal to MemorySize fits")
    func atTheCap() throws {
        // One thread at 1,769 MB (one vCPU): the projection is the measured 900 s.
        let atTimeout = try WorkloadProfile(localSeconds: 900, peakMemoryMB: 100)
        let timed = try #require(
            try recommend(profile: atTimeout, runs: 1, strategy: .cost, lambdaMemories: [1769]).options.first)
        #expect(timed.runtime?.seconds == 900)
        #expect(!timed.isFeasible)
        let justUnder = try WorkloadProfile(localSeconds: 899.999, peakMemoryMB: 100)
        #expect(
            try recommend(profile: justUnder, runs: 1, strategy: .cost, lambdaMemories: [1769]).options[0].isFeasible)

        let atMemory = try WorkloadProfile(localSeconds: 1, peakMemoryMB: 1024)
        #expect(
            try recommend(profile: atMemory, runs: 1, strategy: .cost, lambdaMemories: [1024]).options[0].isFeasible)
        let over = try WorkloadProfile(localSeconds: 1, peakMemoryMB: 1025)
        let overOption = try recommend(profile: over, runs: 1, strategy: .cost, lambdaMemories: [1024]).options[0]
        #expect(overOption.infeasibleReasons == ["peak memory 1025 MB exceeds MemorySize 1024 MB"])
    }

    @Test("balanced picks the feasible option with the least (cost / cheapest) × (time / fastest)")
    func balanced() throws {
        let profile = try WorkloadProfile(localSeconds: 120, localThreads: 4, serialFraction: 0.1, peakMemoryMB: 1500)
        let recommendation = try recommend(profile: profile, runs: 100, strategy: .balanced)
        let pick = try #require(recommendation.pick)
        let feasible = recommendation.options.filter(\.isFeasible)
        let cheapest = feasible.map { $0.costForRuns!.dollars }.min()!
        let fastest = feasible.map { $0.completionSeconds! }.min()!
        func score(_ option: PlanOption) -> Double {
            option.costForRuns!.dollars / cheapest * option.completionSeconds! / fastest
        }
        #expect(feasible.allSatisfy { score(pick) <= score($0) })
        let cost = try #require(try recommend(profile: profile, runs: 100, strategy: .cost).pick)
        #expect(feasible.allSatisfy { cost.costForRuns!.dollars <= $0.costForRuns!.dollars })
    }

    @Test("ranked puts the feasible options first, best for the strategy first, the pick at the top of its kind")
    func ranking() throws {
        let profile = try WorkloadProfile(localSeconds: 120, localThreads: 4, serialFraction: 0.1, peakMemoryMB: 1500)
        let recommendation = try recommend(profile: profile, runs: 100, strategy: .cost)
        let ranked = Strategy.cost.ranked(recommendation.options)
        #expect(ranked.count == recommendation.options.count)
        let feasible = ranked.prefix { $0.isFeasible }
        #expect(ranked.dropFirst(feasible.count).allSatisfy { !$0.isFeasible })
        let costs = feasible.map { $0.costForRuns!.dollars }
        #expect(costs == costs.sorted())
        #expect(ranked.first == recommendation.pick)
        let pick = try #require(recommendation.pick)
        #expect(Strategy.cost.ranked(recommendation.options.filter { $0.kind == pick.kind }).first == pick)
        #expect(Set(recommendation.options.map(\.kind)) == Set(PlanOption.kinds))
    }

    @Test("a strategy that does not exist is refused, naming --strategy and the allowed values")
    func badStrategy() throws {
        let error = try #require(throws: InputError.self) { try Strategy(parsing: "cheapest") }
        #expect(error.field == "strategy")
        #expect(error.allowed == "cost, speed, balanced")
        #expect(try Strategy(parsing: "Speed") == .speed)
    }

    @Test("runs below 1 and Lambda memory sizes outside 128...10240 are refused")
    func badArguments() throws {
        let profile = try WorkloadProfile(localSeconds: 1, peakMemoryMB: 1)
        let runs = try #require(throws: InputError.self) { try recommend(profile: profile, runs: 0, strategy: .cost) }
        #expect(runs.field == "runs")
        let memory = try #require(throws: InputError.self) {
            try recommend(profile: profile, runs: 1, strategy: .cost, lambdaMemories: [64])
        }
        #expect(memory.field == "memory")
    }
}
