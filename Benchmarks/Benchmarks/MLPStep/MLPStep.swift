// One SGD step of capsize's train-mlp, on the host (OpenBLAS) and on the first OpenCL device.
//
// Every trainer is built through the public workload API (`TrainMLP.prepare(on:options:)`), in the
// benchmark's setup closure, so data generation, weight initialisation and OpenCL program builds
// are never measured.
import Benchmark
import Compute
import Foundation
import Workloads

/// Analytical FLOP rate of the measured step: `TrainMLP.flopsPerStep` divided by the step's seconds,
/// recorded in FLOP/s and shown in G.
let flopsPerSecond = BenchmarkMetric.custom("FLOP/s (analytical)", polarity: .prefersLarger, useScalingFactor: false)

/// The shape `train-mlp` uses by default: batch 256, inputs 256, hidden 512, 2 hidden layers.
let small = TrainMLP(batch: 256, inputs: 256, hidden: 512, layers: 2, classes: 10, steps: 1)
/// The issue's shape: batch 1024, inputs 1024, hidden 2048, 3 hidden layers (60.3 GFLOP, about 0.4 s a step
/// on a 2-core AVX-512 host), so it runs only a few iterations.
let issue = TrainMLP(batch: 1024, inputs: 1024, hidden: 2048, layers: 3, classes: 10, steps: 1)

/// `b256 i256 h512 l2 c10, 0.546 GFLOP/step`: the shape and the analytical FLOPs, in the benchmark's name.
func label(_ model: TrainMLP) -> String {
    let gflop = String(format: "%.3f", model.flopsPerStep / 1e9)
    return "b\(model.batch) i\(model.inputs) h\(model.hidden) l\(model.layers) c\(model.classes), \(gflop) GFLOP/step"
}

func tags(_ model: TrainMLP, device: String) -> [String: String] {
    ["device": device, "flopsPerStep": String(format: "%.0f", model.flopsPerStep)]
}

let metrics: [BenchmarkMetric] = [.wallClock, .throughput, .cpuTotal, .peakMemoryResident, flopsPerSecond]
var units: [BenchmarkMetric: BenchmarkUnits] { [flopsPerSecond: .giga] }

/// Host: `HostMLPTrainer.step()` alone, one SGD step per iteration (the weights keep training from
/// one iteration to the next, which changes no shape and no FLOP count).
func hostStep(_ model: TrainMLP, warmup: Int, iterations: Int, seconds: Int) {
    Benchmark(
        "host \(label(model))",
        configuration: .init(
            metrics: metrics, tags: tags(model, device: "host"), units: units, warmupIterations: warmup,
            maxDuration: .seconds(seconds), maxIterations: iterations)
    ) { benchmark, trainer in
        let clock = ContinuousClock()
        let start = clock.now
        blackHole(trainer.step())
        let elapsed = clock.now - start
        benchmark.measurement(flopsPerSecond, flops(model, elapsed))
    } setup: {
        // `.host` always prepares a HostMLPTrainer; the cast reaches its public step().
        try model.prepare(on: .host, options: RunOptions()) as! HostMLPTrainer
    }
}

/// OpenCL: `OpenCLMLPTrainer` has no public single step, so each iteration is one `run()` with
/// steps = 1: re-upload of the initial weights, one step (waited for by reading its loss), and a
/// read-back of the weights for the checksum. The custom metric uses capsize's own timing of the
/// step alone (`RunResult.seconds`).
func openCLStep(_ model: TrainMLP, device: OpenCLDevice, warmup: Int, iterations: Int, seconds: Int) {
    let target = ExecutionTarget.openCL(device)
    Benchmark(
        "\(target.label) run(steps: 1) \(label(model))",
        configuration: .init(
            metrics: metrics, tags: tags(model, device: "\(target.label) \(device.info.name)"), units: units,
            warmupIterations: warmup, maxDuration: .seconds(seconds), maxIterations: iterations)
    ) { benchmark, trainer in
        do {
            let result = try trainer.run()
            benchmark.measurement(flopsPerSecond, flops(model, .seconds(result.seconds)))
            blackHole(result.checksum)
        } catch {
            benchmark.error("\(target): \(error)")
        }
    } setup: {
        try model.prepare(on: target, options: RunOptions())
    }
}

/// FLOP/s of one step of `model` that took `elapsed`.
func flops(_ model: TrainMLP, _ elapsed: Duration) -> Int {
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    return seconds > 0 ? Int((model.flopsPerStep / seconds).rounded()) : 0
}

let benchmarks: @Sendable () -> Void = {
    hostStep(small, warmup: 3, iterations: 200, seconds: 3)
    hostStep(issue, warmup: 1, iterations: 5, seconds: 4)
    // The first OpenCL device (PoCL in CI); no device (or no ICD loader platform) registers nothing.
    if let device = (try? OpenCL.devices())?.first {
        openCLStep(small, device: device, warmup: 2, iterations: 50, seconds: 4)
    }
}
