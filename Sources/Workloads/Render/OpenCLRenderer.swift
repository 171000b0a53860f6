import CapsizeCore
public import Compute

/// The `render` kernel of `kernels/render.cl` on one OpenCL device, with its frame and
/// evaluation-counter buffers, built once and reused for every frame.
public final class OpenCLRenderer {
    /// The device the frames are rendered on.
    public var device: OpenCLDevice { context.device }
    public let width: Int
    public let height: Int
    public let spp: Int
    public let detail: Int
    private let context: OpenCLContext
    private let kernel: OpenCLKernel
    private let frameBuffer: OpenCLBuffer
    private let counterBuffer: OpenCLBuffer
    private let sceneBuffer: OpenCLBuffer
    private let local: [Int]?

    /// Bytes of device memory the renderer holds.
    public var deviceBytes: Int { frameBuffer.bytes + counterBuffer.bytes + sceneBuffer.bytes }

    /// What rendering one frame took on the device.
    public struct FrameTiming: Sendable {
        /// Seconds the kernel ran, from its profiling event.
        public var kernelSeconds: Double
        /// Seconds the scene upload and the frame read-back took, from their profiling events.
        public var transferSeconds: Double
    }

    /// Creates a context on `device`, builds `render.cl` and allocates the buffers.
    /// - Parameters:
    ///   - kernelsDirectory: a directory whose `render.cl` replaces the embedded one.
    /// - Throws: `InputError` when the kernels directory lacks `render.cl`; `OpenCLError` from the driver
    ///   (with the build log when the program does not compile).
    ///   - fastMath: build with `-cl-fast-relaxed-math`, FMA contraction and `native_sqrt`; otherwise the
    ///     frames match the Swift renderer to rounding (bit for bit on PoCL).
    public init(
        device: OpenCLDevice, width: Int, height: Int, spp: Int, detail: Int, fastMath: Bool = false,
        kernelsDirectory: String? = nil
    ) throws {
        let source = try Kernels.require("render.cl", overrideDirectory: kernelsDirectory)
        context = try OpenCLContext(device: device)
        let program = try context.program(
            source: source, options: fastMath ? "-DCAPSIZE_FAST_MATH -cl-fast-relaxed-math -cl-mad-enable" : "")
        kernel = try program.kernel("render")
        self.width = width
        self.height = height
        self.spp = spp
        self.detail = detail
        frameBuffer = try context.buffer(bytes: width * height * 4, access: .writeOnly)
        counterBuffer = try context.buffer(bytes: width * height * 4)
        sceneBuffer = try context.buffer(
            bytes: (RenderScene.headerFloats + detail * RenderScene.objectFloats) * 4, access: .readOnly)
        local = device.info.maxWorkGroupSize >= 64 ? [8, 8] : nil
    }

    /// Renders frame `frame` into `rgba` (which must hold `width * height * 4` bytes).
    /// - Parameters:
    ///   - accumulate: add this frame's SDF evaluations to the counters instead of restarting them.
    /// - Returns: the kernel and transfer seconds from the profiling events.
    /// - Throws: `OpenCLError` from the driver.
    @discardableResult
    public func render(frame: Int, into rgba: UnsafeMutableRawBufferPointer, accumulate: Bool) throws -> FrameTiming {
        precondition(rgba.count == width * height * 4, "frame buffer of the wrong size")
        let scene = RenderScene.packed(frame: frame, detail: detail)
        let upload = try scene.withUnsafeBytes { bytes throws(OpenCLError) in
            try context.write(sceneBuffer, from: bytes)
        }
        try kernel.set(
            .buffer(frameBuffer), .buffer(counterBuffer), .buffer(sceneBuffer), .int(Int32(width)),
            .int(Int32(height)), .int(Int32(spp)), .int(accumulate ? 1 : 0))
        let global: [Int]
        if let local {
            global = [(width + local[0] - 1) / local[0] * local[0], (height + local[1] - 1) / local[1] * local[1]]
        } else {
            global = [width, height]
        }
        let run = try context.enqueue(kernel, global: global, local: local)
        let readBack = try context.read(frameBuffer, into: rgba)
        return FrameTiming(
            kernelSeconds: try run.seconds(), transferSeconds: try upload.seconds() + readBack.seconds())
    }

    /// Reads the per-pixel SDF evaluation counters and sums them.
    /// - Returns: the sum and the transfer seconds of the read.
    /// - Throws: `OpenCLError` from the driver.
    public func readEvaluations() throws -> (evaluations: UInt64, transferSeconds: Double) {
        var counters = [UInt32](repeating: 0, count: width * height)
        let event = try counters.withUnsafeMutableBytes { bytes throws(OpenCLError) in
            try context.read(counterBuffer, into: bytes)
        }
        var total: UInt64 = 0
        for count in counters { total += UInt64(count) }
        return (total, try event.seconds())
    }

    /// Renders one frame into a new array, with its SDF evaluations: the shape the tests compare
    /// against `NativeRenderer.render`.
    /// - Throws: `OpenCLError` from the driver.
    public func render(frame: Int) throws -> (rgba: [UInt8], evaluations: UInt64) {
        var rgba = [UInt8](repeating: 0, count: width * height * 4)
        try rgba.withUnsafeMutableBytes { bytes in _ = try render(frame: frame, into: bytes, accumulate: false) }
        return (rgba, try readEvaluations().evaluations)
    }

    /// Frames that may accumulate into the 32-bit counters before they must be read back.
    var framesPerCounterRead: Int {
        max(1, Int(UInt32.max) / (spp * RenderScene.maxEvaluationsPerSample))
    }
}
