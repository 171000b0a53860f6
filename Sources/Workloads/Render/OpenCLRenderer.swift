import CapsizeCore
public import Compute

/// The `render` kernel of `kernels/render.cl` on one OpenCL device, with its frame and
/// counter buffers, built once and reused for every frame.
///
/// The kernel's shape is chosen per device: a CPU device gets one work-item per tile of `lanes`
/// pixels held in OpenCL vectors of its preferred float width (16 on AVX-512: the SIMD width PoCL
/// compiles to), a GPU one pixel per work-item in work-groups of a few warps
/// (`CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE`).
public final class OpenCLRenderer {
    /// The device the frames are rendered on.
    public var device: OpenCLDevice { context.device }
    public let width: Int
    public let height: Int
    public let spp: Int
    public let detail: Int
    /// Pixels per work-item, one per vector lane.
    public let lanes: Int
    /// The tile of pixels one work-item renders: `tile.width * tile.height == lanes`.
    public let tile: (width: Int, height: Int)
    /// The work-group size, in work-items (tiles), or nil where the driver chooses.
    public let workGroup: [Int]?
    private let context: OpenCLContext
    private let kernel: OpenCLKernel
    private let counterBuffer: OpenCLBuffer
    /// Two of each, used in turn, so that frame f + 1 renders while the host takes frame f.
    private let slots: [Slot]
    private var nextSlot = 0

    /// The device buffers of one frame in flight, and the host memory its scene comes from and its
    /// pixels go to (allocated here: a non-blocking copy needs memory that outlives the call).
    private struct Slot {
        let frame: OpenCLBuffer
        let scene: OpenCLBuffer
        let hostFrame: UnsafeMutableRawBufferPointer
        let hostScene: UnsafeMutableBufferPointer<Float>
    }

    /// Bytes of device memory the renderer holds.
    public var deviceBytes: Int { counterBuffer.bytes + slots.map { $0.frame.bytes + $0.scene.bytes }.reduce(0, +) }

    /// Work counters per pixel, 32 bits each, in planes of `width * height`: evaluations, objects
    /// tested, spheres, boxes and tori (`COUNTERS` in the kernel).
    static let countersPerPixel = 5

    /// The lane counts the kernel compiles for.
    public static let supportedLanes = [1, 2, 4, 8, 16]

    /// What rendering one frame took on the device.
    public struct FrameTiming: Sendable {
        /// Seconds the kernel ran, from its profiling event.
        public var kernelSeconds: Double
        /// Seconds the scene upload and the frame read-back took, from their profiling events.
        public var transferSeconds: Double
    }

    /// Creates a context on `device`, builds `render.cl` and allocates the buffers.
    /// - Parameters:
    ///   - fastMath: build with `-cl-fast-relaxed-math`, FMA contraction and `native_sqrt`; otherwise the
    ///     frames match the Swift renderer to rounding (bit for bit on PoCL).
    ///   - lanes: pixels per work-item (1, 2, 4, 8 or 16); nil chooses per device: the preferred float
    ///     vector width on a CPU, 1 elsewhere.
    ///   - workGroup: the work-group size in work-items; nil chooses per device.
    ///   - kernelsDirectory: a directory whose `render.cl` replaces the embedded one.
    /// - Throws: `InputError` when the kernels directory lacks `render.cl`; `OpenCLError` from the driver
    ///   (with the build log when the program does not compile).
    public init(
        device: OpenCLDevice, width: Int, height: Int, spp: Int, detail: Int, fastMath: Bool = false,
        lanes: Int? = nil, workGroup: [Int]? = nil, kernelsDirectory: String? = nil
    ) throws {
        let source = try Kernels.require("render.cl", overrideDirectory: kernelsDirectory)
        let lanes = lanes ?? Self.lanes(for: device)
        precondition(Self.supportedLanes.contains(lanes), "lanes must be one of \(Self.supportedLanes)")
        // Square-ish tiles: the lanes of a vector march neighbouring rays, which stop at similar steps.
        let tileWidth = lanes >= 8 ? 4 : lanes >= 2 ? 2 : 1
        tile = (tileWidth, lanes / tileWidth)
        self.lanes = lanes
        context = try OpenCLContext(device: device)
        var options = "-DLANES=\(lanes) -DTILE_W=\(tileWidth)"
        if fastMath { options += " -DCAPSIZE_FAST_MATH -cl-fast-relaxed-math -cl-mad-enable" }
        let program = try context.program(source: source, options: options)
        kernel = try program.kernel("render")
        self.width = width
        self.height = height
        self.spp = spp
        self.detail = detail
        counterBuffer = try context.buffer(bytes: width * height * Self.countersPerPixel * 4)
        let sceneFloats = RenderScene.floats(detail: detail)
        var slots: [Slot] = []
        for _ in 0..<2 {
            let frame = try context.buffer(bytes: width * height * 4, access: .writeOnly)
            let scene = try context.buffer(bytes: sceneFloats * 4, access: .readOnly)
            let hostFrame = UnsafeMutableRawBufferPointer.allocate(byteCount: width * height * 4, alignment: 64)
            let hostScene = UnsafeMutableBufferPointer<Float>.allocate(capacity: sceneFloats)
            slots.append(Slot(frame: frame, scene: scene, hostFrame: hostFrame, hostScene: hostScene))
        }
        self.slots = slots
        self.workGroup = try workGroup ?? Self.workGroup(for: device, kernel: kernel)
        try warmUp()
    }

