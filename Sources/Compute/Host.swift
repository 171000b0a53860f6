import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Facts about the host machine, read from Linux's /proc.
public struct HostInfo: Codable, Sendable, Equatable {
    public var cpuModel: String
    /// Logical CPUs this process may run on.
    public var logicalCores: Int
    public var memoryTotalBytes: UInt64
    public var memoryAvailableBytes: UInt64
    public var hostname: String
    /// Instruction-set features that matter for BLAS and OpenCL CPU speed (avx2, fma, avx512f).
    public var simdFeatures: [String]

    /// Reads the current facts.
    public static func current() -> HostInfo {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model =
            cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .flatMap { $0.split(separator: ":", maxSplits: 1).last }
            .map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown CPU"
        let flags = Set(
            cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") }?
                .split(separator: " ").map(String.init) ?? [])
        let memory = meminfo()
        var name = [CChar](repeating: 0, count: 256)
        gethostname(&name, 255)
        return HostInfo(
            cpuModel: model,
            logicalCores: ProcessInfo.processInfo.activeProcessorCount,
            memoryTotalBytes: memory["MemTotal"] ?? 0,
            memoryAvailableBytes: memory["MemAvailable"] ?? 0,
            hostname: String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self),
            simdFeatures: ["sse4_2", "avx", "avx2", "fma", "avx512f"].filter(flags.contains))
    }

    /// Bytes of memory the kernel says a new allocation could get without swapping (`MemAvailable`).
    public static func availableMemoryBytes() -> UInt64 { meminfo()["MemAvailable"] ?? 0 }

    /// This process's peak resident set size in bytes (`VmHWM`).
    public static func peakResidentBytes() -> UInt64 {
        procStatus()["VmHWM"] ?? 0
    }

    private static func meminfo() -> [String: UInt64] { kilobyteTable("/proc/meminfo") }
    private static func procStatus() -> [String: UInt64] { kilobyteTable("/proc/self/status") }

    /// Parses lines such as `MemTotal:       24605700 kB` into bytes.
    private static func kilobyteTable(_ path: String) -> [String: UInt64] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [:] }
        var table: [String: UInt64] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let fields = parts[1].split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count == 2, fields[1] == "kB", let value = UInt64(fields[0]) else { continue }
            table[String(parts[0])] = value * 1024
        }
        return table
    }
}
