internal import COpenCL

/// A program built for one context's device.
public final class OpenCLProgram: @unchecked Sendable {  // built cl_program objects are thread-safe.
    let program: cl_program
    let context: OpenCLContext

    /// Compiles OpenCL C `source` with `options`.
    /// The corresponding C functions are `clCreateProgramWithSource` and `clBuildProgram`.
    /// - Throws: `OpenCLError`; a failed build carries the compiler's log in `buildLog`.
    init(context: OpenCLContext, source: String, options: String) throws(OpenCLError) {
        var status: cl_int = 0
        let created: cl_program? = source.withCString { text in
            var pointer: UnsafePointer<CChar>? = text
            var length = source.utf8.count
            return clCreateProgramWithSource(context.context, 1, &pointer, &length, &status)
        }
        guard let program = created, status == CL_SUCCESS else {
            throw OpenCLError(call: "clCreateProgramWithSource", code: status)
        }
        self.program = program
        self.context = context
        var device: cl_device_id? = context.device.id
        let buildStatus = clBuildProgram(program, 1, &device, options, nil, nil)
        if buildStatus != CL_SUCCESS {
            throw OpenCLError(call: "clBuildProgram", code: buildStatus, buildLog: buildLog())
        }
    }

    deinit { clReleaseProgram(program) }

    /// The compiler's log for this program on its device (warnings included).
    /// The corresponding C function is `clGetProgramBuildInfo`.
    public func buildLog() -> String {
        var size = 0
        let device = context.device.id
        guard
            clGetProgramBuildInfo(program, device, cl_program_build_info(CL_PROGRAM_BUILD_LOG), 0, nil, &size)
                == CL_SUCCESS, size > 1
        else { return "" }
        var bytes = [CChar](repeating: 0, count: size + 1)
        guard
            clGetProgramBuildInfo(program, device, cl_program_build_info(CL_PROGRAM_BUILD_LOG), size, &bytes, nil)
                == CL_SUCCESS
        else { return "" }
        return bytes.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    /// Creates a kernel object for the function `name`.
    public func kernel(_ name: String) throws(OpenCLError) -> OpenCLKernel {
        try OpenCLKernel(program: self, name: name)
    }
}

/// A kernel and its arguments. Not Sendable: `clSetKernelArg` changes shared state.
public final class OpenCLKernel {
    let kernel: cl_kernel
    let name: String
    private let program: OpenCLProgram  // a kernel keeps its program alive

    /// The corresponding C function is `clCreateKernel`.
    init(program: OpenCLProgram, name: String) throws(OpenCLError) {
        var status: cl_int = 0
        guard let kernel = clCreateKernel(program.program, name, &status), status == CL_SUCCESS else {
            throw OpenCLError(call: "clCreateKernel(\(name))", code: status)
        }
        self.kernel = kernel
        self.name = name
        self.program = program
    }

    deinit { clReleaseKernel(kernel) }

    /// Sets argument `index` to a buffer. The C function is `clSetKernelArg`.
    public func set(_ index: Int, _ buffer: OpenCLBuffer) throws(OpenCLError) {
        var mem: cl_mem? = buffer.mem
        try check(
            clSetKernelArg(kernel, cl_uint(index), MemoryLayout<cl_mem>.size, &mem), "clSetKernelArg(\(name), \(index))"
        )
    }

    /// Sets argument `index` to a plain value (`Int32`, `UInt32`, `Float`, ...).
    public func set<T: BitwiseCopyable>(_ index: Int, _ value: T) throws(OpenCLError) {
        var copy = value
        try check(
            clSetKernelArg(kernel, cl_uint(index), MemoryLayout<T>.size, &copy), "clSetKernelArg(\(name), \(index))")
    }

    /// Reserves `bytes` of local memory for argument `index`.
    public func setLocal(_ index: Int, bytes: Int) throws(OpenCLError) {
        try check(clSetKernelArg(kernel, cl_uint(index), bytes, nil), "clSetKernelArg(\(name), \(index))")
    }

    /// The work-group sizes the driver suggests for this kernel on its device: the largest it can
    /// run, and the multiple it schedules best (a warp or wavefront on a GPU, PoCL's vector width on
    /// a CPU). The C function is `clGetKernelWorkGroupInfo`.
    public func workGroupSizes() throws(OpenCLError) -> (largest: Int, preferredMultiple: Int) {
        let device = program.context.device.id
        var largest = 0
        var multiple = 0
        try check(
            clGetKernelWorkGroupInfo(
                kernel, device, cl_kernel_work_group_info(CL_KERNEL_WORK_GROUP_SIZE), MemoryLayout<Int>.size,
                &largest, nil), "clGetKernelWorkGroupInfo(\(name))")
        try check(
            clGetKernelWorkGroupInfo(
                kernel, device, cl_kernel_work_group_info(CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE),
                MemoryLayout<Int>.size, &multiple, nil), "clGetKernelWorkGroupInfo(\(name))")
        return (largest, max(1, multiple))
    }

    /// Sets every argument in order: buffers, `Int32`, `UInt32` and `Float` values.
    public func set(_ arguments: KernelArgument...) throws(OpenCLError) {
        for (index, argument) in arguments.enumerated() {
            switch argument {
            case .buffer(let buffer): try set(index, buffer)
            case .int(let value): try set(index, value)
            case .uint(let value): try set(index, value)
            case .float(let value): try set(index, value)
            }
        }
    }
}

/// One kernel argument value for `OpenCLKernel.set(_:...)`.
public enum KernelArgument {
    case buffer(OpenCLBuffer)
    case int(Int32)
    case uint(UInt32)
    case float(Float)
}
