import CapsizeCore
import Testing

@testable import CloudModel

@Suite struct BatchModelTests {
    @Test("evaluateOnExit globs match exit codes, reasons and status reasons; no match means retry")
    func retryRules() throws {
        let strategy = try RetryStrategy(attempts: 3, evaluateOnExit: [
            EvaluateOnExit(action: .exit, onExitCode: "1*"),
            EvaluateOnExit(action: .retry, onStatusReason: "OutOfMemoryError*"),
            EvaluateOnExit(action: .exit, onReason: "CannotPullContainerError*"),
        ])
        #expect(!strategy.shouldRetry(attempt: 1, exitCode: 12, reason: nil, statusReason: nil))
        #expect(strategy.shouldRetry(attempt: 1, exitCode: 2, reason: nil, statusReason: nil), "no rule matches: retry")
        #expect(strategy.shouldRetry(attempt: 1, exitCode: nil, reason: nil, statusReason: StatusReason.outOfMemory))
        #expect(!strategy.shouldRetry(attempt: 1, exitCode: nil, reason: "CannotPullContainerError: x", statusReason: nil))
        #expect(!strategy.shouldRetry(attempt: 3, exitCode: 2, reason: nil, statusReason: nil), "attempts used up")
        #expect(!strategy.shouldRetry(attempt: 1, exitCode: nil, reason: nil, statusReason: StatusReason.timeout),
                "timed-out attempts are not retried")
    }

    @Test("retry strategies and rules out of Batch's limits are refused", arguments: [0, 11])
    func attempts(count: Int) {
        #expect(throws: InputError.self) { try RetryStrategy(attempts: count) }
    }

    @Test("rule patterns: exit codes are digits, a * only at the end, at least one pattern")
    func patterns() {
        #expect(throws: InputError.self) { try EvaluateOnExit(action: .retry) }
        #expect(throws: InputError.self) { try EvaluateOnExit(action: .retry, onExitCode: "1*2") }
        #expect(throws: InputError.self) { try EvaluateOnExit(action: .retry, onExitCode: "abc") }
        #expect(throws: InputError.self) {
            try RetryStrategy(attempts: 2, evaluateOnExit: Array(repeating: try EvaluateOnExit(action: .retry, onExitCode: "1"), count: 6))
        }
    }

    @Test("array sizes 2...10000 only", arguments: [(1, false), (2, true), (10_000, true), (10_001, false)])
    func arraySize(size: Int, valid: Bool) {
        if valid { #expect(throws: Never.self) { try BatchLimits.checkArraySize(size) } }
        else { #expect(throws: InputError.self) { try BatchLimits.checkArraySize(size) } }
    }

    @Test("dependencies: at most 20, every id known, and cycles are found")
    func dependencies() throws {
        let known: Set = ["a", "b"]
        #expect(throws: Never.self) { try BatchLimits.checkDependencies([JobDependency(jobId: "a")], known: known) }
        let unknown = try #require(throws: InputError.self) {
            try BatchLimits.checkDependencies([JobDependency(jobId: "zzz")], known: known)
        }
        #expect(unknown.value == "zzz")
        #expect(throws: InputError.self) {
            try BatchLimits.checkDependencies((0..<21).map { _ in JobDependency(jobId: "a") }, known: known)
        }
        #expect(dependencyCycle(["a": ["b"], "b": ["c"], "c": []]) == nil)
        let cycle = try #require(dependencyCycle(["a": ["b"], "b": ["c"], "c": ["a"]]))
        #expect(Set(cycle) == ["a", "b", "c"] && cycle.first == cycle.last)
        #expect(dependencyCycle(["a": ["a"]]) == ["a", "a"])
    }

    @Test("timeouts under 60 s are accepted with a warning; non-positive ones are refused")
    func timeouts() throws {
        #expect(try BatchLimits.timeoutWarning(60) == nil)
        #expect(try BatchLimits.timeoutWarning(5)?.contains("60 s") == true)
        #expect(throws: InputError.self) { try BatchLimits.timeoutWarning(0) }
    }

    @Test("resources out of range name the field", arguments: [(0.1, 2048, 0, "--vcpus"), (1, 2, 0, "--memory"), (1, 2048, -1, "--gpus")])
    func resources(vcpus: Double, memory: Int, gpus: Int, field: String) throws {
        let error = try #require(throws: InputError.self) { try ResourceRequirements(vcpus: vcpus, memoryMiB: memory, gpus: gpus) }
        #expect(error.field == field)
    }
}
