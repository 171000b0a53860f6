public import CapsizeCore
public import Foundation

/// The configuration of a Lambda-model function, validated against Lambda's limits.
public struct FunctionConfiguration: Codable, Sendable, Equatable {
    public static let memoryRange = 128...10_240
    public static let timeoutRange = 1...900
    public static let ephemeralStorageRange = 512...10_240
    /// Memory that buys one vCPU of CPU credit.
    public static let megabytesPerVCPU = 1_769.0
    /// The most vCPUs a function gets (at 10,240 MB).
    public static let maximumVCPUs = 6.0
    /// Lambda's limit on the init phase.
    public static let initLimitSeconds = 10.0

    public var memoryMB: Int
    public var timeoutSeconds: Int
    public var ephemeralStorageMB: Int
    public var architecture: Architecture
    /// Environments that may run at once; nil means the account limit.
    public var reservedConcurrency: Int?

    /// - Throws: `InputError` naming the field and Lambda's allowed range.
    public init(
        memoryMB: Int = 128, timeoutSeconds: Int = 3, ephemeralStorageMB: Int = 512,
        architecture: Architecture = .x86_64, reservedConcurrency: Int? = nil
    ) throws(InputError) {
        guard Self.memoryRange.contains(memoryMB) else {
            throw InputError(setting: "memory", value: "\(memoryMB)", allowed: "128...10240 MB (Lambda's range)")
        }
        guard Self.timeoutRange.contains(timeoutSeconds) else {
            throw InputError(
                setting: "timeout", value: "\(timeoutSeconds)", allowed: "1...900 seconds (Lambda's range)")
        }
        guard Self.ephemeralStorageRange.contains(ephemeralStorageMB) else {
            throw InputError(
                setting: "ephemeralStorage", value: "\(ephemeralStorageMB)", allowed: "512...10240 MB (Lambda's range)")
        }
        if let reservedConcurrency, !(0...1_000).contains(reservedConcurrency) {
            throw InputError(
                setting: "concurrency", value: "\(reservedConcurrency)",
                allowed: "0...1000 (the default per-Region account limit)")
        }
        self.memoryMB = memoryMB
        self.timeoutSeconds = timeoutSeconds
        self.ephemeralStorageMB = ephemeralStorageMB
        self.architecture = architecture
        self.reservedConcurrency = reservedConcurrency
    }

    /// The CPU share Lambda gives this memory size: memory / 1,769 MB, at most 6 vCPUs.
    public var vcpuShare: Double { Self.vcpuShare(memoryMB: memoryMB) }

    /// Whole threads to give a workload for this share (at least 1).
    public var threads: Int { Self.threads(memoryMB: memoryMB) }

    /// The CPU share Lambda gives `memoryMB`: memory / 1,769 MB, at most 6 vCPUs.
    public static func vcpuShare(memoryMB: Int) -> Double { min(Double(memoryMB) / megabytesPerVCPU, maximumVCPUs) }

    /// Lambda's per-environment limits on file descriptors and on processes and threads together (Lambda quotas:
    /// https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html, "Execution processes/threads" and
    /// "File descriptors", 1,024 each).
    public static let fileDescriptorLimit: UInt64 = 1_024
    public static let processLimit: UInt64 = 1_024

    /// Whole threads for the share of `memoryMB` (at least 1).
    public static func threads(memoryMB: Int) -> Int { max(1, Int(vcpuShare(memoryMB: memoryMB).rounded(.up))) }
}

/// One invocation's billing, as Lambda computes it. All money figures are projected from the price catalog.
public struct LambdaBill: Codable, Sendable, Equatable {
    /// Duration rounded up to the billing granularity (1 ms), in ms.
    public var billedMilliseconds: Int
    public var gbSeconds: Double
    public var durationCost: Double
    public var requestCost: Double
    public var total: Double { durationCost + requestCost }

