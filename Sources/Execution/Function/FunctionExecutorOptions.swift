public import CapsizeCore
public import CloudModel
public import Foundation
public import Store

extension FunctionExecutor {
    /// How capsize runs the function's environments: the harness around the function, not the function's own
    /// settings (those are `FunctionSettings`).
    public struct Options: Sendable {
        /// The environment's program; by default this executable's `worker` subcommand.
        public var workerCommand: [String]
        /// capsize-launch; nil to find it like the sandbox does.
        public var launcherPath: String?
        /// An idle environment older than this is reaped (Lambda keeps them for minutes; 60 s here).
        public var idleTimeoutSeconds: Double = 60
        /// Asynchronous retries, 0...2.
        public var retries: Int = 2
        /// Delays before the first and the second retry (Lambda: 60 s and 120 s; tests scale them down).
        public var retryDelays: [Double] = [60, 120]
        /// How long an asynchronous event may wait for its attempts, 60...21,600 s.
        public var maximumEventAgeSeconds: Double = 21_600
        /// Where failed asynchronous events are written as JSON, one file per request.
        public var deadLetterDirectory: String?
        /// Lambda's limit on Init (10 s): Init that runs longer goes on under the function timeout and is
        /// counted into the first invocation's Duration, without an Init Duration (tests shorten it).
        public var initLimitSeconds: Double = FunctionConfiguration.initLimitSeconds
        /// Seconds between two readings of an environment's memory, 0.0005...0.01.
        public var sampleInterval: Double = 0.005
        /// The parent of the environments' private temporary directories.
        public var temporaryBase: String = FileManager.default.temporaryDirectory.path
        /// Online cores of this machine, to report a CPU share it cannot give.
        public var machineCores: Int = ProcessInfo.processInfo.activeProcessorCount
        /// Records every invocation (and environment) in this run, when set.
        public var store: CapsizeStore?
        public var runID: String?
        /// Whether the function's workload may need OpenCL; when false the worker skips loading the drivers at
        /// Init (`CAPSIZE_WORKER_OPENCL=off`), as a function's Init prepares only what its handler uses.
        public var workerUsesOpenCL = true
        /// Put before every recorded invocation's item key (e.g. `memory=512/size=1024/rep=0/`), so that
        /// a sweep's invocations say which point they belong to.
        public var itemKeyPrefix = ""
        public var prices: PriceCatalog = .embedded
        /// The user's own runtime; nil runs `workerCommand` (`capsize worker`, whose events carry the workload).
        /// Both are spoken to through the Lambda Runtime API.
        public var userRuntime: UserRuntime?

        public init(workerCommand: [String]? = nil, launcherPath: String? = nil) {
            self.workerCommand = workerCommand ?? WorkerProtocol.command()
            self.launcherPath = launcherPath
        }

        /// The longest an idle environment is kept: a day (Lambda keeps them for minutes, a few hours at most).
        public static let idleTimeoutLimit: Double = 86_400

        /// - Throws: `InputError` naming the option and its allowed range.
        public func validate() throws(InputError) {
            guard (0...2).contains(retries) else {
                throw InputError(setting: "retries", value: "\(retries)", allowed: "0...2 (Lambda's range)")
            }
            guard (60...21_600).contains(maximumEventAgeSeconds) else {
                throw InputError(
                    setting: "maximumEventAge", value: "\(maximumEventAgeSeconds)",
                    allowed: "60...21600 seconds (Lambda's range)")
            }
            guard idleTimeoutSeconds > 0, idleTimeoutSeconds <= Self.idleTimeoutLimit else {
                throw InputError(
                    setting: "idleTimeout", value: "\(idleTimeoutSeconds)",
                    allowed: "more than 0 and at most \(Int(Self.idleTimeoutLimit)) seconds")
            }
            for delay in retryDelays where !(delay.isFinite && (0...maximumEventAgeSeconds).contains(delay)) {
                throw InputError(
                    setting: "retryDelays", value: "\(delay)",
                    allowed: "0...\(Int(maximumEventAgeSeconds)) seconds (the maximum event age)")
            }
            guard (0.0005...0.01).contains(sampleInterval) else {
                throw InputError(field: "sampleInterval", value: "\(sampleInterval)", allowed: "0.0005...0.01 seconds")
            }
        }

        /// What the asynchronous retries follow.
        var retryPolicy: RetryPolicy {
            RetryPolicy(retries: retries, delays: retryDelays, maximumEventAgeSeconds: maximumEventAgeSeconds)
        }
    }
}
