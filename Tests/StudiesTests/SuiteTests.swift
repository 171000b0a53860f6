import CapsizeCore
import Compute
import Execution
import Foundation
import Studies
import Testing

/// Suites as people write them: read from YAML, refused at the place of a bad value, planned as the commands would.
@Suite struct SuiteTests {
    private func plan(_ text: String, devices: [DeviceInfo] = []) throws -> SuitePlan {
        try SuitePlan(try Suite(yaml: text, file: "suite.yaml"), devices: devices, backend: .local)
    }

    /// A suite of one train-mlp benchmark named `name` with `lines` as its further keys, one per line (the keys
    /// start on line 5, column 5).
    static func trainMLP(name: String = "b", _ lines: String...) -> String {
        "name: s\nbenchmarks:\n  - name: \(name)\n    workload: train-mlp\n"
            + lines.map { "    \($0)\n" }.joined()
    }

    private func refusal(_ text: String) -> InputError? {
        do {
            _ = try plan(text)
            return nil
        } catch let error as InputError {
            return error
        } catch {
            Issue.record("not an InputError: \(error)")
            return nil
        }
    }

    /// PoCL's OpenCL CPU device, as the driver would describe it.
    private static let pocl = try! JSONDecoder().decode(
        DeviceInfo.self,
        from: Data(
            """
            {"index": 0, "platform": "Portable Computing Language", "platformVersion": "OpenCL 3.0",
             "name": "pthread-cpu", "vendor": "GenuineIntel", "kind": "cpu", "openCLVersion": "3.0",
             "driverVersion": "5", "computeUnits": 2, "clockMHz": 0, "globalMemoryBytes": 1073741824,
             "maxAllocationBytes": 268435456, "localMemoryBytes": 65536, "maxWorkGroupSize": 4096}
            """.utf8))

