import CapsizeCore
import Compute
import Foundation
import Testing
import Workloads

@Suite struct RenderTests {
    /// The OpenCL device the comparison tests use: a CPU device (PoCL) when there is one.
    static let device: OpenCLDevice? = {
        let devices = (try? OpenCL.devices()) ?? []
        return devices.first { $0.info.kind == .cpu } ?? devices.first
    }()

    // MARK: - OpenCL against the Swift renderer

    @Test(
        "OpenCL frames match the native renderer within 40 dB PSNR",
        .enabled(if: device != nil, "needs an OpenCL device"), .timeLimit(.minutes(1)),
        arguments: [(frame: 0, spp: 1), (frame: 5, spp: 1), (frame: 0, spp: 2), (frame: 5, spp: 2)])
    func openCLMatchesNative(frame: Int, spp: Int) throws {
        let device = try #require(Self.device)
        let (width, height) = (96, 64)
        let renderer = try OpenCLRenderer(device: device, width: width, height: height, spp: spp, detail: 8)
        let openCL = try renderer.render(frame: frame)
        let native = NativeRenderer.render(frame: frame, width: width, height: height, spp: spp, detail: 8)
        let psnr = Self.psnr(openCL.rgba, native.rgba)
        #expect(psnr >= 40, "PSNR \(psnr) dB at frame \(frame), spp \(spp)")
        // The step counts drive the measured FLOPs, so they must agree too (to rounding at silhouettes).
        let ratio = Double(openCL.counts.evaluations) / Double(native.evaluations)
        #expect(
            abs(ratio - 1) < 0.01, "OpenCL \(openCL.counts.evaluations) vs native \(native.evaluations) evaluations")
        #expect(native.evaluations >= UInt64(width * height * spp))
    }

    /// A frame to compare: its size, index, samples per pixel and objects (3: part of a ring; 64: eight).
    struct Shot: Sendable, CustomStringConvertible {
        var width: Int
        var height: Int
        var frame: Int
        var spp: Int
        var detail: Int
        var description: String { "\(width)×\(height) frame \(frame), spp \(spp), detail \(detail)" }
    }

    /// Whether `device` is PoCL, whose exact frames are the native renderer's bytes.
    static func isPoCL(_ device: OpenCLDevice) -> Bool { device.info.platform.contains("Portable Computing Language") }

    @Test(
        "The culled kernel, a pixel or a vector of pixels per work-item, renders the native frames at odd sizes",
        .enabled(if: device != nil, "needs an OpenCL device"), .timeLimit(.minutes(2)),
        arguments: [
            Shot(width: 97, height: 61, frame: 7, spp: 1, detail: 8),
            Shot(width: 33, height: 17, frame: 0, spp: 3, detail: 64),
            Shot(width: 130, height: 75, frame: 13, spp: 1, detail: 3),
        ], [1, 4, 16])
    func culledKernelMatchesNativeAtOddSizes(shot: Shot, lanes: Int) throws {
        let device = try #require(Self.device)
        let renderer = try OpenCLRenderer(
            device: device, width: shot.width, height: shot.height, spp: shot.spp, detail: shot.detail, lanes: lanes)
        let openCL = try renderer.render(frame: shot.frame)
        let native = NativeRenderer.render(
            frame: shot.frame, width: shot.width, height: shot.height, spp: shot.spp, detail: shot.detail)
        let psnr = Self.psnr(openCL.rgba, native.rgba)
        #expect(psnr >= 40, "PSNR \(psnr) dB at \(shot), \(lanes) lanes")
        if Self.isPoCL(device) {
            // Culling skips only objects that cannot be nearest, and lanes compute what one pixel
            // would: the exact kernel's frames and step counts are the oracle's, bit for bit.
            #expect(openCL.rgba == native.rgba, "\(shot), \(lanes) lanes: not bit-identical")
            #expect(openCL.counts.evaluations == native.evaluations)
        }
    }

    @Test(
        "Culling evaluates fewer objects than the plain loop, and the FLOPs count what was evaluated",
        .enabled(if: device != nil, "needs an OpenCL device"), .timeLimit(.minutes(1)))
    func cullingCountsWhatItEvaluates() throws {
        let device = try #require(Self.device)
        let renderer = try OpenCLRenderer(device: device, width: 64, height: 40, spp: 1, detail: 8)
        let counts = try renderer.render(frame: 2).counts
        let native = NativeRenderer.render(frame: 2, width: 64, height: 40, spp: 1, detail: 8)
        #expect(Double(counts.evaluations) / Double(native.evaluations) > 0.99)
        // Every evaluation tests the central object, and the ring's seven where the ring's test keeps
        // them; an object tested may still be culled, never more than all.
        #expect(counts.tests >= counts.evaluations && counts.tests < counts.evaluations * 8)
        #expect(counts.objects > 0 && counts.objects < counts.tests)
        #expect(counts.spheres <= counts.evaluations * 3 && counts.boxes <= counts.evaluations * 3)
        #expect(counts.tori <= counts.evaluations * 2)
        let plain = Double(counts.evaluations) * Double(RenderScene.flopsPerEvaluation(detail: 8))
        #expect(RenderScene.flops(of: counts, detail: 8) < plain)
        // Were everything kept, the count would be the plain loop's plus the tests: the ring's 13 FLOPs,
        // 4 more per sphere (it shares the offset and |q|²) and 9 per box or torus (they share the offset).
        let all = RenderCounts(evaluations: 10, tests: 80, spheres: 30, boxes: 30, tori: 20)
        #expect(RenderScene.flops(of: all, detail: 8) == 10 * Double(169 + 13 + 3 * 4 + 5 * 9))
    }

    @Test(
        "--math fast (FMA contraction, native_sqrt) still matches the native renderer within 40 dB PSNR",
        .enabled(if: device != nil, "needs an OpenCL device"), .timeLimit(.minutes(1)))
    func fastMathIsClose() throws {
        let device = try #require(Self.device)
        let renderer = try OpenCLRenderer(device: device, width: 96, height: 64, spp: 1, detail: 8, fastMath: true)
        let fast = try renderer.render(frame: 3)
        let native = NativeRenderer.render(frame: 3, width: 96, height: 64, spp: 1, detail: 8)
        #expect(Self.psnr(fast.rgba, native.rgba) >= 40)
    }

    @Test("--math accepts exact or fast and names the choices otherwise")
    func mathChoice() throws {
        let error = try #require(throws: InputError.self) {
            try ParameterValues(arguments: ["--math", "approximate"], specs: RenderFrames.parameters)
        }
        #expect(error.field == "math")
        #expect(error.allowed == "one of exact, fast")
        #expect(
            try RenderFrames(
                parameters: ParameterValues(arguments: ["--math", "fast"], specs: RenderFrames.parameters)
            ).fastMath)
    }

    // MARK: - The image itself

    @Test("Frames change with the frame index, and a frame shows sky, ground and coloured objects")
    func framesAnimateAndAreNotFlat() {
        let (width, height) = (64, 40)
        let first = NativeRenderer.render(frame: 0, width: width, height: height, spp: 1, detail: 8).rgba
        let later = NativeRenderer.render(frame: 12, width: width, height: height, spp: 1, detail: 8).rgba
        let changed = stride(from: 0, to: first.count, by: 4).filter { first[$0..<$0 + 3] != later[$0..<$0 + 3] }
        #expect(changed.count > width * height / 20, "only \(changed.count) pixels changed between frames 0 and 12")

        let pixels = stride(from: 0, to: first.count, by: 4).map {
            (Int(first[$0]), Int(first[$0 + 1]), Int(first[$0 + 2]))
        }
        #expect(stride(from: 3, to: first.count, by: 4).allSatisfy { first[$0] == 255 }, "alpha is not opaque")
        let luma = pixels.map { Double($0.0 + $0.1 + $0.2) / 3 }
        let mean = luma.reduce(0, +) / Double(luma.count)
        let variance = luma.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(luma.count)
        #expect(variance > 200, "luma variance \(variance)")
        let topRows = pixels.prefix(width * 4)
        #expect(topRows.contains { $0.2 > 180 && $0.2 > $0.0 + 20 }, "no blue sky in the top rows")
        let bottomRows = pixels.suffix(width * 8)
        let greys = bottomRows.filter { abs($0.0 - $0.1) < 25 && abs($0.1 - $0.2) < 25 }.map { $0.1 }
        #expect((greys.max() ?? 0) - (greys.min() ?? 0) > 40, "no light and dark checkered ground at the bottom")
        #expect(pixels.contains { max($0.0, $0.1, $0.2) - min($0.0, $0.1, $0.2) > 70 }, "no saturated object colour")
    }

    // MARK: - PNG

    /// RGBA pixels: noise (incompressible) or a rendered frame.
    static func pixels(_ kind: String, width: Int, height: Int) -> [UInt8] {
        guard kind == "noise" else {
            return NativeRenderer.render(frame: 3, width: width, height: height, spp: 1, detail: 4).rgba
        }
        var generator = SplitMix64(seed: UInt64(width * 1000 + height))
        return (0..<(width * height * 4)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
    }

    @Test(
        "PNG files have the signature, an RGBA IHDR and valid CRCs, and Python's zlib decodes them to the same pixels",
        arguments: [("noise", 7, 5), ("noise", 130, 131), ("frame", 160, 90)])
    func pngRoundTrips(kind: String, width: Int, height: Int) throws {
        let rgba = Self.pixels(kind, width: width, height: height)
        let file = PNG.encode(rgba: rgba, width: width, height: height)
        #expect(file.count <= PNG.largestEncodedSize(width: width, height: height))
        #expect(Array(file.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])

        var chunks: [(type: String, data: [UInt8])] = []
        var offset = 8
        while offset < file.count {
            let length = Int(Self.bigEndian(file, at: offset))
            let typeAndData = Array(file[(offset + 4)..<(offset + 8 + length)])
            #expect(Self.bitwiseCRC32(typeAndData) == Self.bigEndian(file, at: offset + 8 + length))
            chunks.append((String(decoding: typeAndData.prefix(4), as: UTF8.self), Array(typeAndData.dropFirst(4))))
            offset += 12 + length
        }
        #expect(offset == file.count)
        #expect(chunks.map(\.type) == ["IHDR", "IDAT", "IEND"])
        let header = chunks[0].data
        #expect(Self.bigEndian(header, at: 0) == UInt32(width) && Self.bigEndian(header, at: 4) == UInt32(height))
        #expect(Array(header.suffix(5)) == [8, 6, 0, 0, 0])

        #expect(try Self.decodedByPython(file) == rgba)
        if kind == "frame" { #expect(file.count * 3 < rgba.count, "a rendered frame compresses: \(file.count) bytes") }
    }

    // MARK: - Runs

    /// The host, and the comparison device when there is one.
    static var targets: [ExecutionTarget] { [.host] + (device.map { [.openCL($0)] } ?? []) }

    @Test("A run with --save-frames writes one PNG per frame and reports its metrics", arguments: targets)
    func savesFrames(target: ExecutionTarget) throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("render-tests-\(UUID().uuidString)").appendingPathComponent("frames")
        defer { try? FileManager.default.removeItem(at: directory.deletingLastPathComponent()) }
        let workload = try RenderFrames(width: 32, height: 24, frames: 3, spp: 1, detail: 3)
        let prepared = try workload.prepare(on: target, options: RunOptions(saveFramesDirectory: directory.path))
        let result = try prepared.run()

        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(names == ["frame-00000.png", "frame-00001.png", "frame-00002.png"])
        let first = try Data(contentsOf: directory.appendingPathComponent(names[0]))
        #expect(
            first.count <= PNG.largestEncodedSize(width: 32, height: 24)
                && first.prefix(4) == Data([0x89, 0x50, 0x4E, 0x47]))

        let evaluations = try #require(result.metrics["sdf_evaluations"])
        #expect(evaluations >= Double(32 * 24 * 3))
        let plain = evaluations * Double(RenderScene.flopsPerEvaluation(detail: 3))
        if case .openCL = target {
            // The kernel culls objects: it counts fewer FLOPs, and says how many objects it evaluated.
            #expect(result.flops > 0 && result.flops < plain)
            let objects = try #require(result.metrics["objects_per_evaluation"])
            #expect(objects > 0 && objects < 3)
        } else {
            #expect(result.flops == plain)
        }
        #expect(result.metrics["flops_per_evaluation"] == result.flops / evaluations)
        #expect((result.throughput["frames_per_second"] ?? 0) > 0 && (result.throughput["samples_per_second"] ?? 0) > 0)
        #expect(result.metrics["host_seconds"] != nil && result.checksum.count == 16)
        if case .openCL = target {
            #expect((result.metrics["kernel_seconds"] ?? 0) > 0 && result.metrics["transfer_seconds"] != nil)
            #expect(result.deviceBytes >= UInt64(32 * 24 * 8))
        }
        // A second run of the same prepared workload gives the same frames.
        #expect(try prepared.run().checksum == result.checksum)
    }

    // MARK: - Parameters, devices, estimate

    @Test("Invalid parameters are refused with an InputError naming the field")
    func rejectsInvalidParameters() throws {
        let zeroWidth = #expect(throws: InputError.self) { try RenderFrames(width: 0) }
        #expect(zeroWidth?.field == "width")
        let text = #expect(throws: InputError.self) {
            try ParameterValues(arguments: ["--width", "abc"], specs: RenderFrames.parameters)
        }
        #expect(text?.field == "width" && text?.value == "abc")
        let samples = #expect(throws: InputError.self) { try RenderFrames(spp: 1000) }
        #expect(samples?.field == "spp" && samples?.allowed == "an integer in 1...256")
        let workload = try RenderFrames(
            parameters: ParameterValues(arguments: ["--frames=3"], specs: RenderFrames.parameters))
        #expect(workload.frames == 3 && workload.width == 320 && workload.detail == 8)
    }

    @Test("Devices resolve: native to the host, cpu to an OpenCL CPU device, a missing opencl:N to an error")
    func resolvesDevices() throws {
        let workload = try RenderFrames()
        let devices = (try? OpenCL.devices()) ?? []
        #expect(try workload.resolve(.native, devices: devices).label == "native")
        #expect(try workload.resolve(.cpu, devices: []).label == "native")
        if let cpu = devices.first(where: { $0.info.kind == .cpu }) {
            #expect(try workload.resolve(.cpu, devices: devices).label == "opencl:\(cpu.info.index)")
        }
        let missing = #expect(throws: InputError.self) { try workload.resolve(.openCL(99), devices: devices) }
        #expect(missing?.field == "device")
    }

    @Test("The estimate's FLOPs and bytes scale linearly with frames; memory does not")
    func estimateScalesWithFrames() throws {
        let four = try RenderFrames(frames: 4).estimate
        let eight = try RenderFrames(frames: 8).estimate
        #expect(eight.flops == 2 * four.flops && eight.bytes == 2 * four.bytes)
        #expect(eight.hostBytes == four.hostBytes && eight.deviceBytes == four.deviceBytes)
        // The largest buffer holds the kernel's five work counters per pixel.
        #expect(four.largestDeviceBuffer == 320 * 180 * 20 && four.deviceBytes > four.largestDeviceBuffer)
        #expect(RenderScene.flopsPerEvaluation(detail: 8) == 169)
        let perFrame = 320.0 * 180 * RenderFrames.expectedEvaluationsPerSample * 169
        #expect(four.flops == 4 * perFrame)
        #expect(try RenderFrames(frames: 4, detail: 16).estimate.flops > four.flops)
    }

    // MARK: - Helpers (independent of the code under test)

    static func psnr(_ a: [UInt8], _ b: [UInt8]) -> Double {
        precondition(a.count == b.count)
        var sum = 0.0
        var count = 0
        for index in a.indices where index % 4 != 3 {
            let difference = Double(a[index]) - Double(b[index])
            sum += difference * difference
            count += 1
        }
        let mse = sum / Double(count)
        return mse == 0 ? .infinity : 10 * log10(255 * 255 / mse)
    }

    static func bigEndian(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | UInt32($1) }
    }

    static func bitwiseCRC32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    /// A PNG decoder independent of capsize's encoder: Python's zlib and struct, every filter type undone.
    static let pythonDecoder = """
        import struct, sys, zlib
        data = open(sys.argv[1], 'rb').read()
        assert data[:8] == b'\\x89PNG\\r\\n\\x1a\\n'
        pos, idat = 8, b''
        while pos < len(data):
            n, kind = struct.unpack('>I4s', data[pos:pos + 8])
            body = data[pos + 8:pos + 8 + n]
            assert struct.unpack('>I', data[pos + 8 + n:pos + 12 + n])[0] == zlib.crc32(kind + body)
            if kind == b'IHDR':
                width, height, depth, colour = struct.unpack('>IIBB', body[:10])
            if kind == b'IDAT':
                idat += body
            pos += 12 + n
        assert (depth, colour) == (8, 6)
        raw, stride = zlib.decompress(idat), width * 4
        out, previous = bytearray(), bytearray(stride)
        for y in range(height):
            kind, row = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
            for i in range(stride):
                a, b, c = row[i - 4] if i >= 4 else 0, previous[i], previous[i - 4] if i >= 4 else 0
                p = a + b - c
                paeth = a if abs(p - a) <= abs(p - b) and abs(p - a) <= abs(p - c) else b if abs(p - b) <= abs(p - c) else c
                row[i] = (row[i] + [0, a, b, (a + b) // 2, paeth][kind]) & 255
            out += row
            previous = row
        sys.stdout.buffer.write(out)
        """

    struct DecodeError: Error, CustomStringConvertible {
        var description: String
    }

    /// The RGBA pixels of `file` as `pythonDecoder` reads them.
    static func decodedByPython(_ file: [UInt8]) throws -> [UInt8] {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("png-\(UUID().uuidString).png")
        try Data(file).write(to: path)
        defer { try? FileManager.default.removeItem(at: path) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", pythonDecoder, path.path]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let pixels = output.fileHandleForReading.readDataToEndOfFile()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw DecodeError(
                description: "python3 could not decode the PNG: " + String(decoding: message, as: UTF8.self))
        }
        return Array(pixels)
    }
}
