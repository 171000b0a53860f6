public import CapsizeCore
public import Compute

/// `render-frames`: renders an animated ray-marched scene (signed distance fields, sun light with
/// soft shadows, ambient occlusion) into RGBA8 frames with `kernels/render.cl` on an OpenCL device,
/// or with `NativeRenderer` on the host when no OpenCL device is wanted or present.
public struct RenderFrames: Workload {
    public static let name = "render-frames"
    public static let summary =
        "Ray-march an animated 3D scene (SDFs, soft shadows, ambient occlusion) into RGBA frames"
    public static let sizeParameter = "frames"
    /// Ray marching is FP32 arithmetic without GEMM: compare with the device's FMA rate.
    public static let peak = PeakKind.fma
    public static let parameters: [ParameterSpec] = [
        ParameterSpec("width", .integer(16...7680), default: "320", help: "Frame width in pixels."),
        ParameterSpec("height", .integer(16...4320), default: "180", help: "Frame height in pixels."),
        ParameterSpec(
            "frames", .integer(1...1_000_000), default: "8", help: "Frames to render (24 per second of animation)."),
        ParameterSpec("spp", .integer(1...256), default: "1", help: "Samples per pixel (jittered, averaged)."),
        ParameterSpec(
            "detail", .integer(1...64), default: "8", help: "Objects in the scene: the cost of one SDF evaluation."),
        ParameterSpec(
            "math", .choice(["exact", "fast"]), default: "exact",
            help: "OpenCL arithmetic: exact (IEEE, no fused multiply-add; matches the native renderer bit for bit "
                + "on PoCL) or fast (-cl-fast-relaxed-math, FMA contraction, native_sqrt)."),
    ]

    /// SDF evaluations one sample is expected to make, for the analytical estimate: primary-ray
    /// steps (at most 128), plus for a hit 4 for the normal, up to 32 shadow steps and 5 occlusion
    /// taps (at most 169 in all).
    ///
    /// Measured with both renderers (they agree exactly) at 320×180, frames 0–7: 54.2 per sample at
    /// detail 1, 53.7 at detail 8, 45.3 at detail 64 (more objects end more rays early), so the
    /// estimate is high by up to 20 % at the largest detail. Runs report the measured count.
    public static let expectedEvaluationsPerSample = 54.0

    public let width: Int
    public let height: Int
    public let frames: Int
    public let spp: Int
    public let detail: Int
    /// Fast OpenCL arithmetic (`--math fast`); the native renderer is always exact.
    public let fastMath: Bool

    public init(parameters: ParameterValues) throws(InputError) {
        fastMath = parameters.string("math") == "fast"
        width = parameters.int("width")
        height = parameters.int("height")
        frames = parameters.int("frames")
        spp = parameters.int("spp")
        detail = parameters.int("detail")
    }

    /// Builds the workload from numbers, validated like command-line values.
    /// - Throws: `InputError` naming the first parameter out of range.
    public init(
        width: Int = 320, height: Int = 180, frames: Int = 8, spp: Int = 1, detail: Int = 8, fastMath: Bool = false
    ) throws(InputError) {
        var given = ["width": width, "height": height, "frames": frames, "spp": spp, "detail": detail].mapValues {
            String($0)
        }
        given["math"] = fastMath ? "fast" : "exact"
        try self.init(parameters: ParameterValues(given, specs: Self.parameters))
    }

    var pixels: Int { width * height }

    /// Bytes of the per-frame scene description (camera, sun, objects) uploaded to the device.
    var sceneBytes: Int { RenderScene.floats(detail: detail) * 4 }

