import CloudModel
import Foundation

extension BatchExecutor {
    /// Whether an attempt succeeded, its exit code, Batch's status reason and the container's reason, as Batch
    /// reports them (docs/aws-reference.md): `Essential container in task exited` whenever the container exited,
    /// SUCCEEDED or not; a memory kill is exit code 137 with the container reason `OutOfMemoryError: ...`.
    static func judge(
        _ outcome: AttemptLauncher.Outcome, definition: JobDefinition
    ) -> (Bool, Int32?, String?, String?) {
        guard let result = outcome.result else {
            let text = "CannotStartContainerError: \(outcome.failure ?? "")"
            return (false, nil, text, text)
        }
        let exitCode = result.exitCode ?? result.signal.map { 128 + $0 }
        switch result.reason {
        case .completed:
            if definition.workerReplies, WorkerReply.lastAnswer(in: result.stdout.text)?.status != .success {
                return (false, 1, StatusReason.essentialContainerExited, nil)
            }
            return (true, 0, StatusReason.essentialContainerExited, nil)
        case .timeout: return (false, exitCode, StatusReason.timeout, nil)
        case .outOfMemory:
            return (
                false, StatusReason.outOfMemoryExitCode, StatusReason.essentialContainerExited, StatusReason.outOfMemory
            )
        case .error, .crash, .storageExceeded:
            return (false, exitCode, StatusReason.essentialContainerExited, nil)
        }
    }
}
