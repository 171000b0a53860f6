public import Compute
import Foundation

/// `train-mlp` on an OpenCL device: CLBlast for every GEMM, `kernels/mlp.cl` for the rest.
/// The same algorithm and operation order as `HostMLPTrainer`, so the loss curves agree.
public final class OpenCLMLPTrainer: PreparedWorkload {
    let model: TrainMLP
    let widths: [Int]
    let context: OpenCLContext
    let biasActivation: OpenCLKernel
    let softmax: OpenCLKernel
    let reluBackward: OpenCLKernel
    let x: OpenCLBuffer
    let labels: OpenCLBuffer
    let weights: [OpenCLBuffer]
    let biases: [OpenCLBuffer]
    let activations: [OpenCLBuffer]
    let gradients: (OpenCLBuffer, OpenCLBuffer)
    let rowLoss: OpenCLBuffer
    /// `batch` ones: the bias gradient is dZᵀ·1, one GEMV fused with the SGD update.
    let ones: OpenCLBuffer
    /// The note of a run whose CLBlast Xgemm parameters were tuned by the calibration; nil when they were not.
    let tuningNote: String?
    /// Device bytes held by this trainer.
    let deviceBytes: UInt64

    /// Creates the context, builds `mlp.cl`, and uploads the data set.
    /// - Parameter calibration: how the caller names the calibration, for the note of tuned parameters.
    public init(_ model: TrainMLP, device: OpenCLDevice, source: String, calibration: String = "calibration") throws {
        self.model = model
        widths = model.widths
        let tuned = CalibrationStore().applyCLBlastTuning(device)
        tuningNote = tuned ? "CLBlast Xgemm parameters tuned by \(calibration)" : nil
        let context = try OpenCLContext(device: device)
        self.context = context
        let program = try context.program(source: source)
        biasActivation = try program.kernel("bias_activation")
        softmax = try program.kernel("softmax_cross_entropy")
        reluBackward = try program.kernel("relu_backward")
        let data = model.dataSet()
        x = try context.buffer(data.x, access: .readOnly)
        let labels = try context.buffer(bytes: model.batch * 4, access: .readOnly)
        _ = try data.labels.withUnsafeBytes { try context.write(labels, from: $0) }
        self.labels = labels
        let pairs = Array(zip(widths, widths.dropFirst()))
        var weights: [OpenCLBuffer] = []
        var biases: [OpenCLBuffer] = []
        var activations: [OpenCLBuffer] = []
        for (k, n) in pairs {
            weights.append(try context.buffer(bytes: k * n * 4))
            biases.append(try context.buffer(bytes: n * 4))
            activations.append(try context.buffer(bytes: model.batch * n * 4))
        }
        self.weights = weights
        self.biases = biases
        self.activations = activations
        let widest = widths.dropFirst().max()!
        gradients = (
            try context.buffer(bytes: model.batch * widest * 4), try context.buffer(bytes: model.batch * widest * 4)
        )
        rowLoss = try context.buffer(bytes: model.batch * 4)
        ones = try context.buffer([Float](repeating: 1, count: model.batch), access: .readOnly)
        deviceBytes = UInt64(model.memoryFloats.total * 4)
    }

    /// Uploads the seed's initial weights and zero biases.
    public func reset() throws {
        for (layer, weight) in weights.enumerated() {
            _ = try model.initialWeights(layer: layer).withUnsafeBytes { try context.write(weight, from: $0) }
            _ = try [Float](repeating: 0, count: widths[layer + 1]).withUnsafeBytes {
                try context.write(biases[layer], from: $0)
            }
        }
        try context.finish()
    }

    public func run() throws -> RunResult {
        try reset()
        // Reading the loss waits for the step, so wall time per step is device time plus launches.
        return try model.train(
            step: step, finalWeights: { try weights.indices.map { try weights(layer: $0) } }, deviceBytes: deviceBytes,
            notes: tuningNote.map { [$0] } ?? [])
    }

    /// Mean cross-entropy of the current weights, without training.
    public func loss() throws -> Double {
        try forward()
        let classes = widths.last!
        try softmax.set(
            .buffer(activations.last!), .buffer(labels), .buffer(gradients.0), .buffer(rowLoss),
            .uint(UInt32(classes)), .uint(UInt32(model.batch)))
        try context.enqueue(softmax, global: [model.batch])
        return try readLoss()
    }

    /// The current weights of layer `layer`.
    public func weights(layer: Int) throws -> [Float] {
        try context.readFloats(weights[layer], count: widths[layer] * widths[layer + 1])
    }

    /// One SGD step.
    /// - Returns: the loss before the update.
    func step() throws -> Double {
        try forward()
        let batch = model.batch
        let top = widths.count - 2
        let lr = model.learningRate
        var dZ = gradients.0
        var spare = gradients.1
        try softmax.set(
            .buffer(activations[top]), .buffer(labels), .buffer(dZ), .buffer(rowLoss),
            .uint(UInt32(widths[top + 1])), .uint(UInt32(batch)))
        try context.enqueue(softmax, global: [batch])
        for layer in stride(from: top, through: 0, by: -1) {
            let (k, n) = (widths[layer], widths[layer + 1])
            let input = layer == 0 ? x : activations[layer - 1]
            // b ← b − lr · dZᵀ·1
            try CLBlast.sgemv(
                on: context, transposeA: true, m: batch, n: n, alpha: -lr, a: dZ, lda: n, x: ones, beta: 1,
                y: biases[layer])
            if layer > 0 {
                try CLBlast.sgemm(
                    on: context, transposeB: true, m: batch, n: k, k: n, a: dZ, lda: n, b: weights[layer], ldb: n,
                    c: spare, ldc: k)
            }
            try CLBlast.sgemm(
                on: context, transposeA: true, m: k, n: n, k: batch, alpha: -lr, a: input, lda: k, b: dZ, ldb: n,
                beta: 1, c: weights[layer], ldc: n)
            if layer > 0 {
                let total = batch * k
                try reluBackward.set(.buffer(spare), .buffer(activations[layer - 1]), .uint(UInt32(total)))
                try context.enqueue(reluBackward, global: [total])
                swap(&dZ, &spare)
            }
        }
        return try readLoss()
    }

    /// Z = A·W + b, then ReLU on hidden layers.
    func forward() throws {
        let batch = model.batch
        for layer in 0..<(widths.count - 1) {
            let (k, n) = (widths[layer], widths[layer + 1])
            let input = layer == 0 ? x : activations[layer - 1]
            try CLBlast.sgemm(
                on: context, m: batch, n: n, k: k, a: input, lda: k, b: weights[layer], ldb: n,
                c: activations[layer], ldc: n)
            let total = batch * n
            try biasActivation.set(
                .buffer(activations[layer]), .buffer(biases[layer]), .uint(UInt32(n)), .uint(UInt32(total)),
                .int(layer < widths.count - 2 ? 1 : 0))
            try context.enqueue(biasActivation, global: [total])
        }
    }

    /// Reads the per-row losses (this also waits for the step) and averages them in double precision.
    func readLoss() throws -> Double {
        let rows = try context.readFloats(rowLoss, count: model.batch)
        return rows.reduce(0.0) { $0 + Double($1) } / Double(model.batch)
    }
}
