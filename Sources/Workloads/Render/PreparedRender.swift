import CapsizeCore
import Foundation

/// `render-frames` on an OpenCL device: frames in a pipeline of two, so that the device renders frame
/// f + 1 while the host checksums (and saves) frame f.
final class PreparedOpenCLRender: PreparedWorkload {
    private let workload: RenderFrames
    private let renderer: OpenCLRenderer
    private let saver: FrameSaver?

    init(workload: RenderFrames, renderer: OpenCLRenderer, saver: FrameSaver?) {
        self.workload = workload
        self.renderer = renderer
        self.saver = saver
    }

    /// Renders every frame; kernel and transfer seconds come from profiling events, host seconds
    /// (scene set-up, checksums, PNG files, waiting) are the rest of the wall time.
    func run() throws -> RunResult {
        let clock = ContinuousClock()
        let start = clock.now
        var kernelSeconds = 0.0
        var transferSeconds = 0.0
        var counts = RenderCounts()
        var checksum = FNV1a()
        var framesSinceCounterRead = 0
        var inFlight: (frame: Int, pending: OpenCLRenderer.PendingFrame)?
        for frame in 0...workload.frames {
            // Enqueue this frame, then take the previous one while the device renders.
            let next =
                frame < workload.frames
                ? (frame, try renderer.enqueue(frame: frame, accumulate: framesSinceCounterRead > 0)) : nil
            if next != nil { framesSinceCounterRead += 1 }
            if let (previous, pending) = inFlight {
                let finished = try renderer.finish(pending)
                kernelSeconds += finished.timing.kernelSeconds
                transferSeconds += finished.timing.transferSeconds
                FrameDigest.add(finished.rgba, to: &checksum)
                try saver?.save(Array(finished.rgba), frame: previous)
            }
            inFlight = next
            if framesSinceCounterRead == renderer.framesPerCounterRead || frame == workload.frames - 1 {
                let counted = try renderer.readCounts()
                counts = counts + counted.counts
                transferSeconds += counted.transferSeconds
                framesSinceCounterRead = 0
            }
        }
        let wall = (clock.now - start).seconds
        return workload.result(
            seconds: wall, evaluations: counts.evaluations,
            flops: RenderScene.flops(of: counts, detail: workload.detail), checksum: checksum,
            metrics: [
                "kernel_seconds": kernelSeconds, "transfer_seconds": transferSeconds,
                "host_seconds": max(0, wall - kernelSeconds - transferSeconds),
                "objects_per_evaluation": Double(counts.objects) / Double(max(1, counts.evaluations)),
                "lanes": Double(renderer.lanes),
            ],
            deviceBytes: UInt64(renderer.deviceBytes), notes: [])
    }
}

/// `render-frames` on the host with the Swift renderer, rows in parallel.
final class PreparedNativeRender: PreparedWorkload {
    private let workload: RenderFrames
    private let saver: FrameSaver?

    init(workload: RenderFrames, saver: FrameSaver?) {
        self.workload = workload
        self.saver = saver
    }

    func run() throws -> RunResult {
        let clock = ContinuousClock()
        let start = clock.now
        var evaluations: UInt64 = 0
        var checksum = FNV1a()
        for frame in 0..<workload.frames {
            let rendered = NativeRenderer.render(
                frame: frame, width: workload.width, height: workload.height, spp: workload.spp,
                detail: workload.detail)
            evaluations += rendered.evaluations
            rendered.rgba.withUnsafeBytes { FrameDigest.add($0, to: &checksum) }
            try saver?.save(rendered.rgba, frame: frame)
        }
        let wall = (clock.now - start).seconds
        return workload.result(
            seconds: wall, evaluations: evaluations,
            flops: Double(evaluations) * Double(RenderScene.flopsPerEvaluation(detail: workload.detail)),
            checksum: checksum, metrics: ["host_seconds": wall],
            deviceBytes: 0, notes: ["rendered by the native Swift renderer on the host CPU (no OpenCL)"])
    }
}

/// The run's checksum over its frames: FNV-1a of each 256 KiB chunk of a frame, the chunks hashed
/// in parallel, then the chunk digests folded in order into the run's FNV-1a.
///
/// Byte-serial FNV-1a runs at about 1 GB/s, which on a GPU costs more than rendering the frame
/// (measured on an H200 at 3840×2160: 1.1 s of hashing against 0.13 s of kernels for 24 frames);
/// fixed-size chunks keep the digest independent of the number of cores.
enum FrameDigest {
    static let chunkBytes = 256 * 1024

    static func add(_ frame: UnsafeRawBufferPointer, to checksum: inout FNV1a) {
        let chunks = (frame.count + chunkBytes - 1) / chunkBytes
        guard chunks > 1 else {
            var digest = FNV1a()
            digest.add(frame)
            checksum.add(digest.value)
            return
        }
        var digests = [UInt64](repeating: 0, count: chunks)
        digests.withUnsafeMutableBufferPointer { digests in
            let shared = Shared(frame: frame, digests: digests)
            DispatchQueue.concurrentPerform(iterations: chunks) { index in
                let start = index * chunkBytes
                let end = min(start + chunkBytes, shared.frame.count)
                var digest = FNV1a()
                digest.add(UnsafeRawBufferPointer(rebasing: shared.frame[start..<end]))
                shared.digests[index] = digest.value
            }
        }
        for digest in digests { checksum.add(digest) }
    }

    private struct Shared: @unchecked Sendable {  // tasks read the frame and each writes only its own digest.
        let frame: UnsafeRawBufferPointer
        let digests: UnsafeMutableBufferPointer<UInt64>
    }
}

/// Writes frames as `frame-00000.png`, `frame-00001.png`, ... into a directory.
struct FrameSaver {
    let directory: URL
    let width: Int
    let height: Int

    /// Creates `directory` (and its parents) if needed.
    /// - Throws: `InputError` naming the setting `saveFrames` when the path is empty (which would be the current
    ///   directory) or the directory cannot be created.
    init(directory path: String, width: Int, height: Int) throws(InputError) {
        guard !path.isEmpty else {
            throw InputError(setting: "saveFrames", value: "", allowed: "a directory to write the frames into")
        }
        directory = URL(fileURLWithPath: path, isDirectory: true)
        self.width = width
        self.height = height
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw InputError(
                setting: "saveFrames", value: path, allowed: "a directory capsize can create and write (\(error))")
        }
    }

    /// The file frame `frame` is written to.
    func url(frame: Int) -> URL { directory.appendingPathComponent(String(format: "frame-%05d.png", frame)) }

    /// Encodes and writes one frame.
    /// - Throws: `InputError` naming the file when it cannot be written.
    func save(_ rgba: [UInt8], frame: Int) throws(InputError) {
        let file = url(frame: frame)
        do {
            try Data(PNG.encode(rgba: rgba, width: width, height: height)).write(to: file)
        } catch {
            throw InputError(setting: "saveFrames", value: file.path, allowed: "a writable file (\(error))")
        }
    }
}
