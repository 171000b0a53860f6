public import CapsizeCore
public import Compute
import Foundation

/// `train-mlp`: steps of full-batch SGD on a multilayer perceptron with ReLU hidden layers and a
/// softmax cross-entropy head, on a synthetic, learnable data set generated from the seed.
///
/// Shapes (row-major): X is `batch × inputs`; hidden layer l maps `d(l-1) → d(l)` with weights
/// `d(l-1) × d(l)` and a bias of `d(l)`; d(0) = inputs, d(1...layers) = hidden, d(layers+1) = classes.
public struct TrainMLP: Workload {
    public static let name = "train-mlp"
    public static let summary =
        "MLP training steps: GEMM + bias + ReLU forward, softmax cross-entropy, backward GEMMs, SGD"
    public static let sizeParameter = "hidden"
    public static let peak = PeakKind.gemm

    /// OpenCL only on a GPU (`auto` with one, `gpu`) or a device named `opencl:N`; the CPU path is OpenBLAS.
    public static func usesOpenCL(_ selector: DeviceSelector, gpus: Bool) -> Bool {
        switch selector {
        case .cpu, .native: false
        case .auto: gpus
        default: true
        }
    }
    public static let parameters: [ParameterSpec] = [
        ParameterSpec("batch", .integer(1...1_048_576), default: "256", help: "samples per step"),
        ParameterSpec("inputs", .integer(1...1_048_576), default: "256", help: "input features"),
        ParameterSpec("hidden", .integer(1...1_048_576), default: "512", help: "width of each hidden layer"),
        ParameterSpec("layers", .integer(1...64), default: "2", help: "number of hidden layers"),
        ParameterSpec("classes", .integer(2...1_048_576), default: "10", help: "output classes"),
        ParameterSpec("steps", .integer(1...10_000_000), default: "10", help: "SGD steps per run"),
        ParameterSpec(
            "seed", .integer(0...Int(Int32.max)), default: "42", help: "seed of the data set and the weights"),
        ParameterSpec("lr", .real(1e-6...10), default: "0.05", help: "learning rate"),
    ]

    public var batch: Int
    public var inputs: Int
    public var hidden: Int
    public var layers: Int
    public var classes: Int
    public var steps: Int
    public var seed: Int
    public var learningRate: Float

    public init(parameters: ParameterValues) throws(InputError) {
        self.init(
            batch: parameters.int("batch"), inputs: parameters.int("inputs"), hidden: parameters.int("hidden"),
            layers: parameters.int("layers"), classes: parameters.int("classes"), steps: parameters.int("steps"),
            seed: parameters.int("seed"), learningRate: Float(parameters.double("lr")))
    }

    public init(
        batch: Int, inputs: Int, hidden: Int, layers: Int, classes: Int, steps: Int = 10, seed: Int = 42,
        learningRate: Float = 0.05
    ) {
        self.batch = batch
        self.inputs = inputs
        self.hidden = hidden
        self.layers = layers
        self.classes = classes
        self.steps = steps
        self.seed = seed
        self.learningRate = learningRate
    }

    /// Layer widths d(0) ... d(layers+1).
    public var widths: [Int] { [inputs] + Array(repeating: hidden, count: layers) + [classes] }

    /// Number of trainable parameters (weights and biases).
    public var parameterCount: Int {
        zip(widths, widths.dropFirst()).reduce(0) { $0 + $1.0 * $1.1 + $1.1 }
    }

    /// FLOPs of one SGD step, counted analytically. With B = batch and each layer l mapping k → n:
    ///
    ///     Σ_l [ 2Bkn (forward GEMM) + 2Bkn (weight-gradient GEMM, fused with the SGD update)
    ///           + 2Bkn if l > 1 (input-gradient GEMM) + Bn (bias) + Bn (bias gradient) + n (bias update) ]
    ///     + Σ_hidden Bn (ReLU backward) + 5·B·classes (softmax and cross-entropy) + k·n (weight update's scale-add
    ///       is inside the GEMM's alpha/beta, counted as one FLOP per weight)
    ///
    /// ReLU itself and comparisons count as zero.
    public var flopsPerStep: Double {
        let b = Double(batch)
        var total = 0.0
        let pairs = Array(zip(widths, widths.dropFirst()))
        for (l, (k, n)) in pairs.enumerated() {
            let (k, n) = (Double(k), Double(n))
            total += 2 * b * k * n * (l > 0 ? 3 : 2)
            total += 2 * b * n + n + k * n
            if l < pairs.count - 1 { total += b * n }
        }
        return total + 5 * b * Double(classes)
    }

    /// Bytes of the model state and activations (the memory a step touches), without workspace.
    public var estimate: ResourceEstimate {
        let floats = memoryFloats
        let bytes = UInt64(floats.total) * 4
        let flops = flopsPerStep * Double(steps)
        // Per step at least: read weights twice (forward, backward) and write them once; write and read
        // every activation; read X once.
        let moved = Double(steps) * 4 * Double(3 * floats.weights + 2 * floats.activations + floats.input)
        let largest = UInt64(max(floats.largestLayer, floats.input, floats.workspace / 2)) * 4
        // The OpenCL path also keeps host copies of the data set and one layer's initial weights.
        let hostForOpenCL = UInt64(floats.input + batch + floats.largestLayer) * 4
        return ResourceEstimate(
            flops: flops, bytes: moved, hostBytes: bytes, deviceBytes: bytes, largestDeviceBuffer: largest,
            hostBytesBesideDevice: hostForOpenCL)
    }

