public import Foundation

/// How every batch backend lays out, names and starts one attempt of a job: the folders and logs, what the
/// placeholders of a job definition stand for, and Batch's variables. The local backend fills it with the values
/// it knows when the attempt starts; the Slurm backend with shell expressions its script evaluates on the node.
public enum JobLaunch {
    /// How much of each of a job's stdout and stderr its log keeps unless told otherwise: 1 MiB.
    public static let defaultLogLimit = 1 << 20
    /// The limits a user may set: 1 KiB to 1 GiB.
    public static let logLimitRange = 1_024...(1 << 30)

    /// Where a job's files are: `root/<job id>/` holds `attempt-N.log` (stdout, then a `--- stderr ---` line and
    /// stderr) and the `output/` folder the job runs in (`AWS_BATCH_JOB_OUTPUT_DIR`, the stand-in for S3); a Slurm
    /// job's script is `job.sbatch` there. The folder is the job record's `logPath`.
    public struct Layout: Sendable, Equatable {
        /// Between a log's stdout and its stderr.
        public static let stderrSeparator = "\n--- stderr ---\n"

        public let directory: String

        /// - Parameters:
        ///   - root: an absolute path without a trailing `/`.
        ///   - id: the job's id (Slurm's script names array children `<id>:%a`).
        public init(root: String, id: String) { directory = root + "/" + id }

        /// The layout of the job whose folder is `directory` (a record's `logPath`).
        public init(directory: String) { self.directory = directory }

        /// The folder the job runs in and writes its results to.
        public var output: String { directory + "/output" }

        /// The attempt's log: stdout, then stderr after `stderrSeparator`.
        public func log(attempt: Int) -> String { directory + "/attempt-\(attempt).log" }

        /// Where Slurm writes the attempt's stderr until `joined` moves it into the log.
        public func stderrFile(attempt: Int) -> String { directory + "/attempt-\(attempt).stderr" }

        /// The batch script a Slurm job was submitted with.
        public var script: String { directory + "/job.sbatch" }

        /// A log's text: stdout, then (when there is any) the separator and stderr; each cut at the log limit is
        /// followed by a line that says so (`truncationNote`).
        public static func joined(stdout: SandboxResult.Output, stderr: SandboxResult.Output) -> Data {
            func kept(_ output: SandboxResult.Output, _ name: String) -> Data {
                guard output.truncated else { return output.data }
                return output.data
                    + Data(truncationNote(name, kept: output.data.count, written: output.totalBytes).utf8)
            }
            let out = kept(stdout, "stdout")
            return stderr.totalBytes == 0 ? out : out + Data(stderrSeparator.utf8) + kept(stderr, "stderr")
        }

        /// The line after a cut stream: `[capsize: stdout cut at the log limit: 1048576 of 5000000 bytes kept]`.
        public static func truncationNote(_ stream: String, kept: Int, written: Int) -> String {
            "\n[capsize: \(stream) cut at the log limit: \(kept) of \(written) bytes kept]\n"
        }

        /// The stdout part of a log.
        public static func stdout(ofLog log: String) -> String {
            log.components(separatedBy: stderrSeparator).first ?? log
        }

        /// `root` as an absolute path without a trailing `/` (what `URL(fileURLWithPath:).path` gives).
        public static func absoluteRoot(_ root: String) -> String {
            let path = URL(fileURLWithPath: root).path
            return path.hasSuffix("/") ? String(path.dropLast()) : path
        }
    }

    /// What `{index}`, `{attempt}` and `{gpu}` in a job's arguments, stdin and environment stand for in one attempt.
    public struct Placeholders: Sendable {
        /// The array index (`0` for a single job); nil leaves `{index}` in place, for a script to fill on the node.
        public var index: String?
        public var attempt: String
        /// The job's first GPU (`""` without one).
        public var gpu: String
        /// What a workload's device `opencl:{gpu}` becomes as a whole, replaced before `{gpu}` (Slurm: `gpu`, the
        /// devices Slurm gave the job); nil: only `{gpu}` is replaced.
        public var openCLDevice: String?

        public init(index: String?, attempt: String, gpu: String, openCLDevice: String? = nil) {
            self.index = index
            self.attempt = attempt
            self.gpu = gpu
            self.openCLDevice = openCLDevice
        }

        /// `text` with its placeholders replaced.
        public func fill(_ text: String) -> String {
            var filled = text
            if let index { filled = filled.replacingOccurrences(of: "{index}", with: index) }
            filled = filled.replacingOccurrences(of: "{attempt}", with: attempt)
            if let openCLDevice { filled = filled.replacingOccurrences(of: "opencl:{gpu}", with: openCLDevice) }
            return filled.replacingOccurrences(of: "{gpu}", with: gpu)
        }
    }

    /// Batch's variables naming the attempt (`AWS_BATCH_JOB_ID`, `_ATTEMPT`, `AWS_BATCH_JQ_NAME`, `AWS_BATCH_CE_NAME`,
    /// `AWS_BATCH_JOB_OUTPUT_DIR`), in that order, with the values given (literal values, or shell words).
    public static func batchVariables(
        job: String, attempt: String, queue: String, computeEnvironment: String, outputDirectory: String
    ) -> [(name: String, value: String)] {
        [
            ("AWS_BATCH_JOB_ID", job), ("AWS_BATCH_JOB_ATTEMPT", attempt), ("AWS_BATCH_JQ_NAME", queue),
            ("AWS_BATCH_CE_NAME", computeEnvironment), ("AWS_BATCH_JOB_OUTPUT_DIR", outputDirectory),
        ]
    }

    /// An array child's `AWS_BATCH_JOB_ARRAY_INDEX` and `AWS_BATCH_JOB_ARRAY_SIZE`, those given.
    public static func arrayVariables(index: String?, size: String?) -> [(name: String, value: String)] {
        var variables: [(name: String, value: String)] = []
        if let index { variables.append(("AWS_BATCH_JOB_ARRAY_INDEX", index)) }
        if let size { variables.append(("AWS_BATCH_JOB_ARRAY_SIZE", size)) }
        return variables
    }

    /// capsize's GPU variables. GPU pinning: a job is given its devices' OpenCL indices (`CAPSIZE_GPU_DEVICES`,
    /// `opencl:N`); CUDA_VISIBLE_DEVICES is not set: CUDA numbers devices differently, and setting it to an OpenCL
    /// index hides the GPU from NVIDIA's OpenCL driver (seen on an H200: index 1 there is CUDA's nonexistent second
    /// GPU). A job without a GPU gets `CAPSIZE_HIDE_GPUS=1`.
    /// - Parameters:
    ///   - devices: the devices the job was given; nil when the backend's scheduler gives them (Slurm, through
    ///     CUDA_VISIBLE_DEVICES).
    ///   - requested: the GPUs the job asked for.
    public static func gpuVariables(devices: [Int]?, requested: Int) -> [(name: String, value: String)] {
        guard let devices else { return requested == 0 ? [("CAPSIZE_HIDE_GPUS", "1")] : [] }
        var variables = [(name: "CAPSIZE_GPU_DEVICES", value: devices.map(String.init).joined(separator: ","))]
        if devices.isEmpty { variables.append(("CAPSIZE_HIDE_GPUS", "1")) }
        return variables
    }
}
