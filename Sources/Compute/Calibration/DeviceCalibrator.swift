import Foundation

/// Runs the device measurements for `Calibrator.calibrate(_:_:)`.
struct DeviceCalibrator {
    let device: OpenCLDevice
    let options: CalibrationOptions

    private var info: DeviceInfo { device.info }
    private var isGPU: Bool { info.kind == .gpu }

    func run() throws -> DeviceCalibration {
        let load = CPULoadMonitor()
        let context = try OpenCLContext(device: device)
        // calibrate.cl is compiled into the module by the EmbedKernels plugin, so it is always there.
        let program = try context.program(source: Kernels.source("calibrate.cl")!)
        var notes: [String] = []

        let variants = try fmaVariants(context, program)
        let bandwidth = try copyBandwidth(context, program)
        let transfer = try transfers(context)
        let launch = try launchLatency(context, program)
        var gemm = clblastSweep(context, notes: &notes)
        var best = gemm.max { $0.gflops < $1.gflops }
        var tuned: [String: Int]?
        if isGPU && !options.quick, let baseline = best, let (point, parameters) = tuneXgemm(context, at: baseline) {
            notes.append(
                "CLBlast Xgemm parameters tuned here: \(point.gflops.rounded()) GFLOP/s at n=\(point.n) against "
                    + "\(baseline.gflops.rounded()) with CLBlast's defaults")
            gemm.append(point)
            best = point
            tuned = parameters
        }
        if let note = load.note() { notes.append(note) }

        return DeviceCalibration(
            machineKey: CalibrationKey.machine(), deviceKey: CalibrationKey.device(info), deviceName: info.name,
            platform: info.platform, kind: info.kind, quick: options.quick,
            fmaPeakGFLOPS: variants.map(\.gflops).max() ?? 0, fmaVariants: variants,
            globalMemoryGBps: bandwidth.gbps, globalMemoryBufferBytes: bandwidth.bytes,
            hostToDeviceGBps: transfer.hostToDevice, deviceToHostGBps: transfer.deviceToHost,
            transferBytes: transfer.bytes, launchLatencyMicroseconds: launch.host,
            launchDeviceMicroseconds: launch.device, clblastSgemmGFLOPS: best?.gflops, clblastSgemmSize: best?.n,
            clblastSgemmCurve: gemm, clblastXgemmParameters: tuned, notes: notes,
            measuredAt: CalibrationSupport.timestamp())
    }

    // MARK: FMA peak

    /// Runs each FMA-peak variant of calibrate.cl with its iterations scaled so that one launch
    /// lasts a set time, and returns each variant's best rate.
    func fmaVariants(_ context: OpenCLContext, _ program: OpenCLProgram) throws -> [FMAVariantResult] {
        let chains = 16  // independent fma chains per work-item in calibrate.cl
        // Enough work-items to fill every compute unit many times over.
        let workItems = max(1, info.computeUnits) * (isGPU ? 16_384 : 1024)
        let targetSeconds = options.quick ? 0.01 : 0.2
        let repeats = options.quick ? 2 : 4
        let output = try context.buffer(bytes: workItems * 16 * 4)
        var results: [FMAVariantResult] = []
        for (variant, lanes) in [("float", 1), ("float4", 4), ("float8", 8), ("float16", 16)] {
            options.report("\(info.name): FP32 FMA peak, \(variant)")
            let kernel = try program.kernel("fma_peak_\(variant)")
            func launch(_ iterations: Int) throws -> Double {
                try kernel.set(.buffer(output), .int(Int32(iterations)), .float(0.999_999), .float(1e-6))
                return try context.enqueue(kernel, global: [workItems]).seconds()
            }
            // Probe with a few iterations (this also compiles the kernel), then scale to the target time.
            var iterations = 16
            var seconds = try launch(iterations)
            while seconds < targetSeconds / 2 && iterations < 1 << 24 {
                let scale = seconds > 0 ? min(64, max(2, targetSeconds / seconds)) : 64
                iterations = min(1 << 24, Int(Double(iterations) * scale))
                seconds = try launch(iterations)
            }
            for _ in 1..<repeats { seconds = min(seconds, try launch(iterations)) }
            let flops = 2 * Double(workItems) * Double(iterations) * Double(chains) * Double(lanes)
            results.append(FMAVariantResult(variant: variant, gflops: flops / seconds / 1e9))
        }
        return results
    }

    // MARK: Memory

