import Dispatch
import Foundation

/// Runs the host measurements for `Calibrator.calibrateHost`.
struct HostCalibrator {
    let options: CalibrationOptions

    func run() -> HostCalibration {
        let host = HostInfo.current()
        let load = CPULoadMonitor()
        let curve = sgemmSweep()
        let best = curve.max { $0.gflops < $1.gflops } ?? GEMMPoint(n: 0, gflops: 0)
        let triad = self.triad(threads: max(1, host.logicalCores))
        return HostCalibration(
            machineKey: CalibrationKey.machine(host), blasKey: CalibrationKey.blas(), quick: options.quick,
            blasSgemmGFLOPS: best.gflops, blasSgemmSize: best.n, blasSgemmCurve: curve,
            blasThreads: BLAS.threads, blasCoreType: BLAS.coreType, blasConfiguration: BLAS.configuration,
            memoryTriadGBps: triad.gbps, memoryTriadArrayBytes: triad.arrayBytes,
            memoryTriadThreads: triad.threads, notes: load.note().map { [$0] } ?? [],
            measuredAt: CalibrationSupport.timestamp())
    }

    // MARK: SGEMM

    /// Square SGEMM at growing n (1024, 2048, 4096 in full mode), stopping once the rate rises by 3 % or less.
    func sgemmSweep() -> [GEMMPoint] {
        let sizes = options.quick ? [512] : [1024, 2048, 4096]
        // Three n×n matrices must fit in a quarter of the memory available now.
        let memoryLimit = Int(HostInfo.availableMemoryBytes() / 4)
        var curve: [GEMMPoint] = []
        for n in sizes where curve.isEmpty || 3 * n * n * 4 <= memoryLimit {
            options.report("OpenBLAS SGEMM n=\(n)")
            let point = GEMMPoint(n: n, gflops: sgemmRate(n: n))
            let previous = curve.last?.gflops
            curve.append(point)
            if let previous, point.gflops <= previous * 1.03 { break }
        }
        return curve
    }

    /// The best SGEMM rate at size n over repeats that together take at least a set time.
    func sgemmRate(n: Int) -> Double {
        withThreeArrays(count: n * n) { a, b, c in
            CalibrationSupport.fillRandom(a, seed: 1)
            CalibrationSupport.fillRandom(b, seed: 2)
            c.initialize(repeating: 0)
            let gemm = {
                BLAS.sgemm(
                    m: n, n: n, k: n, a: a.baseAddress!, lda: n, b: b.baseAddress!, ldb: n, c: c.baseAddress!, ldc: n)
            }
            gemm()  // warm-up: thread start, page faults, packing buffers
            let (minimumRepeats, minimumSeconds) = options.quick ? (2, 0.02) : (3, 1.0)
            var best = Double.infinity
            var total = 0.0
            var repeats = 0
            while repeats < minimumRepeats || (total < minimumSeconds && repeats < 50) {
                let seconds = CalibrationSupport.seconds(gemm)
                best = min(best, seconds)
                total += seconds
                repeats += 1
            }
            return 2 * Double(n) * Double(n) * Double(n) / best / 1e9
        }
    }

    // MARK: Memory triad

    /// STREAM triad a = b + s·c over floats, split across `threads` threads; the best of several passes.
    func triad(threads: Int) -> (gbps: Double, arrayBytes: Int, threads: Int) {
        // Full: each array at least 128 MiB and twice the last-level cache, so the three never fit
        // in cache; at most a quarter of available memory for all three.
        let wanted = options.quick ? 16 << 20 : max(128 << 20, 2 * CalibrationSupport.lastLevelCacheBytes())
        let limit = Int(HostInfo.availableMemoryBytes() / 12)
        let chunk = 64  // elements per cache-line-aligned unit handed to a thread
        let count = max(chunk * threads, min(wanted, max(limit, 1 << 20)) / 4 / (chunk * threads) * (chunk * threads))
        return withThreeArrays(count: count) { a, b, c in
            let arrays = TriadArrays(
                a: a.baseAddress!, b: b.baseAddress!, c: c.baseAddress!, count: count, threads: threads)
            options.report("memory triad, 3 × \((count * 4) >> 20) MiB, \(threads) threads")
            // First touch on the threads that will use each part, so pages land near them.
            DispatchQueue.concurrentPerform(iterations: threads) { arrays.initialize(part: $0) }
            let passes = options.quick ? 3 : 6
            var best = Double.infinity
            for pass in 0..<passes {
                let scalar = Float(3 + pass % 2)
                let seconds = CalibrationSupport.seconds {
                    DispatchQueue.concurrentPerform(iterations: threads) { arrays.triad(part: $0, scalar: scalar) }
                }
                best = min(best, seconds)
            }
            return (3 * 4 * Double(count) / best / 1e9, count * 4, threads)
        }
    }

    /// Three arrays of `count` floats, not initialized, freed when `body` returns.
    private func withThreeArrays<Value>(count: Int, _ body: (Floats, Floats, Floats) -> Value) -> Value {
        let arrays = (0..<3).map { _ in Floats.allocate(capacity: count) }
        defer { for array in arrays { array.deallocate() } }
        return body(arrays[0], arrays[1], arrays[2])
    }
}

private typealias Floats = UnsafeMutableBufferPointer<Float>

/// The triad's three arrays and their split into one contiguous part per thread.
private struct TriadArrays: @unchecked Sendable {  // each thread writes only its own part of `a`.
    let a: UnsafeMutablePointer<Float>
    let b: UnsafeMutablePointer<Float>
    let c: UnsafeMutablePointer<Float>
    let count: Int
    let threads: Int

    private func range(_ part: Int) -> Range<Int> {
        let size = count / threads
        return part * size..<(part == threads - 1 ? count : (part + 1) * size)
    }

    func initialize(part: Int) {
        for index in range(part) {
            a[index] = 0
            b[index] = 1
            c[index] = 2
        }
    }

    func triad(part: Int, scalar: Float) {
        let range = range(part)
        let a = self.a + range.lowerBound
        let b = self.b + range.lowerBound
        let c = self.c + range.lowerBound
        for index in 0..<range.count {
            a[index] = b[index] + scalar * c[index]
        }
    }
}