    /// Float counts of everything a run allocates.
    struct MemoryFloats {
        var weights: Int  // weights and biases
        var activations: Int  // every hidden activation plus logits
        var input: Int  // X
        var workspace: Int  // two ping-pong gradient buffers
        var labels: Int  // labels, per-row losses, and the ones of the bias GEMV
        var largestLayer: Int
        var total: Int { weights + activations + input + workspace + labels }
    }

    var memoryFloats: MemoryFloats {
        let pairs = Array(zip(widths, widths.dropFirst()))
        let weights = parameterCount
        let activations = batch * (hidden * layers + classes)
        let workspace = 2 * batch * max(hidden, classes)
        return MemoryFloats(
            weights: weights, activations: activations, input: batch * inputs, workspace: workspace,
            labels: 3 * batch, largestLayer: pairs.map { $0.0 * $0.1 }.max() ?? 0)
    }

    public func resolve(_ selector: DeviceSelector, devices: [OpenCLDevice]) throws(InputError) -> ExecutionTarget {
        switch selector {
        case .cpu, .native: return .host
        case .auto, .gpu, .openCL:
            guard let device = try selector.openCLDevice(in: devices) else { return .host }
            return .openCL(device)
        }
    }

    public func prepare(on target: ExecutionTarget, options: RunOptions) throws -> any PreparedWorkload {
        try estimate.checkFits(on: target, sizeParameter: "hidden", sizeValue: "\(hidden)")
        switch target {
        case .host: return HostMLPTrainer(self)
        case .openCL(let device):
            return try OpenCLMLPTrainer(
                self, device: device, source: Kernels.require("mlp.cl", overrideDirectory: options.kernelsDirectory),
                calibration: options.calibration)
        }
    }

    /// Runs and times `steps` SGD steps one at a time, and measures the run: the host trainer's loop.
    /// - Parameters:
    ///   - step: one step, returning the loss before its update.
    ///   - finalWeights: the weights after the last step, for the checksum.
    func train(
        step: () throws -> Double, finalWeights: () throws -> [[Float]], deviceBytes: UInt64 = 0,
        notes: [String] = []
    ) rethrows -> RunResult {
        let clock = ContinuousClock()
        return try train(
            steps: {
                var losses: [Double] = []
                var stepSeconds: [Double] = []
                for _ in 0..<steps {
                    let stepStart = clock.now
                    losses.append(try step())
                    stepSeconds.append((clock.now - stepStart).seconds)
                }
                return (losses, stepSeconds)
            }, finalWeights: finalWeights, deviceBytes: deviceBytes, notes: notes)
    }

    /// Runs `steps` SGD steps in one go, and measures the run: shared by the host and OpenCL trainers.
    /// - Parameters:
    ///   - run: every step; returns each step's loss before its update and each step's seconds.
    ///   - finalWeights: the weights after the last step, for the checksum.
    func train(
        steps run: () throws -> (losses: [Double], stepSeconds: [Double]), finalWeights: () throws -> [[Float]],
        deviceBytes: UInt64 = 0, notes: [String] = []
    ) rethrows -> RunResult {
        let clock = ContinuousClock()
        let start = clock.now
        let (losses, stepSeconds) = try run()
        let seconds = (clock.now - start).seconds
        var digest = FNV1a()
        for weights in try finalWeights() { weights.withUnsafeBytes { digest.add($0) } }
        let metrics: [String: Double] = [
            "step_seconds": stepSeconds.sorted()[stepSeconds.count / 2],
            "loss_first": losses.first!, "loss_last": losses.last!,
        ]
        let throughput: [String: Double] = [
            "steps_per_second": Double(steps) / seconds, "samples_per_second": Double(steps * batch) / seconds,
        ]
        return RunResult(
            seconds: seconds, flops: flopsPerStep * Double(steps), metrics: metrics,
            series: ["loss": losses, "step_seconds": stepSeconds], checksum: digest.hex, deviceBytes: deviceBytes,
            throughput: throughput, notes: notes)
    }

    /// The synthetic data set: `classes` random centres in input space; each sample is its class's
    /// centre plus uniform noise, so a network can learn it and the loss falls.
    /// - Returns: X (`batch × inputs`, row-major) and the label of each row.
    public func dataSet() -> (x: [Float], labels: [Int32]) {
        var generator = SplitMix64(seed: UInt64(seed))
        var centres = [Float](repeating: 0, count: classes * inputs)
        for index in centres.indices { centres[index] = generator.nextSignedUnit() }
        var x = [Float](repeating: 0, count: batch * inputs)
        var labels = [Int32](repeating: 0, count: batch)
        for row in 0..<batch {
            let label = Int(generator.next() % UInt64(classes))
            labels[row] = Int32(label)
            for column in 0..<inputs {
                x[row * inputs + column] = centres[label * inputs + column] + 0.5 * generator.nextSignedUnit()
            }
        }
        return (x, labels)
    }

    /// The initial weights of layer `layer` (0-based): uniform in ±sqrt(6 / fan-in) (He), from the seed.
    public func initialWeights(layer: Int) -> [Float] {
        let (k, n) = (widths[layer], widths[layer + 1])
        var generator = SplitMix64(seed: UInt64(seed) &* 0x9E37_79B9 &+ UInt64(layer + 1))
        let bound = (6 / Float(k)).squareRoot()
        return (0..<(k * n)).map { _ in bound * generator.nextSignedUnit() }
    }
}