    /// Bytes for one large buffer: a quarter of the largest allocation and an eighth of device
    /// memory, at most 1 GiB (quick: 32 MiB); on a CPU device also within available host memory.
    private func largeBufferBytes(full: Int, quick: Int) -> Int {
        var bytes = options.quick ? quick : full
        bytes = min(bytes, Int(info.maxAllocationBytes / 4), Int(info.globalMemoryBytes / 8))
        if !isGPU { bytes = min(bytes, Int(HostInfo.availableMemoryBytes() / 8)) }
        return max(1 << 20, bytes / 4096 * 4096)
    }

    /// Device-memory bandwidth of calibrate.cl's float4 copy: the best of several launches, from profiling events.
    func copyBandwidth(_ context: OpenCLContext, _ program: OpenCLProgram) throws -> (gbps: Double, bytes: Int) {
        let bytes = largeBufferBytes(full: 1 << 30, quick: 32 << 20)
        options.report("\(info.name): global memory bandwidth, 2 × \(bytes >> 20) MiB")
        let source = try context.buffer(bytes: bytes)
        let destination = try context.buffer(bytes: bytes)
        let kernel = try program.kernel("copy_float4")
        try kernel.set(.buffer(source), .buffer(destination))
        var best = Double.infinity
        for index in 0..<(options.quick ? 4 : 12) {
            let seconds = try context.enqueue(kernel, global: [bytes / 16]).seconds()
            if index > 0 { best = min(best, seconds) }  // the first launch compiles and touches pages
        }
        return (2 * Double(bytes) / best / 1e9, bytes)
    }