    /// Launches the kernel once over an empty frame (every lane outside it returns at once): PoCL
    /// compiles a kernel's code for a work-group size at its first launch with that size, which took
    /// 1–2 s on the dev machine, and that belongs to setting up, not to the first frame.
    private func warmUp() throws {
        let slot = slots[0]
        try kernel.set(
            .buffer(slot.frame), .buffer(counterBuffer), .buffer(slot.scene), .int(0), .int(0), .int(1), .int(0))
        try context.enqueue(kernel, global: workGroup ?? [1, 1], local: workGroup).wait()
    }

    deinit {
        // Nothing may still be copying into or out of the host memory.
        try? context.finish()
        for slot in slots {
            slot.hostFrame.deallocate()
            slot.hostScene.deallocate()
        }
    }

    /// Pixels per work-item on `device`: its preferred float vector width on a CPU (the kernel's vectors
    /// are then the cores' SIMD registers), one pixel per work-item on a GPU, whose warps are the vectors.
    public static func lanes(for device: OpenCLDevice) -> Int {
        guard device.info.kind == .cpu else { return 1 }
        return supportedLanes.last { $0 <= device.preferredFloatVectorWidth } ?? 1
    }

    /// The work-group size on `device`: on a GPU two of the kernel's preferred multiples (two warps),
    /// 8 work-items wide, so that a warp covers an 8 × 4 block of pixels whose rays stop together; on a
    /// CPU 2 × 2 tiles (8 × 8 pixels with 16 lanes): many small work-groups, which PoCL deals out to its
    /// threads evenly, each large enough that the per-group overhead does not show (measured on PoCL
    /// 3.1, 2 cores: 1 × 1 and 2 × 2 were fastest, 4 × 4 and the driver's choice 10–30 % slower).
    static func workGroup(for device: OpenCLDevice, kernel: OpenCLKernel) throws(OpenCLError) -> [Int]? {
        let sizes = try kernel.workGroupSizes()
        guard device.info.kind == .gpu else { return sizes.largest >= 4 ? [2, 2] : nil }
        let items = min(sizes.largest, 2 * sizes.preferredMultiple)
        guard items >= 8 else { return nil }
        return [8, items / 8]
    }

    /// A frame enqueued on the device: its scene upload, kernel and read-back, in one of the two slots.
    public struct PendingFrame {
        fileprivate let slot: Int
        fileprivate let upload: OpenCLEvent
        fileprivate let run: OpenCLEvent
        fileprivate let readBack: OpenCLEvent
    }

