import CapsizeCore
import CloudModel
import Foundation
import Planning
import TestSupport
import Testing

@testable import Studies

/// What `recommend` and `export` deploy, from the words a user gives: a function read from capsize's home, the
/// workload as the recommendation sized it.
@Suite struct DeployWordsTests {
    let home = TestFolder("capsize-deploy-words")

    /// Writes `definition` where and as `capsize function create` records it (`FunctionStore`'s encoder).
    func record(_ definition: FunctionDefinition, as name: String? = nil) throws {
        let folder = home.path + "/functions/\(name ?? definition.name)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try FunctionStore.encoder.encode(definition).write(to: URL(fileURLWithPath: folder + "/function.json"))
    }

    func definition(name: String = "resize", memoryMB: Int = 512) throws -> FunctionDefinition {
        var configuration = try FunctionConfiguration(memoryMB: 512, timeoutSeconds: 30)
        configuration.memoryMB = memoryMB
        return FunctionDefinition(
            name: name, runtime: .python312, handler: "app.handler", codeDirectory: home.path + "/code",
            sourceDirectory: "src", configuration: configuration, variables: ["A": "1"],
            createdAt: Date(timeIntervalSince1970: 1_796_558_400))  // whole seconds, as ISO 8601 keeps them
    }

    @Test("a function defined in capsize's home is read back as it was recorded")
    func loads() throws {
        let recorded = try definition()
        try record(recorded)
        let job = try DeployWords(function: "resize").job(workload: nil, environment: ["CAPSIZE_HOME": home.path])
        #expect(job.function == recorded)
    }

    @Test("an unknown function lists those defined; a bad name or a definition Lambda refuses is named")
    func refusals() throws {
        try record(try definition())
        let unknown = try #require(throws: InputError.self) {
            try FunctionDefinition.load(named: "missing", home: home.path)
        }
        #expect(unknown.field == "function" && unknown.isSetting && unknown.allowed.contains("resize"))
        let traversal = try #require(throws: InputError.self) {
            try FunctionDefinition.load(named: "../resize", home: home.path)
        }
        #expect(traversal.field == "function")
        try record(try definition(name: "big", memoryMB: 20_000))
        let big = try #require(throws: InputError.self) { try FunctionDefinition.load(named: "big", home: home.path) }
        #expect(big.field.hasSuffix("big/function.json: configuration") && big.value == "20000", "\(big)")
        try record(try definition(name: "other"), as: "renamed")
        #expect(throws: InputError.self) { try FunctionDefinition.load(named: "renamed", home: home.path) }
        try Data("{".utf8).write(to: URL(fileURLWithPath: home.path + "/functions/resize/function.json"))
        let broken = try #require(throws: InputError.self) {
            try FunctionDefinition.load(named: "resize", home: home.path)
        }
        #expect(broken.field.contains("resize/function.json"), "\(broken)")
    }

    @Test("recommend --export without an image or a function is refused naming image before anything is measured")
    func exportNeedsImage() throws {
        func request(_ deploy: DeployWords) throws -> RecommendRequest {
            try RecommendRequest(
                workload: "command", parameters: ["--", "/bin/true"], runs: 1, strategy: "cost", memoryList: nil,
                architectures: "x86_64", prices: nil, export: home.path + "/out", exportOption: nil, deploy: deploy,
                governsCPUShare: true, variables: UserVariables())
        }
        let error = try #require(throws: InputError.self) { try request(DeployWords()) }
        #expect(error.field == "image" && error.isSetting)
        #expect(throws: Never.self) { try request(DeployWords(placeholder: true)) }
        #expect(throws: Never.self) { try request(DeployWords(image: "busybox")) }
    }

    @Test("the workload is sized with every parameter, the size one at the size recommended for")
    func sized() throws {
        let request = try RecommendRequest(
            workload: "train-mlp", parameters: ["--hidden", "4096", "--steps", "3"], runs: 1, strategy: "cost",
            memoryList: nil, architectures: "x86_64", prices: nil, export: nil, exportOption: nil,
            governsCPUShare: true, variables: UserVariables())
        #expect(request.sized.name == "train-mlp" && request.sized.program == nil)
        #expect(
            request.sized.parameters == [
                "--batch", "256", "--inputs", "256", "--hidden", "4096", "--layers", "2", "--classes", "10",
                "--steps", "3", "--seed", "42", "--lr", "0.05",
            ])
        let command = try RecommendRequest(
            workload: "command", parameters: ["--size", "12", "--", "/bin/echo", "{size}", "{index}"], runs: 1,
            strategy: "cost", memoryList: nil, architectures: "x86_64", prices: nil, export: nil, exportOption: nil,
            governsCPUShare: true, variables: UserVariables())
        #expect(command.sized.program == ["/bin/echo", "12", "0"])
    }
}