    @Test("the default suite runs both workloads on all three executors, breaks a cap, compares, recommends")
    func defaultSuiteCoversTheIssue() throws {
        let plan = try SuitePlan(Suite.defaultSuite, devices: [Self.pocl], backend: .local)
        let kinds = Set(plan.steps.map(\.kind))
        #expect(kinds == [.bench, .invoke, .batch, .caps, .recommend])
        #expect(Set(plan.suite.benchmarks.map(\.workload)) == ["train-mlp", "render-frames"])
        #expect(plan.steps.contains { $0.side == .gpu && $0.notes.joined().contains("stands in") })
        let caps = plan.suite.benchmarks.compactMap(\.caps)
        #expect(caps.contains { $0.timeCapScale < 0.01 }, "a time cap scaled down so that it breaks quickly")
        let recommend = try #require(
            plan.steps.compactMap { step -> (RecommendRequest, Bool)? in
                if case .recommend(let request, let export) = step.work { return (request, export) } else { return nil }
            }.first)
        #expect(recommend.0.sizeText == "10000", "recommended for 10000 frames, measured at 2")
        #expect(recommend.1, "with deployment files, as make run wrote them before")
    }

    @Test("a suite as the issue writes it reads naturally: params, memory list, repeat, sweep, caps, recommend")
    func issueExample() throws {
        let suite = try Suite(
            yaml: """
                name: nightly GPU vs CPU
                benchmarks:
                  - name: mlp, small functions
                    workload: train-mlp
                    params: {batch: 256, hidden: 1024}
                    executor: function
                    memory: [128, 1769]
                    repeat: 3
                    sweep: {param: hidden, values: 256..8192*2}
                    caps: true
                    recommend: {runs: 100, strategy: balanced}
                """, file: "nightly.yaml")
        let benchmark = try #require(suite.benchmarks.first)
        #expect(benchmark.name == "mlp, small functions")
        #expect(benchmark.parameters == ["--batch=256", "--hidden=1024"])
        #expect(benchmark.memory == [128, 1769] && benchmark.repeats == 3 && benchmark.executor == .function)
        #expect(benchmark.sweep?.param == "hidden" && benchmark.sweep?.values == "256..8192*2")
        #expect(benchmark.caps != nil && benchmark.recommend?.runs == 100)
        let steps = try SuitePlan(suite, devices: [], backend: .local).steps.map(\.key)
        #expect(steps == ["b0/invoke/128", "b0/invoke/1769", "b0/sweep", "b0/caps", "b0/recommend"])
    }

    @Test("a memory size Lambda refuses is named at its line and column, with invoke's own range")
    func memoryOutOfRange() throws {
        let error = try #require(
            refusal(Self.trainMLP(name: "fn", "executor: function", "memory: [128, 64]")))
        #expect(error.field == "suite.yaml:6:13: benchmarks[0].memory", "\(error)")
        #expect(error.value == "64")
        #expect(error.allowed.contains("10240"), "\(error.allowed)")
    }

    @Test("a workload parameter out of range is named under params, where it was written")
    func parameterOutOfRange() throws {
        let error = try #require(
            refusal(Self.trainMLP("params: {batch: 8, hidden: 0}")))
        #expect(error.field.hasPrefix("suite.yaml:5:"), "\(error)")
        #expect(error.field.hasSuffix("benchmarks[0].params.hidden"), "\(error)")
        #expect(error.value == "0")
    }

    @Test("a parameter the workload does not have is named under params, with the workload's parameters")
    func unknownParameter() throws {
        let error = try #require(
            refusal(Self.trainMLP("params: {hiden: 3}")))
        #expect(error.field == "suite.yaml:5:21: benchmarks[0].params.hiden", "\(error)")
        #expect(error.allowed.contains("hidden") && !error.allowed.contains("--"), "\(error.allowed)")
    }

    @Test("an unknown key is refused with the keys allowed")
    func unknownKey() throws {
        let error = try #require(
            refusal(Self.trainMLP("repeats: 3")))
        #expect(error.field == "suite.yaml:5:5: benchmarks[0].repeats", "\(error)")
        #expect(error.allowed.contains("repeat,"), "\(error.allowed)")
    }

    @Test("a value of the wrong type, a bad executor and broken YAML are placed too")
    func wrongTypes() throws {
        let repeatText = try #require(
            refusal("name: s\nbenchmarks:\n  - {name: b, workload: train-mlp, repeat: three}\n"))
        #expect(repeatText.field == "suite.yaml:3:44: benchmarks[0].repeat", "\(repeatText)")
        #expect(repeatText.value == "three")
        let executor = try #require(
            refusal("name: s\nbenchmarks:\n  - {name: b, workload: train-mlp, executor: lambda}\n"))
        #expect(executor.field.hasSuffix("benchmarks[0].executor") && executor.allowed.contains("function, batch"))
        let broken = try #require(refusal("name: s\nbenchmarks:\n  - name: [b\n"))
        #expect(broken.field.hasPrefix("suite.yaml:"), "\(broken)")
        #expect(broken.allowed.hasPrefix("YAML"), "\(broken)")
        let repeated = try #require(
            refusal("name: s\nbenchmarks:\n  - {name: b, workload: train-mlp}\n  - {name: b, workload: train-mlp}\n"))
        #expect(repeated.field.hasSuffix("benchmarks[1].name"), "\(repeated)")
    }

    @Test("a caps study's time cap scale is checked as caps checks it, named as the suite's key")
    func capsScale() throws {
        let error = try #require(
            refusal(Self.trainMLP("executor: function", "caps: {time-cap-scale: 2}")))
        #expect(error.field == "suite.yaml:6:28: benchmarks[0].caps.time-cap-scale", "\(error)")
    }

    @Test("a GPU-vs-CPU pair says when no GPU exists and the PoCL CPU device stands in, or that there is no OpenCL")
    func gpuVsCPUWithoutGPU() throws {
        let text = "name: s\nbenchmarks:\n  - {name: b, workload: train-mlp, gpu-vs-cpu: true}\n"
        let withPoCL = try plan(text, devices: [Self.pocl]).steps
        #expect(withPoCL.map(\.label) == ["cpu", "opencl:0"])
        #expect(withPoCL[1].notes.joined().contains("no GPU on this machine"))
        let without = try plan(text).steps
        #expect(without.map(\.label) == ["cpu"])
        #expect(without[0].notes.joined().contains("no OpenCL device"))
    }

    @Test("every suite in Benchmarks/Suites is accepted as the commands would accept it")
    func shippedSuites() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Benchmarks/Suites").standardizedFileURL
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".yaml") }
        #expect(!files.isEmpty)
        for file in files {
            let suite = try Suite(path: folder.appendingPathComponent(file).path)
            #expect(try !SuitePlan(suite, devices: [Self.pocl], backend: .local).steps.isEmpty, "\(file)")
        }
    }
}
