// render-frames at 320×180, one frame per iteration, on the first OpenCL device (`kernels/render.cl`)
// and on the native Swift renderer. Both go through the public workload API:
// `RenderFrames.prepare(on:options:)` in the setup closure (context, program build, buffers),
// then one `PreparedWorkload.run()` per iteration (scene upload, kernel, read-back, checksum).
import Benchmark
import Compute
import Foundation
import Workloads

/// Kernel time of the frame from the OpenCL profiling events (`RunResult.metrics["kernel_seconds"]`).
/// Recorded and shown in whole microseconds.
let kernelMicroseconds = BenchmarkMetric.custom(
    "kernel µs (OpenCL events)", polarity: .prefersSmaller, useScalingFactor: false)
/// SDF evaluations the frame made (both renderers count them) per second of the run's wall time, shown in M.
let evaluationsPerSecond = BenchmarkMetric.custom(
    "SDF evaluations/s", polarity: .prefersLarger, useScalingFactor: false)

let frame = try! RenderFrames(width: 320, height: 180, frames: 1, spp: 1, detail: 8)

func renderFrame(_ target: ExecutionTarget, name: String, iterations: Int) {
    var metrics: [BenchmarkMetric] = [.wallClock, .throughput, .cpuTotal, .peakMemoryResident, evaluationsPerSecond]
    if case .openCL = target { metrics.append(kernelMicroseconds) }
    Benchmark(
        "\(name) \(frame.width)x\(frame.height) 1 frame",
        configuration: .init(
            metrics: metrics, tags: ["device": target.description],
            units: [kernelMicroseconds: .count, evaluationsPerSecond: .mega], warmupIterations: 3,
            maxDuration: .seconds(3), maxIterations: iterations)
    ) { benchmark, prepared in
        do {
            let result = try prepared.run()
            if let kernel = result.metrics["kernel_seconds"] {
                benchmark.measurement(kernelMicroseconds, Int((kernel * 1e6).rounded()))
            }
            if let evaluations = result.metrics["sdf_evaluations"], result.seconds > 0 {
                benchmark.measurement(evaluationsPerSecond, Int((evaluations / result.seconds).rounded()))
            }
            blackHole(result.checksum)
        } catch {
            benchmark.error("\(target): \(error)")
        }
    } setup: {
        try frame.prepare(on: target, options: RunOptions())
    }
}

let benchmarks: @Sendable () -> Void = {
    // The first OpenCL device (PoCL in CI); without one only the native renderer is measured.
    if let device = (try? OpenCL.devices())?.first {
        renderFrame(.openCL(device), name: ExecutionTarget.openCL(device).label, iterations: 200)
    }
    renderFrame(.host, name: "native", iterations: 200)
}
