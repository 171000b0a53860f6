import CapsizeCore
import CloudModel
import Testing

@testable import Planning

@Suite struct ProjectionTests {
    @Test("Amdahl: with serial fraction 0.1 and 10 s at 4 threads, half a vCPU takes 61.5 s and 8 vCPUs 6.54 s")
    func amdahl() throws {
        let profile = try WorkloadProfile(localSeconds: 10, localThreads: 4, serialFraction: 0.1, peakMemoryMB: 100)
        let single = 10 / (0.1 + 0.9 / 4)
        let half = Projection.cpu(profile, vcpus: 0.5)
        #expect(abs(half.seconds - single / 0.5) < 1e-9)
        #expect(half.provenance == .projectedFromFit)
        let eight = Projection.cpu(profile, vcpus: 8)
        #expect(abs(eight.seconds - single * (0.1 + 0.9 / 8)) < 1e-9)
        #expect(eight.seconds < 10)
        #expect(abs(Projection.cpu(profile, vcpus: 4).seconds - 10) < 1e-9)
        #expect(eight.basis.contains("Amdahl"))
    }

    @Test("without a fit, runs scale perfectly up to the measured threads and no faster beyond, and say so")
    func noFit() throws {
        let profile = try WorkloadProfile(localSeconds: 10, localThreads: 4, peakMemoryMB: 100)
        #expect(Projection.cpu(profile, vcpus: 0.5).seconds == 80)
        #expect(Projection.cpu(profile, vcpus: 2).seconds == 20)
        let beyond = Projection.cpu(profile, vcpus: 16)
        #expect(beyond.seconds == 10)
        #expect(beyond.basis.contains("no Amdahl fit") && beyond.basis.contains("no faster"))
        #expect(beyond.provenance == .projectedFromSpec)
    }

    @Test("Lambda's share is memory / 1,769 MB (5.79 vCPUs at 10,240 MB)")
    func lambdaShare() throws {
        let profile = try WorkloadProfile(localSeconds: 1, localThreads: 8, serialFraction: 0, peakMemoryMB: 100)
        #expect(abs(Projection.lambda(profile, memoryMB: 128).seconds - 8 * 1769 / 128) < 1e-9)
        #expect(abs(Projection.lambda(profile, memoryMB: 1769).seconds - 8) < 1e-9)
        // 10,240 MB buys 5.79 vCPUs of credit, the most Lambda gives.
        #expect(abs(Projection.lambda(profile, memoryMB: 10_240).seconds - 8 * 1769 / 10_240) < 1e-9)
    }

    @Test("a GPU run on the same model is taken as is; another model is scaled by FP32 peaks; the basis says which")
    func gpuBasis() throws {
        let prices = PriceCatalog.embedded
        let profile = try WorkloadProfile(
            localSeconds: 600, localThreads: 16, peakMemoryMB: 2000,
            gpu: MeasuredGPU(seconds: 10, deviceName: "NVIDIA H100 80GB HBM3"))
        let h100 = try #require(prices.ec2.instances.first { $0.name == "p5.48xlarge" }?.gpu)
        let t4 = try #require(prices.ec2.instances.first { $0.name == "g4dn.xlarge" }?.gpu)
        let same = try #require(Projection.gpu(profile, on: h100, prices: prices))
        #expect(same.seconds == 10)
        #expect(same.basis.contains("same GPU model"))
        let scaled = try #require(Projection.gpu(profile, on: t4, prices: prices))
        #expect(abs(scaled.seconds - 10 * 67 / 8.1) < 1e-9)
        #expect(scaled.basis.contains("FP32 peak ratio"))
        #expect(same.basis != scaled.basis)

        let cpuOnly = try WorkloadProfile(localSeconds: 100, peakMemoryMB: 100, localFP32TFLOPS: 1)
        let fromCPU = try #require(Projection.gpu(cpuOnly, on: t4, prices: prices))
        #expect(abs(fromCPU.seconds - 100 / 8.1) < 1e-9)
        #expect(fromCPU.basis.contains("CPU run"))
        let flopsOnly = try WorkloadProfile(localSeconds: 100, peakMemoryMB: 100, flops: 8.1e12)
        #expect(try #require(Projection.gpu(flopsOnly, on: t4, prices: prices)).seconds == 1)
        #expect(Projection.gpu(try WorkloadProfile(localSeconds: 1, peakMemoryMB: 1), on: t4, prices: prices) == nil)
    }

    @Test("from FLOPs, a GPU runs at the fraction of peak a calibrated device here reached; the basis says which")
    func calibratedEfficiency() throws {
        let prices = PriceCatalog.embedded
        let t4 = try #require(prices.ec2.instances.first { $0.name == "g4dn.xlarge" }?.gpu)
        let gpu = MeasuredEfficiency(
            fraction: 0.4, deviceName: "NVIDIA H100", onGPU: true, measured: "CLBlast SGEMM 400 of 1000")
        let calibrated = try WorkloadProfile(
            localSeconds: 100, peakMemoryMB: 100, flops: 8.1e12, localFP32TFLOPS: 1, deviceEfficiency: gpu)
        let projected = try #require(Projection.gpu(calibrated, on: t4, prices: prices))
        #expect(abs(projected.seconds - 1 / 0.4) < 1e-9)
        #expect(projected.basis.contains("at 40 % of the FP32 peak") && projected.basis.contains("NVIDIA H100 here"))

        let pocl = MeasuredEfficiency(fraction: 0.5, deviceName: "cpu-pocl", onGPU: false, measured: "SGEMM")
        let withCPUPeak = try WorkloadProfile(
            localSeconds: 100, peakMemoryMB: 100, flops: 8.1e12, localFP32TFLOPS: 1, deviceEfficiency: pocl)
        #expect(try #require(Projection.gpu(withCPUPeak, on: t4, prices: prices)).basis.contains("CPU run"))
        let withoutCPUPeak = try WorkloadProfile(
            localSeconds: 100, peakMemoryMB: 100, flops: 8.1e12, deviceEfficiency: pocl)
        let fromPoCL = try #require(Projection.gpu(withoutCPUPeak, on: t4, prices: prices))
        #expect(abs(fromPoCL.seconds - 2) < 1e-9)
        #expect(fromPoCL.basis.contains("no GPU calibrated here"))
        #expect(throws: InputError.self) {
            try WorkloadProfile(
                localSeconds: 1, peakMemoryMB: 1,
                deviceEfficiency: MeasuredEfficiency(fraction: 1.5, deviceName: "x", onGPU: true, measured: ""))
        }
    }

    @Test(
        "GPU model names match on the model word",
        arguments: [
            ("NVIDIA H100 80GB HBM3", "NVIDIA H100", true), ("A100-SXM4-40GB", "NVIDIA A100", true),
            ("NVIDIA H200", "NVIDIA H100", false), ("NVIDIA A10", "NVIDIA A10G", false),
            ("Tesla T4", "NVIDIA T4", true),
        ])
    func modelMatch(device: String, model: String, same: Bool) {
        #expect(Projection.sameModel(device, model) == same)
    }

    @Test("measurements that are not positive are refused, naming the field")
    func badProfile() {
        let error = #expect(throws: InputError.self) { try WorkloadProfile(localSeconds: 0, peakMemoryMB: 1) }
        #expect(error?.field == "localSeconds")
        let fraction = #expect(throws: InputError.self) {
            try WorkloadProfile(localSeconds: 1, serialFraction: 1.5, peakMemoryMB: 1)
        }
        #expect(fraction?.field == "serialFraction")
    }
}