    /// The analytical costs of the plain algorithm (every object at every evaluation, as the native
    /// renderer does); the OpenCL kernel culls objects and reports what it evaluated.
    public var estimate: ResourceEstimate {
        let frameBytes = UInt64(pixels) * 4
        // Five work counters per pixel, 32 bits each (OpenCLRenderer).
        let counterBytes = UInt64(pixels) * 20
        let samples = Double(pixels) * Double(spp) * Double(frames)
        let flops =
            samples * Self.expectedEvaluationsPerSample * Double(RenderScene.flopsPerEvaluation(detail: detail))
        // Per frame: the kernel writes the frame and reads and writes the counters; the host reads the frame.
        let bytes = Double(frames) * Double(pixels) * Double(4 + 2 * 20 + 4)
        let pngBytes = UInt64(PNG.largestEncodedSize(width: width, height: height))
        // Two frames in flight: two frame and scene buffers on the device and two frames on the host.
        return ResourceEstimate(
            flops: flops, bytes: bytes,
            hostBytes: 2 * frameBytes + counterBytes + pngBytes,
            deviceBytes: 2 * frameBytes + counterBytes + 2 * UInt64(sceneBytes),
            largestDeviceBuffer: counterBytes)
    }

    /// `native` renders on the host; `cpu` uses an OpenCL CPU device (PoCL) when one exists, else the host;
    /// `gpu` and `opencl:N` name an OpenCL device; `auto` takes a GPU if present, else follows `cpu`.
    public func resolve(_ selector: DeviceSelector, devices: [OpenCLDevice]) throws(InputError) -> ExecutionTarget {
        switch selector {
        case .native:
            return .host
        case .cpu:
            return Self.cpuTarget(devices)
        case .gpu, .openCL:
            guard let device = try selector.openCLDevice(in: devices) else { return Self.cpuTarget(devices) }
            return .openCL(device)
        case .auto:
            if let gpu = try selector.openCLDevice(in: devices) { return .openCL(gpu) }
            return Self.cpuTarget(devices)
        }
    }

    private static func cpuTarget(_ devices: [OpenCLDevice]) -> ExecutionTarget {
        if let cpu = devices.first(where: { $0.info.kind == .cpu }) { return .openCL(cpu) }
        return .host
    }

    public func prepare(on target: ExecutionTarget, options: RunOptions) throws -> any PreparedWorkload {
        try estimate.checkFits(on: target, sizeParameter: "width", sizeValue: String(width))
        let saver = try options.saveFramesDirectory.map { directory throws(InputError) in
            try FrameSaver(directory: directory, width: width, height: height)
        }
        switch target {
        case .host:
            return PreparedNativeRender(workload: self, saver: saver)
        case .openCL(let device):
            let renderer = try OpenCLRenderer(
                device: device, width: width, height: height, spp: spp, detail: detail, fastMath: fastMath,
                kernelsDirectory: options.kernelsDirectory)
            return PreparedOpenCLRender(workload: self, renderer: renderer, saver: saver)
        }
    }

    /// The metrics and throughput both renderers report.
    /// - Parameters:
    ///   - flops: the FLOPs the renderer evaluated: every object of every evaluation for the native
    ///     renderer, what culling left for the OpenCL kernel (`RenderScene.flops(of:detail:)`).
    func result(
        seconds: Double, evaluations: UInt64, flops: Double, checksum: FNV1a, metrics extra: [String: Double],
        deviceBytes: UInt64, notes: [String]
    ) -> RunResult {
        let samples = Double(pixels) * Double(spp) * Double(frames)
        var metrics = extra
        metrics["sdf_evaluations"] = Double(evaluations)
        metrics["evaluations_per_sample"] = Double(evaluations) / samples
        metrics["flops_per_evaluation"] = evaluations > 0 ? flops / Double(evaluations) : 0
        return RunResult(
            seconds: seconds, flops: flops, metrics: metrics,
            checksum: checksum.hex, deviceBytes: deviceBytes,
            throughput: [
                "frames_per_second": seconds > 0 ? Double(frames) / seconds : 0,
                "samples_per_second": seconds > 0 ? samples / seconds : 0,
            ],
            notes: notes)
    }
}
