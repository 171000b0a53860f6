internal import COpenCL

/// An OpenCL context on one device, with one in-order profiling command queue.
///
/// OpenCL contexts and queues are thread-safe, so this class is Sendable; kernels are not.
public final class OpenCLContext: @unchecked Sendable {  // cl_context / cl_command_queue calls are thread-safe.
    public let device: OpenCLDevice
    let context: cl_context
    let queue: cl_command_queue

    /// Creates a context and a profiling command queue on `device`.
    /// The corresponding C functions are `clCreateContext` and `clCreateCommandQueue`.
    public init(device: OpenCLDevice) throws(OpenCLError) {
        self.device = device
        var status: cl_int = 0
        var properties: [cl_context_properties] = [
            cl_context_properties(CL_CONTEXT_PLATFORM), cl_context_properties(Int(bitPattern: device.platformID)), 0,
        ]
        var deviceID: cl_device_id? = device.id
        guard let context = clCreateContext(&properties, 1, &deviceID, nil, nil, &status) else {
            throw OpenCLError(call: "clCreateContext", code: status)
        }
        try check(status, "clCreateContext")
        let queue = clCreateCommandQueue(
            context, device.id, cl_command_queue_properties(CL_QUEUE_PROFILING_ENABLE), &status)
        guard let queue, status == CL_SUCCESS else {
            clReleaseContext(context)
            throw OpenCLError(call: "clCreateCommandQueue", code: status)
        }
        self.context = context
        self.queue = queue
    }

    deinit {
        clReleaseCommandQueue(queue)
        clReleaseContext(context)
    }

    /// Waits until every command enqueued so far has finished. The C function is `clFinish`.
    public func finish() throws(OpenCLError) {
        try check(clFinish(queue), "clFinish")
    }

    /// Builds a program from OpenCL C source.
    /// - Throws: `OpenCLError` from `clBuildProgram` carrying the compiler's build log.
    public func program(source: String, options: String = "") throws(OpenCLError) -> OpenCLProgram {
        try OpenCLProgram(context: self, source: source, options: options)
    }

    /// Allocates a device buffer of `bytes` bytes.
    public func buffer(bytes: Int, access: BufferAccess = .readWrite) throws(OpenCLError) -> OpenCLBuffer {
        try OpenCLBuffer(context: self, bytes: bytes, access: access)
    }

    /// Allocates a buffer sized for `count` floats and copies `values` into it.
    public func buffer(_ values: [Float], access: BufferAccess = .readWrite) throws(OpenCLError) -> OpenCLBuffer {
        let buffer = try OpenCLBuffer(context: self, bytes: max(1, values.count) * 4, access: access)
        // `withUnsafeBytes` rethrows untyped errors: the typed one comes out in a Result.
        let copy = values.withUnsafeBytes { raw in Result { () throws(OpenCLError) in try write(buffer, from: raw) } }
        _ = try copy.get()
        return buffer
    }

    /// Copies host bytes into `buffer` at `offset`, blocking until done unless `blocking` is false.
    /// The corresponding C function is `clEnqueueWriteBuffer`.
    /// - Parameter blocking: false returns at once; `bytes` must then stay valid and unchanged until the
    ///   returned event has completed.
    @discardableResult
    public func write(
        _ buffer: OpenCLBuffer, from bytes: UnsafeRawBufferPointer, offset: Int = 0, blocking: Bool = true
    ) throws(OpenCLError) -> OpenCLEvent {
        try transfer(
            "clEnqueueWriteBuffer", clEnqueueWriteBuffer, buffer, bytes.baseAddress, bytes.count, offset, blocking)
    }

    /// Copies `bytes.count` bytes of `buffer` from `offset` into host memory, blocking until done unless
    /// `blocking` is false. The corresponding C function is `clEnqueueReadBuffer`.
    /// - Parameter blocking: false returns at once; `bytes` must then stay valid, and hold what was read
    ///   only once the returned event has completed.
    @discardableResult
    public func read(
        _ buffer: OpenCLBuffer, into bytes: UnsafeMutableRawBufferPointer, offset: Int = 0, blocking: Bool = true
    ) throws(OpenCLError) -> OpenCLEvent {
        try transfer(
            "clEnqueueReadBuffer", clEnqueueReadBuffer, buffer, bytes.baseAddress, bytes.count, offset, blocking)
    }

    /// One call of `clEnqueueWriteBuffer` or `clEnqueueReadBuffer` (which take the same words, the host pointer
    /// const or not): `count` bytes between `host` and `buffer` at `offset`, with no wait list.
    private func transfer<Host>(
        _ call: String,
        _ enqueue: (
            cl_command_queue?, cl_mem?, cl_bool, Int, Int, Host?, cl_uint, UnsafePointer<cl_event?>?,
            UnsafeMutablePointer<cl_event?>?
        ) -> cl_int,
        _ buffer: OpenCLBuffer, _ host: Host?, _ count: Int, _ offset: Int, _ blocking: Bool
    ) throws(OpenCLError) -> OpenCLEvent {
        try OpenCLEvent(of: call) {
            enqueue(queue, buffer.mem, cl_bool(blocking ? CL_TRUE : CL_FALSE), offset, count, host, 0, nil, &$0)
        }
    }

    /// Reads `count` floats from the start of `buffer`.
    public func readFloats(_ buffer: OpenCLBuffer, count: Int) throws(OpenCLError) -> [Float] {
        var values = [Float](repeating: 0, count: count)
        let copy = values.withUnsafeMutableBytes { raw in
            Result { () throws(OpenCLError) in try read(buffer, into: raw) }
        }
        _ = try copy.get()
        return values
    }

