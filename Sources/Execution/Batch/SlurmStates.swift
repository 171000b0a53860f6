import CloudModel
public import Foundation
public import Store
import Synchronization

/// Reading Slurm: `scontrol show job -o` lines, Slurm's states as Batch's, and running Slurm's clients.
extension SlurmBackend {
    /// One line of `scontrol show job -o`: a job or an array task, or a pending array's unsplit tasks.
    public struct TaskState: Sendable, Equatable {
        /// The array indices this line stands for (nil for a single job).
        public var indices: [Int]?
        public var jobID: String
        public var state: String
        public var reason: String
        public var exitCode: String
        public var runSeconds: Double?
        public var partition: String?
        public var node: String?
        public var submitTime: Date?
        public var eligibleTime: Date?
        public var startTime: Date?
        public var endTime: Date?
    }

    /// Batch's state for a Slurm job state (`JobState`) and reason: PENDING waiting on a dependency is
    /// PENDING, else RUNNABLE (Resources, Priority...); CONFIGURING is STARTING; RUNNING, COMPLETING,
    /// SUSPENDED are RUNNING; COMPLETED is SUCCEEDED; every other final state FAILED.
    public static func batchState(slurm state: String, reason: String) -> JobRecord.State {
        switch state {
        case "PENDING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "RESV_DEL_HOLD", "SPECIAL_EXIT":
            reason.hasPrefix("Dependency") ? .pending : .runnable
        case "CONFIGURING", "RESIZING": .starting
        case "RUNNING", "COMPLETING", "SUSPENDED", "STOPPED", "SIGNALING", "STAGE_OUT": .running
        case "COMPLETED": .succeeded
        default: .failed  // FAILED, TIMEOUT, OUT_OF_MEMORY, CANCELLED, NODE_FAIL, BOOT_FAIL, DEADLINE, PREEMPTED
        }
    }

    /// Batch's exit code for Slurm's `EXIT:SIGNAL`: the exit status, or 128 + the signal that ended it.
    static func exitCode(_ text: String) -> Int? {
        let parts = text.split(separator: ":").map { Int($0) }
        guard parts.count == 2, let status = parts[0], let signal = parts[1] else { return nil }
        return signal > 0 ? 128 + signal : status
    }

    /// The lines of `scontrol show job -o`.
    public static func parse(_ output: String) -> [TaskState] {
        output.split(separator: "\n").compactMap { line -> TaskState? in
            var fields: [String: String] = [:]
            for word in line.split(separator: " ") {
                guard let equals = word.firstIndex(of: "=") else { continue }
                let key = String(word[..<equals])
                if fields[key] == nil { fields[key] = String(word[equals...].dropFirst()) }
            }
            guard let jobID = fields["JobId"], let state = fields["JobState"] else { return nil }
            return TaskState(
                indices: fields["ArrayTaskId"].map(arrayIndices), jobID: jobID, state: state,
                reason: fields["Reason"] ?? "None", exitCode: fields["ExitCode"] ?? "",
                runSeconds: fields["RunTime"].flatMap(duration), partition: fields["Partition"],
                node: fields["NodeList"], submitTime: fields["SubmitTime"].flatMap(time),
                eligibleTime: fields["EligibleTime"].flatMap(time), startTime: fields["StartTime"].flatMap(time),
                endTime: fields["EndTime"].flatMap(time))
        }
    }

    /// `ArrayTaskId`: `3`, or a pending array's `0-99`, `1,3-5` or `0-99%4` (`%` is the throttle).
    static func arrayIndices(_ text: String) -> [Int] {
        let list = text.split(separator: "%").first ?? ""
        return list.split(separator: ",").flatMap { part -> [Int] in
            let bounds = part.split(separator: "-").compactMap { Int($0) }
            if bounds.count == 2, bounds[0] <= bounds[1] { return Array(bounds[0]...bounds[1]) }
            return bounds.count == 1 ? bounds : []
        }
    }

    /// `RunTime`: `[D-]HH:MM:SS` in seconds.
    static func duration(_ text: String) -> Double? {
        let dayParts = text.split(separator: "-")
        let days = dayParts.count == 2 ? Double(dayParts[0]) ?? 0 : 0
        let clock = (dayParts.last ?? "").split(separator: ":").compactMap { Double($0) }
        guard clock.count == 3 else { return nil }
        return days * 86_400 + clock[0] * 3600 + clock[1] * 60 + clock[2]
    }

    /// Slurm's local times, `YYYY-MM-DDTHH:MM:SS` (nil for `Unknown` or `None`).
    static func time(_ text: String) -> Date? {
        let numbers = text.split(whereSeparator: { "-T:".contains($0) }).compactMap { Int($0) }
        guard numbers.count == 6 else { return nil }
        let components = DateComponents(
            year: numbers[0], month: numbers[1], day: numbers[2], hour: numbers[3], minute: numbers[4],
            second: numbers[5])
        return Calendar.current.date(from: components)
    }

    // MARK: Processes

    /// The path of `program` in PATH.
    static func which(_ program: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(program)" }.first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }

    /// How long a Slurm client may take: a client that cannot read its configuration or reach the controller
    /// retries for a minute in silence, and a command line must not wait on it that long.
    static let clientTimeout: Duration = .seconds(10)

    /// Runs a Slurm client to the end, or kills it after `clientTimeout` (status 124, saying so in stderr).
    static func execute(
        _ arguments: [String], environment: [String: String]? = nil
    ) -> (status: Int32, stdout: String, stderr: String) {
        guard let program = which(arguments[0]) else { return (127, "", "\(arguments[0]): not found in PATH") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = Array(arguments.dropFirst())
        if let environment { process.environment = environment }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return (127, "", "\(arguments[0]): \(error)")
        }
        let timedOut = Mutex(false)
        let watchdog = DispatchWorkItem {
            guard process.isRunning else { return }
            timedOut.withLock { $0 = true }
            kill(process.processIdentifier, SIGKILL)
        }
        let seconds = Double(clientTimeout.components.seconds)
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds, execute: watchdog)
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        watchdog.cancel()
        if timedOut.withLock({ $0 }) {
            return (
                124, String(decoding: stdout, as: UTF8.self),
                "\(arguments[0]) did not answer within \(Int(seconds)) s (is SLURM_CONF's configuration right and "
                    + "the controller up?)"
            )
        }
        return (
            process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self)
        )
    }
}