    /// Bills `durationMs` (plus the init duration, billed since August 2025) at `memoryMB`.
    public init(durationMs: Double, initMs: Double = 0, memoryMB: Int, architecture: Architecture, prices: PriceCatalog)
    {
        let granularity = Double(prices.lambda.billingGranularityMs)
        billedMilliseconds = Int(((durationMs + initMs) / granularity).rounded(.up) * granularity)
        gbSeconds = Double(billedMilliseconds) / 1000 * Double(memoryMB) / 1024
        durationCost = gbSeconds * prices.lambda.gbSecond[architecture]
        requestCost = prices.lambda.perRequest
    }
}

/// Lambda's log texts, formatted exactly as Lambda writes them (sources: docs/aws-reference.md).
public enum LambdaLog {
    /// `REPORT RequestId: …\tDuration: 26.73 ms\tBilled Duration: 27 ms\tMemory Size: 128 MB\tMax Memory Used: 75 MB\t`
    /// with `Init Duration: 166.62 ms\t` on cold starts only, then `Status: timeout` after a timeout or
    /// `Status: error\tError Type: Runtime.OutOfMemory` (or `Runtime.ExitError`) after the runtime exited; a line
    /// with a status ends without a tab.
    public static func report(
        requestId: String, durationMs: Double, billedMs: Int, memoryMB: Int, maxMemoryUsedMB: Int,
        initDurationMs: Double?, status: String? = nil, errorType: String? = nil
    ) -> String {
        var line = "REPORT RequestId: \(requestId)\tDuration: \(String(format: "%.2f", durationMs)) ms\t"
        line += "Billed Duration: \(billedMs) ms\tMemory Size: \(memoryMB) MB\tMax Memory Used: \(maxMemoryUsedMB) MB\t"
        if let initDurationMs { line += "Init Duration: \(String(format: "%.2f", initDurationMs)) ms\t" }
        if let status {
            line += "Status: \(status)"
            if let errorType { line += "\tError Type: \(errorType)" }
        }
        return line
    }

    /// `2024-01-01T00:00:03.000Z <requestId> Task timed out after 3.00 seconds`: UTC with milliseconds.
    public static func timedOut(requestId: String, seconds: Double, at date: Date = Date()) -> String {
        "\(timestamp(date)) \(requestId) Task timed out after \(String(format: "%.2f", seconds)) seconds"
    }

    /// A log line's timestamp as Lambda writes it: `2024-01-01T00:00:00.000Z`.
    public static func timestamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt))
    }

    /// `RequestId: <id> Error: Runtime exited with error: signal: killed` (or `exit status 1`): the invoke
    /// response's errorMessage and the first of the two log lines of a runtime that exited.
    public static func runtimeExited(requestId: String, _ how: String) -> String {
        "RequestId: \(requestId) Error: Runtime exited with error: \(how)"
    }

    /// The error type of a runtime that exited, in the response and the log (a memory kill too).
    public static let exitErrorType = "Runtime.ExitError"
    /// The REPORT line's `Error Type` after a memory kill.
    public static let outOfMemoryErrorType = "Runtime.OutOfMemory"
    /// The invoke response's error type after a timeout.
    public static let timeoutErrorType = "Sandbox.Timedout"

    /// A synchronous request over `limit` bytes (RequestEntityTooLargeException, HTTP 413).
    public static func requestTooLarge(limit: Int) -> String {
        "Request must be smaller than \(limit) bytes for the InvokeFunction operation"
    }

    /// An asynchronous (`Event`) request of `bytes` over `limit` (RequestEntityTooLargeException, HTTP 413).
    public static func eventTooLarge(bytes: Int, limit: Int) -> String {
        "\(bytes) byte payload is too large for the Event invocation type (limit \(limit) bytes)"
    }

    public static let requestTooLargeErrorType = "RequestEntityTooLargeException"

    /// A synchronous response over `limit` bytes (error type `Function.ResponseSizeTooLarge`).
    public static func responseTooLarge(limit: Int) -> String {
        "Response payload size exceeded maximum allowed payload size (\(limit) bytes)."
    }

    public static let responseTooLargeErrorType = "Function.ResponseSizeTooLarge"
}
