import CapsizeCore
import Execution
import Foundation
import TestSupport
import Testing

@testable import Studies

/// The requests built from what a user gives (words, lists, files): what they hold, and errors that name settings.
@Suite struct RequestTests {
    @Test("variables come from the files, then K=V words, then names passed from the environment, later ones winning")
    func variables() throws {
        let home = try temporaryDirectory("capsize-variables")
        defer { try? FileManager.default.removeItem(atPath: home) }
        let file = home + "/variables.env"
        try "# set by the file\n\nA=file\nB=x=y\n".write(toFile: file, atomically: true, encoding: .utf8)
        let variables = UserVariables(assignments: ["A=word"], files: [file], passed: ["P", "UNSET"])
        #expect(try variables.resolve(from: ["P": "passed"]) == ["A": "word", "B": "x=y", "P": "passed"])
        try "A=1\nnot a variable\n".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(throws: InputError(setting: "envFile", value: file + ":2", allowed: "KEY=VALUE")) {
            try UserVariables(files: [file]).resolve(from: [:])
        }
        #expect(throws: InputError(setting: "env", value: "A", allowed: "KEY=VALUE")) {
            try UserVariables(assignments: ["A"]).resolve(from: [:])
        }
        #expect(
            throws: InputError(
                setting: "passEnv", value: "CAPSIZE_HOME", allowed: "a variable other than CAPSIZE_HOME (never passed)")
        ) { try UserVariables(passed: ["CAPSIZE_HOME"]).resolve(from: ["CAPSIZE_HOME": "/store"]) }
    }

    @Test("a job's words are a workload the worker runs, its parameters checked with {index} as 0, or a program")
    func jobDefinition() throws {
        func definition(_ words: [String], evaluateOnExit: [String] = []) throws -> JobDefinition {
            try JobDefinition(
                words: words, name: nil, vcpus: 1, memoryMiB: 512, gpus: 0, timeoutSeconds: nil, attempts: 2,
                evaluateOnExit: evaluateOnExit, variables: UserVariables(), shareIdentifier: nil)
        }
        let worker = try definition(["train-mlp", "--steps", "2", "--batch", "1{index}"])
        #expect(worker.name == "train-mlp" && worker.workerReplies && worker.stdin?.contains("1{index}") == true)
        let program = try definition(["command", "/bin/echo", "{index}"], evaluateOnExit: ["retry:exitCode:2"])
        #expect(program.argv == ["/bin/echo", "{index}"] && program.name == "echo" && !program.workerReplies)
        #expect(program.retryStrategy.evaluateOnExit.map(\.action) == [.retry])
        #expect(throws: InputError.self) { try definition(["train-mlp", "--batch", "{index}"]) }
        let rule = try #require(throws: InputError.self) { try definition(["/bin/true"], evaluateOnExit: ["EXIT"]) }
        #expect(rule.isSetting && rule.field == "evaluateOnExit")
        let missing = try #require(throws: InputError.self) { try definition(["no-such-program-here"]) }
        #expect(!missing.isSetting && missing.field == "command")
    }

    @Test("a SEQUENTIAL dependency on a job is refused, mentioning the setting that chains an array instead")
    func sequentialDependency() throws {
        let error = try #require(throws: InputError.self) {
            try AdoptedDependency(parsing: "abc:SEQUENTIAL") { _ in [] }
        }
        #expect(error.field == "dependsOn" && error.allowed.contains("no job: sequential chains"))
        #expect(error.namingSetting { "--" + $0 }.allowed.contains("no job: --sequential chains"))
    }

    @Test("a deployment format is one of four names; a Batch file of a Lambda option is refused")
    func deploymentFormat() throws {
        #expect(try DeploymentFormat(parsing: "cloudformation-batch") == .cloudFormationBatch)
        #expect(
            throws: InputError(
                setting: "format", value: "yaml", allowed: "sam, batch-job-definition, cloudformation-batch, sbatch")
        ) { try DeploymentFormat(parsing: "yaml") }
    }
}