    /// Blocking host→device and device→host copies of one large buffer from pageable host memory, best of a few.
    func transfers(_ context: OpenCLContext) throws -> (hostToDevice: Double, deviceToHost: Double, bytes: Int) {
        let bytes = largeBufferBytes(full: 256 << 20, quick: 16 << 20)
        options.report("\(info.name): host↔device transfer, \(bytes >> 20) MiB")
        let host = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes, alignment: 4096)
        defer { host.deallocate() }
        host.initializeMemory(as: UInt8.self, repeating: 1)
        let buffer = try context.buffer(bytes: bytes)
        let readOnly = UnsafeRawBufferPointer(host)
        var write = Double.infinity
        var read = Double.infinity
        for index in 0..<(options.quick ? 3 : 6) {
            let writeSeconds = try CalibrationSupport.seconds { () throws(OpenCLError) in
                try context.write(buffer, from: readOnly)
            }
            let readSeconds = try CalibrationSupport.seconds { () throws(OpenCLError) in
                try context.read(buffer, into: host)
            }
            if index > 0 {  // the first round allocates and maps device memory
                write = min(write, writeSeconds)
                read = min(read, readSeconds)
            }
        }
        return (Double(bytes) / write / 1e9, Double(bytes) / read / 1e9, bytes)
    }

    // MARK: Launch latency

    /// The median host round trip (enqueue, finish) and median device duration of an empty kernel.
    func launchLatency(_ context: OpenCLContext, _ program: OpenCLProgram) throws -> (host: Double, device: Double) {
        options.report("\(info.name): kernel-launch latency")
        let kernel = try program.kernel("empty")
        for _ in 0..<5 { try context.enqueue(kernel, global: [1]).wait() }
        var host: [Double] = []
        var device: [Double] = []
        for _ in 0..<(options.quick ? 50 : 200) {
            var event: OpenCLEvent?
            host.append(
                try CalibrationSupport.seconds { () throws(OpenCLError) in
                    event = try context.enqueue(kernel, global: [1])
                    try context.finish()
                })
            device.append(try event!.seconds())
        }
        return (CalibrationSupport.median(host) * 1e6, CalibrationSupport.median(device) * 1e6)
    }

    // MARK: CLBlast SGEMM

    /// CLBlast SGEMM at growing square n, stopping once the rate rises by 3 % or less. Each size's
    /// result is checked against host dot products; a failure ends the sweep with a note.
    ///
    /// CPU devices start at n = 512: there CLBlast's single-kernel ("direct") GEMM, used for small
    /// sizes, can beat its padded multi-kernel path (on PoCL, about 25 against 8 GFLOP/s at n = 2048).
    func clblastSweep(_ context: OpenCLContext, notes: inout [String]) -> [GEMMPoint] {
        let sizes =
            options.quick ? (isGPU ? [512] : [256]) : (isGPU ? [1024, 2048, 4096, 8192] : [512, 1024, 2048, 4096])
        var curve: [GEMMPoint] = []
        for n in sizes {
            let bytes = n * n * 4
            let fits =
                3 * UInt64(bytes) <= info.globalMemoryBytes / 2 && UInt64(bytes) <= info.maxAllocationBytes
                && (isGPU || 5 * bytes <= Int(HostInfo.availableMemoryBytes() / 2))
            if !fits && !curve.isEmpty { break }
            options.report("\(info.name): CLBlast SGEMM n=\(n)")
            do {
                let point = try clblastRate(context, n: n, warmUp: curve.isEmpty)
                let previous = curve.last?.gflops
                curve.append(point)
                if let previous, point.gflops <= previous * 1.03 { break }
            } catch {
                notes.append("CLBlast SGEMM at n=\(n) was not used: \(error)")
                break
            }
        }
        return curve
    }

    /// Tries each of `CLBlast.xgemmCandidates` at the baseline's size and keeps the fastest if it beats
    /// CLBlast's defaults by more than 2 %; that set stays applied for this process.
    /// - Returns: the tuned rate and parameters, or nil when the defaults were best.
    func tuneXgemm(_ context: OpenCLContext, at baseline: GEMMPoint) -> (GEMMPoint, [String: Int])? {
        var best: (GEMMPoint, [String: Int])?
        for (index, candidate) in CLBlast.xgemmCandidates.enumerated() {
            options.report("\(info.name): CLBlast Xgemm candidate \(index + 1)/\(CLBlast.xgemmCandidates.count)")
            do {
                try CLBlast.overrideParameters(device: device, kernel: "Xgemm", parameters: candidate)
                let point = try clblastRate(context, n: baseline.n, warmUp: true)
                if point.gflops > (best?.0.gflops ?? baseline.gflops * 1.02) { best = (point, candidate) }
            } catch {
                continue  // a tiling this device cannot run (local memory, work-group size) is skipped
            }
        }
        if let best { try? CLBlast.overrideParameters(device: device, kernel: "Xgemm", parameters: best.1) }
        return best
    }

    /// The best CLBlast SGEMM rate at size n after checking the result.
    func clblastRate(_ context: OpenCLContext, n: Int, warmUp: Bool) throws -> GEMMPoint {
        let count = n * n
        var a = [Float](repeating: 0, count: count)
        var b = [Float](repeating: 0, count: count)
        a.withUnsafeMutableBufferPointer { CalibrationSupport.fillRandom($0, seed: 3) }
        b.withUnsafeMutableBufferPointer { CalibrationSupport.fillRandom($0, seed: 4) }
        let deviceA = try context.buffer(a, access: .readOnly)
        let deviceB = try context.buffer(b, access: .readOnly)
        let deviceC = try context.buffer(bytes: count * 4)
        // Wall time around the call and clFinish: CLBlast's event covers only its last kernel, and on
        // its multi-kernel path (pad, transpose, GEMM, unpad) that alone would claim 100× the true rate.
        func gemm() throws(OpenCLError) -> Double {
            try context.finish()
            return try CalibrationSupport.seconds { () throws(OpenCLError) in
                try CLBlast.sgemm(
                    on: context, m: n, n: n, k: n, a: deviceA, lda: n, b: deviceB, ldb: n, c: deviceC, ldc: n)
                try context.finish()
            }
        }
        if warmUp { _ = try gemm() }  // CLBlast compiles its kernels on first use
        var best = try gemm()
        try verify(context, c: deviceC, a: a, b: b, n: n)
        let minimumSeconds = options.quick ? 0.02 : 1.0
        var total = best
        var repeats = 1
        while repeats < 2 || (total < minimumSeconds && repeats < 50) {
            let seconds = try gemm()
            best = min(best, seconds)
            total += seconds
            repeats += 1
        }
        return GEMMPoint(n: n, gflops: 2 * Double(n) * Double(n) * Double(n) / best / 1e9)
    }

    /// Checks four entries of C = A·B (corners and inside) against host dot products in Double,
    /// so that a broken GEMM is never reported as fast.
    func verify(_ context: OpenCLContext, c: OpenCLBuffer, a: [Float], b: [Float], n: Int) throws {
        for (row, column) in [(0, 0), (n - 1, n - 1), (n / 2, n / 3), (n / 3 + 1, n - 2)] {
            var value: Float = 0
            _ = try withUnsafeMutableBytes(of: &value) { raw throws(OpenCLError) in
                try context.read(c, into: raw, offset: (row * n + column) * 4)
            }
            var reference = 0.0
            var magnitude = 0.0
            for k in 0..<n {
                let product = Double(a[row * n + k]) * Double(b[k * n + column])
                reference += product
                magnitude += abs(product)
            }
            // Float accumulation of n random-signed products errs by far less than this; a wrong
            // GEMM (zeros, garbage, a transposed operand) misses by a large fraction of `magnitude`.
            guard value.isFinite, abs(Double(value) - reference) <= 2e-4 * magnitude + 1e-6 else {
                throw CalibrationError.wrongResult(
                    "CLBlast SGEMM n=\(n) gave C[\(row), \(column)] = \(value), but the host computes \(reference)")
            }
        }
    }
}
