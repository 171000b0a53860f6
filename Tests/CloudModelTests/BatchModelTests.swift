import CapsizeCore
import Testing

@testable import CloudModel

@Suite struct BatchModelTests {
    @Test("evaluateOnExit globs match exit codes, reasons and status reasons; no match means retry")
    func retryRules() throws {
        let strategy = try RetryStrategy(
            attempts: 3,
            evaluateOnExit: [
                EvaluateOnExit(action: .exit, onExitCode: "1*"),
                EvaluateOnExit(action: .retry, onStatusReason: "OutOfMemoryError*"),
                EvaluateOnExit(action: .exit, onReason: "CannotPullContainerError*"),
            ])
        #expect(!strategy.shouldRetry(attempt: 1, exitCode: 12, reason: nil, statusReason: nil))
        #expect(strategy.shouldRetry(attempt: 1, exitCode: 2, reason: nil, statusReason: nil), "no rule matches: retry")
        #expect(strategy.shouldRetry(attempt: 1, exitCode: nil, reason: nil, statusReason: StatusReason.outOfMemory))
        #expect(
            !strategy.shouldRetry(attempt: 1, exitCode: nil, reason: "CannotPullContainerError: x", statusReason: nil))
        #expect(!strategy.shouldRetry(attempt: 3, exitCode: 2, reason: nil, statusReason: nil), "attempts used up")
        #expect(
            !strategy.shouldRetry(attempt: 1, exitCode: nil, reason: nil, statusReason: StatusReason.timeout),
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
            try RetryStrategy(
                attempts: 2,
                evaluateOnExit: Array(repeating: try EvaluateOnExit(action: .retry, onExitCode: "1"), count: 6))
        }
    }

    @Test(
        "a memory kill as Batch reports it (exit code 137, container reason OutOfMemoryError) matches rules written for AWS"
    )
    func memoryKillRules() throws {
        let killed = (exitCode: StatusReason.outOfMemoryExitCode, reason: StatusReason.outOfMemory)
        // AWS's two ways to retry a memory kill (by container reason, by exit code), then its catch-all exit.
        for retry in [
            try EvaluateOnExit(action: .retry, onReason: "OutOfMemoryError*"),
            try EvaluateOnExit(action: .retry, onExitCode: "137"),
        ] {
            let strategy = try RetryStrategy(
                attempts: 2, evaluateOnExit: [retry, try EvaluateOnExit(action: .exit, onReason: "*")])
            #expect(
                strategy.shouldRetry(
                    attempt: 1, exitCode: killed.exitCode, reason: killed.reason,
                    statusReason: StatusReason.essentialContainerExited))
            // AWS's own "exit for any reason" rule catches an attempt that has no container reason at all.
            #expect(
                !strategy.shouldRetry(
                    attempt: 1, exitCode: 1, reason: nil, statusReason: StatusReason.essentialContainerExited))
        }
        #expect(
            try EvaluateOnExit(action: .exit, onExitCode: "*").matches(exitCode: nil, reason: nil, statusReason: nil))
        #expect(
            !(try EvaluateOnExit(action: .exit, onReason: "OutOfMemoryError*"))
                .matches(exitCode: 137, reason: nil, statusReason: nil))
    }

    @Test(
        "patterns Batch accepts: letters, digits, '.', ':', spaces and tabs, up to 512 characters, a trailing *",
        arguments: [
            ("onReason", "OutOfMemoryError*"), ("onReason", "*"), ("onStatusReason", "Host EC2*"),
            ("onStatusReason", "Essential container in task exited"), ("onReason", "CannotPullContainerError: a.b*"),
            ("onReason", "tab\there"), ("onExitCode", "137"), ("onExitCode", "1*"), ("onExitCode", "*"),
            ("onReason", String(repeating: "a", count: 512)),
        ])
    func acceptedPatterns(field: String, pattern: String) {
        #expect(throws: Never.self) { try Self.rule(field, pattern) }
    }

    @Test(
        "patterns Batch refuses name the field and the characters allowed",
        arguments: [
            ("onReason", "Out-of-memory*"), ("onReason", "CLIENT_ERROR*"), ("onStatusReason", "a*b"),
            ("onStatusReason", "it's"), ("onReason", ""), ("onReason", String(repeating: "a", count: 513)),
            ("onExitCode", "13a"), ("onExitCode", "-1"), ("onExitCode", "1*2"), ("onExitCode", " 1"),
            ("onExitCode", String(repeating: "1", count: 513)),
        ])
    func refusedPatterns(field: String, pattern: String) throws {
        let error = try #require(throws: InputError.self) { try Self.rule(field, pattern) }
        #expect(error.field == "evaluateOnExit.\(field)")
        #expect(error.value == pattern)
        let allowed = field == "onExitCode" ? "digits" : "letters, digits, periods (.), colons (:), spaces and tabs"
        #expect(error.allowed == allowed + ", 1 to 512 characters, optionally ending in *")
    }

    static func rule(_ field: String, _ pattern: String) throws(InputError) -> EvaluateOnExit {
        switch field {
        case "onExitCode": try EvaluateOnExit(action: .retry, onExitCode: pattern)
        case "onReason": try EvaluateOnExit(action: .retry, onReason: pattern)
        default: try EvaluateOnExit(action: .retry, onStatusReason: pattern)
        }
    }

    @Test("array sizes 2...10000 only", arguments: [(1, false), (2, true), (10_000, true), (10_001, false)])
    func arraySize(size: Int, valid: Bool) {
        if valid {
            #expect(throws: Never.self) { try BatchLimits.checkArraySize(size) }
        } else {
            #expect(throws: InputError.self) { try BatchLimits.checkArraySize(size) }
        }
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

    @Test(
        "resources out of range name the field",
        arguments: [(0.1, 2048, 0, "vcpus"), (1, 2, 0, "memory"), (1, 2048, -1, "gpus")])
    func resources(vcpus: Double, memory: Int, gpus: Int, field: String) throws {
        let error = try #require(throws: InputError.self) {
            try ResourceRequirements(vcpus: vcpus, memoryMiB: memory, gpus: gpus)
        }
        #expect(error.field == field && error.isSetting)
    }
}