    /// Copies `bytes` bytes between two device buffers. The C function is `clEnqueueCopyBuffer`.
    @discardableResult
    public func copy(_ source: OpenCLBuffer, to destination: OpenCLBuffer, bytes: Int) throws(OpenCLError)
        -> OpenCLEvent
    {
        try OpenCLEvent(of: "clEnqueueCopyBuffer") {
            clEnqueueCopyBuffer(queue, source.mem, destination.mem, 0, 0, bytes, 0, nil, &$0)
        }
    }

    /// Enqueues a marker: a command that does nothing, whose profiling timestamps say when the queue
    /// reached it. The corresponding C function is `clEnqueueMarkerWithWaitList`.
    @discardableResult
    public func marker() throws(OpenCLError) -> OpenCLEvent {
        try OpenCLEvent(of: "clEnqueueMarkerWithWaitList") { clEnqueueMarkerWithWaitList(queue, 0, nil, &$0) }
    }

    /// Enqueues `kernel` over an N-dimensional range (1 to 3 dimensions).
    /// The corresponding C function is `clEnqueueNDRangeKernel`.
    /// - Parameters:
    ///   - global: the global work size per dimension; each must be a multiple of `local` when given.
    ///   - local: the work-group size, or nil to let the driver choose.
    @discardableResult
    public func enqueue(_ kernel: OpenCLKernel, global: [Int], local: [Int]? = nil) throws(OpenCLError)
        -> OpenCLEvent
    {
        try OpenCLEvent(of: "clEnqueueNDRangeKernel(\(kernel.name))") { event in
            global.withUnsafeBufferPointer { globalSizes in
                if let local {
                    return local.withUnsafeBufferPointer { localSizes in
                        clEnqueueNDRangeKernel(
                            queue, kernel.kernel, cl_uint(global.count), nil, globalSizes.baseAddress,
                            localSizes.baseAddress, 0, nil, &event)
                    }
                }
                return clEnqueueNDRangeKernel(
                    queue, kernel.kernel, cl_uint(global.count), nil, globalSizes.baseAddress, nil, 0, nil, &event)
            }
        }
    }
}

/// How kernels may access a buffer.
public enum BufferAccess: Sendable {
    case readWrite, readOnly, writeOnly

    var flags: cl_mem_flags {
        switch self {
        case .readWrite: cl_mem_flags(CL_MEM_READ_WRITE)
        case .readOnly: cl_mem_flags(CL_MEM_READ_ONLY)
        case .writeOnly: cl_mem_flags(CL_MEM_WRITE_ONLY)
        }
    }
}

/// A device memory buffer, released when the last reference goes.
// @unchecked Sendable: cl_mem is thread-safe; its contents are synchronised by the queue.
public final class OpenCLBuffer: @unchecked Sendable {
    let mem: cl_mem
    /// The buffer's size in bytes.
    public let bytes: Int
    private let context: OpenCLContext  // keeps the context alive as long as the buffer

    /// The corresponding C function is `clCreateBuffer`.
    init(context: OpenCLContext, bytes: Int, access: BufferAccess) throws(OpenCLError) {
        var status: cl_int = 0
        guard let mem = clCreateBuffer(context.context, access.flags, bytes, nil, &status), status == CL_SUCCESS
        else { throw OpenCLError(call: "clCreateBuffer(\(bytes) bytes)", code: status) }
        self.mem = mem
        self.bytes = bytes
        self.context = context
    }

    deinit { clReleaseMemObject(mem) }
}

/// A finished or pending command, with its profiling timestamps.
public final class OpenCLEvent: @unchecked Sendable {  // cl_event queries are thread-safe.
    let event: cl_event

    init(_ event: cl_event) { self.event = event }

    /// The event of a command that `enqueue` (an OpenCL call named `call`) puts in the queue.
    convenience init(of call: @autoclosure () -> String, _ enqueue: (inout cl_event?) -> cl_int) throws(OpenCLError) {
        var event: cl_event?
        try check(enqueue(&event), call())
        self.init(event!)
    }

    deinit { clReleaseEvent(event) }

    /// Blocks until the command has finished. The C function is `clWaitForEvents`.
    public func wait() throws(OpenCLError) {
        var event: cl_event? = self.event
        try check(clWaitForEvents(1, &event), "clWaitForEvents")
    }

    /// Device time from the command's start to its end, in seconds (profiling queues only).
    /// The corresponding C function is `clGetEventProfilingInfo`.
    public func seconds() throws(OpenCLError) -> Double {
        try wait()
        let start = try profile(CL_PROFILING_COMMAND_START)
        let end = try profile(CL_PROFILING_COMMAND_END)
        return Double(end &- start) * 1e-9
    }

    /// When the command started and ended on the device, in nanoseconds of the device's clock (profiling
    /// queues only); waits for it first.
    public func timestamps() throws(OpenCLError) -> (start: UInt64, end: UInt64) {
        try wait()
        return (UInt64(try profile(CL_PROFILING_COMMAND_START)), UInt64(try profile(CL_PROFILING_COMMAND_END)))
    }

    private func profile(_ param: Int32) throws(OpenCLError) -> cl_ulong {
        var value: cl_ulong = 0
        try check(
            clGetEventProfilingInfo(event, cl_profiling_info(param), MemoryLayout<cl_ulong>.size, &value, nil),
            "clGetEventProfilingInfo")
        return value
    }
}
