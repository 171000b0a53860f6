import CapsizeCore
import Compute
import Testing

@testable import Workloads

private let openCLDevices = (try? OpenCL.devices()) ?? []

@Suite struct MLPTests {
    let tiny = TrainMLP(batch: 16, inputs: 5, hidden: 7, layers: 2, classes: 3, steps: 1, seed: 7, learningRate: 1)

    @Test("one SGD step moves every weight and bias by its finite-difference gradient")
    func gradientMatchesFiniteDifferences() throws {
        let trainer = HostMLPTrainer(tiny)
        let before = (0..<3).map { trainer.weights[$0].array }
        let biasesBefore = (0..<3).map { trainer.biases[$0].array }
        trainer.step()
        let analyticalWeights = (0..<3).map { l in zip(before[l], trainer.weights[l].array).map { Double($0 - $1) } }
        let analyticalBiases = (0..<3).map { l in zip(biasesBefore[l], trainer.biases[l].array).map { Double($0 - $1) }
        }
        trainer.reset()
        let epsilon: Float = 1e-3
        func numerical(_ pointer: UnsafeMutablePointer<Float>, _ index: Int) -> Double {
            let saved = pointer[index]
            pointer[index] = saved + epsilon
            let plus = trainer.loss()
            pointer[index] = saved - epsilon
            let minus = trainer.loss()
            pointer[index] = saved
            return (plus - minus) / Double(2 * epsilon)
        }
        var checked = 0
        for layer in 0..<3 {
            for index in stride(from: 0, to: trainer.weights[layer].count, by: 3) {
                let expected = numerical(trainer.weights[layer].pointer, index)
                #expect(
                    abs(analyticalWeights[layer][index] - expected) <= 1e-3 + 0.02 * abs(expected),
                    "layer \(layer) weight \(index)")
                checked += 1
            }
            for index in 0..<trainer.biases[layer].count {
                let expected = numerical(trainer.biases[layer].pointer, index)
                #expect(
                    abs(analyticalBiases[layer][index] - expected) <= 1e-3 + 0.02 * abs(expected),
                    "layer \(layer) bias \(index)")
            }
        }
        #expect(checked > 20)
        #expect(analyticalWeights.joined().contains { abs($0) > 1e-3 }, "gradients must not all vanish")
    }

    @Test("the loss falls on the synthetic data set")
    func lossFalls() throws {
        let model = TrainMLP(batch: 64, inputs: 32, hidden: 64, layers: 2, classes: 4, steps: 20)
        let result = try HostMLPTrainer(model).run()
        let losses = try #require(result.series["loss"])
        #expect(losses.count == 20)
        #expect(losses.last! < 0.5 * losses.first!)
        #expect(result.flops == model.flopsPerStep * 20)
    }

    @Test("the same seed gives the same loss curve and checksum on repeated host runs")
    func hostRunsRepeat() throws {
        let model = TrainMLP(batch: 32, inputs: 16, hidden: 32, layers: 1, classes: 5, steps: 5)
        let trainer = HostMLPTrainer(model)
        let first = try trainer.run()
        let second = try trainer.run()
        #expect(first.series["loss"] == second.series["loss"])
        #expect(first.checksum == second.checksum)
    }

    @Test(
        "CPU (OpenBLAS) and OpenCL (CLBlast) loss curves agree within 1e-3 after 10 steps",
        .enabled(if: !openCLDevices.isEmpty))
    func openCLMatchesHost() throws {
        let model = TrainMLP(batch: 64, inputs: 48, hidden: 96, layers: 3, classes: 10, steps: 10)
        let host = try model.prepare(on: .host, options: RunOptions()).run()
        for device in openCLDevices {
            let device = try model.prepare(on: .openCL(device), options: RunOptions()).run()
            let a = try #require(host.series["loss"])
            let b = try #require(device.series["loss"])
            #expect(a.count == 10 && b.count == 10)
            for (x, y) in zip(a, b) { #expect(abs(x - y) / abs(x) <= 1e-3) }
            #expect(b.last! < b.first!)
        }
    }

    @Test(
        "on odd shapes, OpenCL losses read once at the end match the CPU's within 1e-3, step by step",
        .enabled(if: !openCLDevices.isEmpty),
        arguments: [
            // batch, inputs, hidden, layers, classes, steps, losses held on the device (in rows of the batch)
            (37, 13, 29, 2, 7, 6, 64), (1, 3, 5, 1, 2, 4, 64), (53, 31, 67, 3, 11, 5, 2),
        ])
    func openCLMatchesHostOnOddShapes(shape: (Int, Int, Int, Int, Int, Int, Int)) throws {
        let (batch, inputs, hidden, layers, classes, steps, held) = shape
        let model = TrainMLP(
            batch: batch, inputs: inputs, hidden: hidden, layers: layers, classes: classes, steps: steps,
            learningRate: 0.1)
        let hostTrainer = HostMLPTrainer(model)
        let host = try hostTrainer.run()
        for device in openCLDevices {
            let trainer = try OpenCLMLPTrainer(
                model, device: device, source: Kernels.require("mlp.cl", overrideDirectory: nil),
                lossFloats: held * batch)
            let result = try trainer.run()
            let a = try #require(host.series["loss"])
            let b = try #require(result.series["loss"])
            let seconds = try #require(result.series["step_seconds"])
            #expect(a.count == steps && b.count == steps && seconds.count == steps)
            #expect(seconds.allSatisfy { $0 >= 0 })
            for (x, y) in zip(a, b) { #expect(abs(x - y) <= 1e-3 * max(1, abs(x))) }
            for layer in 0...layers {
                let expected = hostTrainer.weights(layer: layer)
                let actual = try trainer.weights(layer: layer)
                #expect(zip(expected, actual).allSatisfy { abs($0 - $1) <= 1e-3 }, "layer \(layer)")
            }
        }
    }

    @Test(
        "with Xgemm parameters chosen per GEMM shape, the OpenCL loss curve still matches the CPU's within 1e-3",
        .enabled(if: !openCLDevices.isEmpty))
    func openCLTunedPerShapeMatchesHost() throws {
        // Odd sizes above CLBlast's direct-kernel limit: the indirect Xgemm kernel with padding runs.
        let model = TrainMLP(batch: 401, inputs: 389, hidden: 419, layers: 1, classes: 10, steps: 3)
        let host = try #require(HostMLPTrainer(model).run().series["loss"])
        let candidates = [CLBlast.xgemmCandidates[5], CLBlast.xgemmCandidates[6]]
        let trainer = try OpenCLMLPTrainer(
            model, device: openCLDevices[0], source: Kernels.require("mlp.cl", overrideDirectory: nil),
            shapeCandidates: candidates)
        let tuning = try #require(trainer.shapeTuning)
        // Layer 0's forward and weight-gradient GEMMs; layer 1's three (10 classes) are below the limit.
        #expect(Set(tuning.chosen.keys).count == 2)
        #expect(tuning.chosen.values.allSatisfy { candidates.contains($0) })
        let result = try trainer.run()
        #expect(result.notes.contains { $0.hasPrefix("CLBlast Xgemm parameters chosen per GEMM shape: ") })
        let losses = try #require(result.series["loss"])
        #expect(losses.count == 3)
        for (x, y) in zip(host, losses) { #expect(abs(x - y) <= 1e-3 * max(1, abs(x))) }
    }

    @Test("the analytical FLOP count follows the documented formula")
    func flopCount() {
        // One hidden layer: 4→3→2, batch 5. GEMMs: layer 0 forward + weight gradient = 2·(2·5·4·3);
        // layer 1 forward + weight + input gradients = 3·(2·5·3·2).
        let model = TrainMLP(batch: 5, inputs: 4, hidden: 3, layers: 1, classes: 2, steps: 1)
        let gemm: Double = 2 * (2 * 5 * 4 * 3) + 3 * (2 * 5 * 3 * 2)
        // Bias and bias gradient (2Bn), bias update (n), weight update (kn), per layer.
        let layer0: Double = 2 * 5 * 3 + 3 + 4 * 3
        let layer1: Double = 2 * 5 * 2 + 2 + 3 * 2
        let reluBackward: Double = 5 * 3
        let softmax: Double = 5 * 5 * 2
        #expect(model.flopsPerStep == gemm + layer0 + layer1 + reluBackward + softmax)
    }

    @Test("a size whose estimate exceeds host memory is refused before allocation, naming the size")
    func refusesTooLarge() throws {
        let model = TrainMLP(batch: 65536, inputs: 65536, hidden: 65536, layers: 8, classes: 10)
        #expect(model.estimate.hostBytes > HostInfo.current().memoryTotalBytes)
        let error = try #require(throws: InputError.self) { try model.prepare(on: .host, options: RunOptions()) }
        #expect(error.field == "hidden")
        #expect(error.description.contains("host memory"))
    }

    @Test(
        "a size that fits the host but not the OpenCL device's max allocation is refused",
        .enabled(if: !openCLDevices.isEmpty))
    func refusesTooLargeForDevice() throws {
        let device = openCLDevices[0]
        let side = Int((Double(device.info.maxAllocationBytes) / 4).squareRoot()) + 64
        let model = TrainMLP(batch: 1, inputs: side, hidden: side, layers: 1, classes: 2)
        let error = try #require(throws: InputError.self) {
            try model.prepare(on: .openCL(device), options: RunOptions())
        }
        #expect(error.description.contains("max allocation") || error.description.contains("memory"))
    }

    @Test(
        "parameters are validated with the field, the value and the allowed range",
        arguments: [
            (["--batch", "0"], "batch"), (["--batch", "-3"], "batch"), (["--hidden", "abc"], "hidden"),
            (["--layers", "65"], "layers"), (["--lr", "nan"], "lr"), (["--classes", "1"], "classes"),
            (["--steps", "99999999999999999999999"], "steps"), (["--widht", "3"], "parameter"),
            (["--batch"], "--batch"),
        ])
    func validation(arguments: [String], field: String) throws {
        let error = try #require(throws: InputError.self) {
            try ParameterValues(arguments: arguments, specs: TrainMLP.parameters)
        }
        #expect(error.field == field)
        #expect(!error.allowed.isEmpty)
    }

    @Test("devices resolve: cpu is OpenBLAS, an unknown opencl index lists what exists")
    func deviceResolution() throws {
        let model = TrainMLP(batch: 1, inputs: 1, hidden: 1, layers: 1, classes: 2)
        guard case .host = try model.resolve(.cpu, devices: openCLDevices) else {
            Issue.record("cpu must resolve to the host")
            return
        }
        let error = try #require(throws: InputError.self) { try model.resolve(.openCL(99), devices: openCLDevices) }
        #expect(error.field == "device")
        #expect(error.allowed.contains("native"))
        for device in openCLDevices { #expect(error.allowed.contains("opencl:\(device.info.index)")) }
    }
}