    /// Enqueues frame `frame` (scene upload, kernel, read-back) without waiting for it. Frames use the
    /// two slots in turn: `finish` a frame before enqueueing the second frame after it.
    /// - Parameters:
    ///   - accumulate: add this frame's counts to the counters instead of restarting them.
    /// - Throws: `OpenCLError` from the driver.
    public func enqueue(frame: Int, accumulate: Bool) throws -> PendingFrame {
        let index = nextSlot
        nextSlot = 1 - nextSlot
        let slot = slots[index]
        let scene = RenderScene.packed(frame: frame, detail: detail)
        _ = slot.hostScene.initialize(from: scene)
        let upload = try context.write(slot.scene, from: UnsafeRawBufferPointer(slot.hostScene), blocking: false)
        try kernel.set(
            .buffer(slot.frame), .buffer(counterBuffer), .buffer(slot.scene), .int(Int32(width)),
            .int(Int32(height)), .int(Int32(spp)), .int(accumulate ? 1 : 0))
        let tiles = [(width + tile.width - 1) / tile.width, (height + tile.height - 1) / tile.height]
        let global = workGroup.map { local in (0..<2).map { (tiles[$0] + local[$0] - 1) / local[$0] * local[$0] } }
        let run = try context.enqueue(kernel, global: global ?? tiles, local: workGroup)
        let readBack = try context.read(slot.frame, into: slot.hostFrame, blocking: false)
        return PendingFrame(slot: index, upload: upload, run: run, readBack: readBack)
    }

    /// Waits for a frame enqueued by `enqueue`.
    /// - Returns: its RGBA pixels (valid until the slot's next frame is enqueued) and the kernel and
    ///   transfer seconds from the profiling events.
    /// - Throws: `OpenCLError` from the driver.
    public func finish(_ pending: PendingFrame) throws -> (rgba: UnsafeRawBufferPointer, timing: FrameTiming) {
        let timing = FrameTiming(
            kernelSeconds: try pending.run.seconds(),
            transferSeconds: try pending.upload.seconds() + pending.readBack.seconds())
        return (UnsafeRawBufferPointer(slots[pending.slot].hostFrame), timing)
    }

    /// Renders frame `frame` into `rgba` (which must hold `width * height * 4` bytes) and waits for it.
    /// - Parameters:
    ///   - accumulate: add this frame's counts to the counters instead of restarting them.
    /// - Returns: the kernel and transfer seconds from the profiling events.
    /// - Throws: `OpenCLError` from the driver.
    @discardableResult
    public func render(frame: Int, into rgba: UnsafeMutableRawBufferPointer, accumulate: Bool) throws -> FrameTiming {
        precondition(rgba.count == width * height * 4, "frame buffer of the wrong size")
        let finished = try finish(try enqueue(frame: frame, accumulate: accumulate))
        rgba.copyMemory(from: finished.rgba)
        return finished.timing
    }

    /// Reads the per-pixel counters and sums them.
    /// - Returns: the sums and the transfer seconds of the read.
    /// - Throws: `OpenCLError` from the driver.
    public func readCounts() throws -> (counts: RenderCounts, transferSeconds: Double) {
        let pixels = width * height
        var counters = [UInt32](repeating: 0, count: pixels * Self.countersPerPixel)
        let event = try counters.withUnsafeMutableBytes { bytes throws(OpenCLError) in
            try context.read(counterBuffer, into: bytes)
        }
        var sums = [UInt64](repeating: 0, count: Self.countersPerPixel)
        for field in 0..<Self.countersPerPixel {
            for count in counters[(field * pixels)..<((field + 1) * pixels)] { sums[field] += UInt64(count) }
        }
        return (RenderCounts(sums), try event.seconds())
    }

    /// Renders one frame into a new array, with its counts: the shape the tests compare against
    /// `NativeRenderer.render`.
    /// - Throws: `OpenCLError` from the driver.
    public func render(frame: Int) throws -> (rgba: [UInt8], counts: RenderCounts) {
        var rgba = [UInt8](repeating: 0, count: width * height * 4)
        try rgba.withUnsafeMutableBytes { bytes in _ = try render(frame: frame, into: bytes, accumulate: false) }
        return (rgba, try readCounts().counts)
    }

    /// Frames that may accumulate into the 32-bit counters before they must be read back: each grows
    /// by at most `detail` per evaluation.
    var framesPerCounterRead: Int {
        max(1, Int(UInt32.max) / (spp * RenderScene.maxEvaluationsPerSample * max(1, detail)))
    }
}
