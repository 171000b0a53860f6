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
    /// Per-row losses of `lossSteps` steps, step after step: the steps write them on the device and a run
    /// reads them once, at its end (or each time the buffer is full), so that no step waits for the device.
    let rowLoss: OpenCLBuffer
    let lossSteps: Int
    /// `batch` ones: the bias gradient is dZᵀ·1, one GEMV fused with the SGD update.
    let ones: OpenCLBuffer
    /// The notes of a run whose CLBlast Xgemm parameters were tuned: by the calibration, per GEMM shape.
    let tuningNotes: [String]
    /// Xgemm parameters per GEMM shape of the step, applied before each GEMM; nil when not tuned per shape.
    let shapeTuning: XgemmShapeTuning?
    let device: OpenCLDevice
    /// Device bytes held by this trainer.
    let deviceBytes: UInt64

    /// Creates the context, builds `mlp.cl`, and uploads the data set.
    /// - Parameters:
    ///   - calibration: how the caller names the calibration, for the note of tuned parameters.
    ///   - lossFloats: at most this many per-row losses wait on the device (4 MiB) unless one step has more
    ///     rows, and those of at most 1,024 steps (each step's event is held until its losses are read).
    ///   - shapeCandidates: Xgemm parameter sets to time on each GEMM shape of the step, keeping each
    ///     shape's fastest; nil tries `CLBlast.xgemmCandidates` where the calibration tuned Xgemm for this
    ///     device (a GPU that CLBlast's database does not know), and nothing elsewhere.
    ///   - shapeVolume: the smallest GEMM (m·n·k) tuned per shape; smaller ones run CLBlast's direct kernel.
    public init(
        _ model: TrainMLP, device: OpenCLDevice, source: String, calibration: String = "calibration",
        lossFloats: Int = 1 << 20, shapeCandidates: [[String: Int]]? = nil, shapeVolume: Int = 384 * 384 * 384
    ) throws {
        self.model = model
        self.device = device
        widths = model.widths
        let tuned = CalibrationStore().applyCLBlastTuning(device)
        let context = try OpenCLContext(device: device)
        self.context = context
        let candidates = shapeCandidates ?? (tuned ? CLBlast.xgemmCandidates : [])
        var notes = tuned ? ["CLBlast Xgemm parameters tuned by \(calibration)"] : []
        if candidates.isEmpty {
            shapeTuning = nil
        } else {
            let tuning = try XgemmShapeTuning(
                context: context, device: device, shapes: Self.gemmShapes(model), candidates: candidates,
                minimumVolume: shapeVolume)
            CalibrationStore().applyCLBlastTuning(device)
            if !tuning.chosen.isEmpty {
                // "set i": the i-th of the candidates (of `CLBlast.xgemmCandidates` unless given).
                notes.append(
                    "CLBlast Xgemm parameters chosen per GEMM shape: "
                        + tuning.chosen.map { "\($0.key) set \(candidates.firstIndex(of: $0.value)! + 1)" }.sorted()
                        .joined(separator: ", "))
            }
            shapeTuning = tuning
        }
        tuningNotes = notes
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
        lossSteps = max(1, min(model.steps, lossFloats / model.batch, 1024))
        rowLoss = try context.buffer(bytes: lossSteps * model.batch * 4)
        ones = try context.buffer([Float](repeating: 1, count: model.batch), access: .readOnly)
        deviceBytes = UInt64((model.memoryFloats.total + (lossSteps - 1) * model.batch) * 4)
    }

    /// Every GEMM shape of a step, forward and backward, in the order the step runs them.
    static func gemmShapes(_ model: TrainMLP) -> [XgemmShapeTuning.Shape] {
        let widths = model.widths
        var shapes: [XgemmShapeTuning.Shape] = []
        for layer in 0..<(widths.count - 1) {
            shapes.append(.init(m: model.batch, n: widths[layer + 1], k: widths[layer]))
        }
        for layer in stride(from: widths.count - 2, through: 0, by: -1) {
            let (k, n) = (widths[layer], widths[layer + 1])
            if layer > 0 { shapes.append(.init(transposeB: true, m: model.batch, n: k, k: n)) }
            shapes.append(.init(transposeA: true, m: k, n: n, k: model.batch))
        }
        return shapes
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
        defer {
            // Whatever runs next in this process gets the calibration's set again.
            if let shapeTuning {
                CalibrationStore().applyCLBlastTuning(device)
                shapeTuning.invalidate()
            }
        }
        return try model.train(
            steps: steps, finalWeights: { try weights.indices.map { try weights(layer: $0) } },
            deviceBytes: deviceBytes, notes: tuningNotes)
    }

    /// Mean cross-entropy of the current weights, without training.
    public func loss() throws -> Double {
        try forward()
        let classes = widths.last!
        try softmax.set(
            .buffer(activations.last!), .buffer(labels), .buffer(gradients.0), .buffer(rowLoss),
            .uint(UInt32(classes)), .uint(UInt32(model.batch)), .uint(0))
        try context.enqueue(softmax, global: [model.batch])
        return try readLosses(steps: 1)[0]
    }

    /// The current weights of layer `layer`.
    public func weights(layer: Int) throws -> [Float] {
        try context.readFloats(weights[layer], count: widths[layer] * widths[layer + 1])
    }

    /// Every step of a run, queued without waiting for the device: the per-row losses stay on the device
    /// until `rowLoss` is full or the run ends, and one read then fetches them all.
    /// - Returns: each step's loss before its update, and each step's device seconds: from the end of the
    ///   previous step's last command (of a marker queued before the first step) to the end of its own.
    func steps() throws -> (losses: [Double], stepSeconds: [Double]) {
        var losses: [Double] = []
        var stepSeconds: [Double] = []
        var ends: [OpenCLEvent] = []
        let start = try context.marker()
        var previous: UInt64? = nil
        for index in 0..<model.steps {
            let slot = index % lossSteps
            ends.append(try step(lossSlot: slot))
            guard slot == lossSteps - 1 || index == model.steps - 1 else { continue }
            losses += try readLosses(steps: slot + 1)
            if previous == nil {
                // A platform without a marker's timestamps times the first step by its last command alone.
                previous = try (try? start.timestamps().end) ?? ends[0].timestamps().start
            }
            for event in ends {
                let end = try event.timestamps().end
                stepSeconds.append(Double(end &- previous!) * 1e-9)
                previous = end
            }
            ends.removeAll()
        }
        return (losses, stepSeconds)
    }

    /// One SGD step, queued: its per-row losses go to row `lossSlot` of `rowLoss`.
    /// - Returns: the event of the step's last command.
    func step(lossSlot: Int) throws -> OpenCLEvent {
        try forward()
        let batch = model.batch
        let top = widths.count - 2
        let lr = model.learningRate
        var dZ = gradients.0
        var spare = gradients.1
        try softmax.set(
            .buffer(activations[top]), .buffer(labels), .buffer(dZ), .buffer(rowLoss),
            .uint(UInt32(widths[top + 1])), .uint(UInt32(batch)), .uint(UInt32(lossSlot * batch)))
        try context.enqueue(softmax, global: [batch])
        var last: OpenCLEvent? = nil
        for layer in stride(from: top, through: 0, by: -1) {
            let (k, n) = (widths[layer], widths[layer + 1])
            let input = layer == 0 ? x : activations[layer - 1]
            // b ← b − lr · dZᵀ·1
            try CLBlast.sgemv(
                on: context, transposeA: true, m: batch, n: n, alpha: -lr, a: dZ, lda: n, x: ones, beta: 1,
                y: biases[layer])
            if layer > 0 {
                try gemm(
                    transposeB: true, m: batch, n: k, k: n, a: dZ, lda: n, b: weights[layer], ldb: n,
                    c: spare, ldc: k)
            }
            last = try gemm(
                transposeA: true, m: k, n: n, k: batch, alpha: -lr, a: input, lda: k, b: dZ, ldb: n,
                beta: 1, c: weights[layer], ldc: n)
            if layer > 0 {
                let total = batch * k
                try reluBackward.set(.buffer(spare), .buffer(activations[layer - 1]), .uint(UInt32(total)))
                try context.enqueue(reluBackward, global: [total])
                swap(&dZ, &spare)
            }
        }
        return last!
    }

    /// Z = A·W + b, then ReLU on hidden layers.
    func forward() throws {
        let batch = model.batch
        for layer in 0..<(widths.count - 1) {
            let (k, n) = (widths[layer], widths[layer + 1])
            let input = layer == 0 ? x : activations[layer - 1]
            try gemm(
                m: batch, n: n, k: k, a: input, lda: k, b: weights[layer], ldb: n,
                c: activations[layer], ldc: n)
            let total = batch * n
            try biasActivation.set(
                .buffer(activations[layer]), .buffer(biases[layer]), .uint(UInt32(n)), .uint(UInt32(total)),
                .int(layer < widths.count - 2 ? 1 : 0))
            try context.enqueue(biasActivation, global: [total])
        }
    }

    /// C = alpha · op(A) · op(B) + beta · C through CLBlast, with the Xgemm parameters of its shape.
    @discardableResult
    func gemm(
        transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
        a: OpenCLBuffer, lda: Int, b: OpenCLBuffer, ldb: Int, beta: Float = 0, c: OpenCLBuffer, ldc: Int
    ) throws -> OpenCLEvent {
        try shapeTuning?.prepare(.init(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k))
        return try CLBlast.sgemm(
            on: context, transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha, a: a,
            lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    }

    /// Reads the per-row losses of the first `steps` rows of `rowLoss` (this waits for the steps) and
    /// averages each step's in double precision.
    func readLosses(steps: Int) throws -> [Double] {
        let batch = model.batch
        let rows = try context.readFloats(rowLoss, count: steps * batch)
        return (0..<steps).map { step in
            rows[(step * batch)..<((step + 1) * batch)].reduce(0.0) { $0 + Double($1) } / Double(batch)
        }
    }
}
