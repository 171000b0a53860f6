internal import COpenCL

/// The kind of an OpenCL device.
public enum DeviceKind: String, Codable, Sendable {
    case gpu, cpu, accelerator, other
}

/// Facts about one OpenCL device, as the driver reports them.
public struct DeviceInfo: Codable, Sendable, Equatable {
    /// Position in `OpenCL.devices()`: the `N` of `--device opencl:N`.
    public var index: Int
    public var platform: String
    public var platformVersion: String
    public var name: String
    public var vendor: String
    public var kind: DeviceKind
    public var openCLVersion: String
    public var driverVersion: String
    public var computeUnits: Int
    public var clockMHz: Int
    public var globalMemoryBytes: UInt64
    public var maxAllocationBytes: UInt64
    public var localMemoryBytes: UInt64
    public var maxWorkGroupSize: Int
}

/// An OpenCL device with its facts. The handle is owned by the driver (root devices are not
/// reference counted), so copying this value is free.
public struct OpenCLDevice: @unchecked Sendable {  // cl_device_id of a root device is immutable and global.
    let id: cl_device_id
    let platformID: cl_platform_id
    public let info: DeviceInfo
}

extension OpenCLDevice {
    /// The float vector width the driver prefers (`CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT`): a CPU
    /// device's SIMD width (16 with AVX-512 on PoCL), 1 on most GPUs; 1 when the driver does not say.
    public var preferredFloatVectorWidth: Int {
        let width: cl_uint? = try? OpenCL.deviceValue(id, CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT)
        return max(1, Int(width ?? 1))
    }
}

/// Discovery of OpenCL platforms and devices.
public enum OpenCL {
    /// Every device of every platform, numbered in platform order.
    /// - Returns: an empty array when the ICD loader finds no platform.
    /// - Throws: `OpenCLError` for a driver failure other than "no platform".
    public static func devices() throws(OpenCLError) -> [OpenCLDevice] {
        var count: cl_uint = 0
        let status = clGetPlatformIDs(0, nil, &count)
        // Check the status before the count: a failed call leaves count at 0 too, and must throw.
        if status == -1001 { return [] }  // CL_PLATFORM_NOT_FOUND_KHR
        try check(status, "clGetPlatformIDs")
        if count == 0 { return [] }
        var platforms = [cl_platform_id?](repeating: nil, count: Int(count))
        try check(clGetPlatformIDs(count, &platforms, nil), "clGetPlatformIDs")
        var result: [OpenCLDevice] = []
        for case let platform? in platforms {
            let platformName = try platformString(platform, cl_platform_info(CL_PLATFORM_NAME))
            let platformVersion = try platformString(platform, cl_platform_info(CL_PLATFORM_VERSION))
            var deviceCount: cl_uint = 0
            let deviceStatus = clGetDeviceIDs(platform, cl_device_type(CL_DEVICE_TYPE_ALL), 0, nil, &deviceCount)
            if deviceStatus == CL_DEVICE_NOT_FOUND || deviceCount == 0 { continue }
            try check(deviceStatus, "clGetDeviceIDs")
            var ids = [cl_device_id?](repeating: nil, count: Int(deviceCount))
            try check(
                clGetDeviceIDs(platform, cl_device_type(CL_DEVICE_TYPE_ALL), deviceCount, &ids, nil), "clGetDeviceIDs")
            for case let id? in ids {
                let info = try deviceInfo(id, index: result.count, platform: platformName, version: platformVersion)
                result.append(OpenCLDevice(id: id, platformID: platform, info: info))
            }
        }
        return result
    }

    private static func deviceInfo(
        _ id: cl_device_id, index: Int, platform: String, version: String
    ) throws(OpenCLError) -> DeviceInfo {
        let type: cl_device_type = try deviceValue(id, CL_DEVICE_TYPE)
        let kind: DeviceKind =
            type & cl_device_type(CL_DEVICE_TYPE_GPU) != 0
            ? .gpu
            : type & cl_device_type(CL_DEVICE_TYPE_CPU) != 0
                ? .cpu
                : type & cl_device_type(CL_DEVICE_TYPE_ACCELERATOR) != 0 ? .accelerator : .other
        let units: cl_uint = try deviceValue(id, CL_DEVICE_MAX_COMPUTE_UNITS)
        let clock: cl_uint = try deviceValue(id, CL_DEVICE_MAX_CLOCK_FREQUENCY)
        let global: cl_ulong = try deviceValue(id, CL_DEVICE_GLOBAL_MEM_SIZE)
        let maxAlloc: cl_ulong = try deviceValue(id, CL_DEVICE_MAX_MEM_ALLOC_SIZE)
        let local: cl_ulong = try deviceValue(id, CL_DEVICE_LOCAL_MEM_SIZE)
        let workGroup: Int = try deviceValue(id, CL_DEVICE_MAX_WORK_GROUP_SIZE)
        return DeviceInfo(
            index: index, platform: platform, platformVersion: version,
            name: try deviceString(id, CL_DEVICE_NAME), vendor: try deviceString(id, CL_DEVICE_VENDOR),
            kind: kind, openCLVersion: try deviceString(id, CL_DEVICE_VERSION),
            driverVersion: try deviceString(id, CL_DRIVER_VERSION),
            computeUnits: Int(units), clockMHz: Int(clock), globalMemoryBytes: global,
            maxAllocationBytes: maxAlloc, localMemoryBytes: local, maxWorkGroupSize: workGroup)
    }

    /// The corresponding C function is `clGetPlatformInfo`.
    private static func platformString(_ id: cl_platform_id, _ param: cl_platform_info) throws(OpenCLError) -> String {
        var size = 0
        try check(clGetPlatformInfo(id, param, 0, nil, &size), "clGetPlatformInfo")
        var bytes = [CChar](repeating: 0, count: size + 1)
        try check(clGetPlatformInfo(id, param, size, &bytes, nil), "clGetPlatformInfo")
        return trimmed(bytes)
    }

    /// The corresponding C function is `clGetDeviceInfo`.
    static func deviceString(_ id: cl_device_id, _ param: Int32) throws(OpenCLError) -> String {
        var size = 0
        try check(clGetDeviceInfo(id, cl_device_info(param), 0, nil, &size), "clGetDeviceInfo")
        var bytes = [CChar](repeating: 0, count: size + 1)
        try check(clGetDeviceInfo(id, cl_device_info(param), size, &bytes, nil), "clGetDeviceInfo")
        return trimmed(bytes)
    }

    static func deviceValue<T: FixedWidthInteger>(_ id: cl_device_id, _ param: Int32) throws(OpenCLError) -> T {
        var value: T = 0
        try check(clGetDeviceInfo(id, cl_device_info(param), MemoryLayout<T>.size, &value, nil), "clGetDeviceInfo")
        return value
    }

    private static func trimmed(_ bytes: [CChar]) -> String {
        let text = bytes.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return text.trimmingCharacters(in: .whitespaces)
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: Set<Character>) -> String {
        String(drop(while: set.contains).reversed().drop(while: set.contains).reversed())
    }
}

extension Set where Element == Character {
    fileprivate static let whitespaces: Set<Character> = [" ", "\t", "\n", "\r"]
}
