import Testing

@testable import Compute

@Suite(.enabled(if: Fixture.hasOpenCL, "needs an OpenCL device"))
struct OpenCLWrapperTests {
    @Test("a kernel with a syntax error fails in clBuildProgram with a build log naming the offending identifier")
    func buildFailureCarriesLog() throws {
        let context = try OpenCLContext(device: Fixture.device())
        let source = "kernel void broken(global float *x) { x[0] = undeclared_thing_42 * 2.0f; }"
        let error = try #require(throws: OpenCLError.self) { try context.program(source: source) }
        #expect(error.call == "clBuildProgram")
        #expect(error.name == "CL_BUILD_PROGRAM_FAILURE")
        #expect(error.buildLog?.contains("undeclared_thing_42") == true)
        #expect(error.description.contains("undeclared_thing_42"))
    }

    @Test("asking for a kernel the program lacks fails with CL_INVALID_KERNEL_NAME naming the call and the kernel")
    func unknownKernelName() throws {
        let context = try OpenCLContext(device: Fixture.device())
        let program = try context.program(source: "kernel void present(global float *x) { x[0] = 1.0f; }")
        let error = try #require(throws: OpenCLError.self) { try program.kernel("absent") }
        #expect(error.call.hasPrefix("clCreateKernel"))
        #expect(error.call.contains("absent"))
        #expect(error.name == "CL_INVALID_KERNEL_NAME")
    }

    @Test("a zero-byte buffer fails with an error naming clCreateBuffer")
    func zeroByteBuffer() throws {
        let context = try OpenCLContext(device: Fixture.device())
        let error = try #require(throws: OpenCLError.self) { try context.buffer(bytes: 0) }
        #expect(error.call.hasPrefix("clCreateBuffer"))
        #expect(error.name == "CL_INVALID_BUFFER_SIZE")
    }

    @Test("a kernel scales a written buffer and the read-back matches; its profiling event has a positive duration")
    func kernelRoundTrip() throws {
        let context = try OpenCLContext(device: Fixture.device())
        let program = try context.program(
            source: "kernel void scale(global float *x, const float s) { size_t i = get_global_id(0); x[i] *= s; }")
        let kernel = try program.kernel("scale")
        let values = Fixture.values(1000, seed: 7)
        let buffer = try context.buffer(values)
        try kernel.set(.buffer(buffer), .float(3))
        let event = try context.enqueue(kernel, global: [values.count])
        let seconds = try event.seconds()
        let result = try context.readFloats(buffer, count: values.count)
        #expect(result == values.map { $0 * 3 })
        #expect(seconds > 0 && seconds < 10)
    }

    @Test("the embedded calibrate.cl builds and has every kernel the calibrator runs")
    func calibrationKernelsBuild() throws {
        let context = try OpenCLContext(device: Fixture.device())
        let program = try context.program(source: try #require(Kernels.source("calibrate.cl")))
        for name in [
            "fma_peak_float", "fma_peak_float4", "fma_peak_float8", "fma_peak_float16", "copy_float4", "empty",
        ] {
            _ = try program.kernel(name)
        }
    }
}
