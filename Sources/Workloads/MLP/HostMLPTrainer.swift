import Compute
import Foundation

/// A 64-byte aligned float array that is freed with its owner.
final class AlignedFloats {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    init(_ count: Int) {
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(1, count) * 4, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(1, count))
        pointer.initialize(repeating: 0, count: count)
    }

    convenience init(_ values: [Float]) {
        self.init(values.count)
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    deinit { pointer.deallocate() }

    var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}

/// Lets a closure cross into `concurrentPerform`. Unchecked because every caller's chunks touch
/// disjoint rows (or per-chunk partials), so the captured pointers are never shared mutably.
private struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
}

/// Runs `body(chunk, rows)` over `rows` split into one contiguous chunk per core.
func parallelChunks(_ rows: Int, _ body: (_ chunk: Int, _ rows: Range<Int>) -> Void) {
    let chunks = min(rows, ProcessInfo.processInfo.activeProcessorCount)
    if chunks <= 1 { return body(0, 0..<rows) }
    withoutActuallyEscaping(body) { body in
        let shared = UncheckedSendable(value: body)
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            shared.value(chunk, (rows * chunk / chunks)..<(rows * (chunk + 1) / chunks))
        }
    }
}

/// Runs `body` over `rows` split into one contiguous chunk per core.
func parallelRows(_ rows: Int, _ body: (Range<Int>) -> Void) {
    parallelChunks(rows) { _, range in body(range) }
}

/// `train-mlp` on the host CPU through OpenBLAS.
///
/// Per step the weight gradient never touches memory of its own: `W ← W − lr·Aᵀ·dZ` is one GEMM with
/// alpha = −lr and beta = 1, issued after the input gradient `dZ·Wᵀ` has used the old weights.
/// Bias, ReLU and their gradients run as one fused, row-parallel pass each.
public final class HostMLPTrainer: PreparedWorkload {
    let model: TrainMLP
    let widths: [Int]
    let x: AlignedFloats
    let labels: [Int32]
    /// weights[l] is `widths[l] × widths[l+1]`.
    let weights: [AlignedFloats]
    let biases: [AlignedFloats]
    /// activations[l] is the output of layer l (`batch × widths[l+1]`): ReLU outputs, then logits.
    let activations: [AlignedFloats]
    let gradients: (AlignedFloats, AlignedFloats)
    let rowLoss: AlignedFloats
    let biasGradient: AlignedFloats

    public init(_ model: TrainMLP) {
        self.model = model
        widths = model.widths
        let data = model.dataSet()
        x = AlignedFloats(data.x)
        labels = data.labels
        weights = (0..<(widths.count - 1)).map { AlignedFloats(model.initialWeights(layer: $0)) }
        biases = widths.dropFirst().map { AlignedFloats($0) }
        activations = widths.dropFirst().map { AlignedFloats(model.batch * $0) }
        let widest = widths.dropFirst().max()!
        gradients = (AlignedFloats(model.batch * widest), AlignedFloats(model.batch * widest))
        rowLoss = AlignedFloats(model.batch)
        biasGradient = AlignedFloats(widest * ProcessInfo.processInfo.activeProcessorCount)
    }

    /// The current weights of layer `layer` (`widths[layer] × widths[layer + 1]`, row-major).
    public func weights(layer: Int) -> [Float] { weights[layer].array }

    /// Restores the seed's initial weights and zero biases.
    public func reset() {
        for (layer, weight) in weights.enumerated() {
            let values = model.initialWeights(layer: layer)
            values.withUnsafeBufferPointer { weight.pointer.update(from: $0.baseAddress!, count: values.count) }
        }
        for bias in biases { bias.pointer.update(repeating: 0, count: bias.count) }
    }

    public func run() throws -> RunResult {
        reset()
        return model.train(step: step, finalWeights: { weights.map(\.array) })
    }

    /// Mean cross-entropy of the current weights on the data set, without training.
    public func loss() -> Double {
        forward()
        return softmaxCrossEntropy(logits: activations.last!.pointer, gradient: nil)
    }

    /// One SGD step.
    /// - Returns: the mean cross-entropy loss before the update.
    @discardableResult
    public func step() -> Double {
        forward()
        let batch = model.batch
        let top = widths.count - 2
        let lr = model.learningRate
        // dZ of the output layer into gradients.0.
        var dZ = gradients.0
        var spare = gradients.1
        let loss = softmaxCrossEntropy(logits: activations[top].pointer, gradient: dZ.pointer)
        for layer in stride(from: top, through: 0, by: -1) {
            let (k, n) = (widths[layer], widths[layer + 1])
            let input = layer == 0 ? x.pointer : activations[layer - 1].pointer
            let bias = columnSums(dZ.pointer, rows: batch, columns: n)
            if layer > 0 {
                // dA(l-1) = dZ · Wᵀ with the old weights.
                BLAS.sgemm(
                    transposeB: true, m: batch, n: k, k: n, a: dZ.pointer, lda: n, b: weights[layer].pointer, ldb: n,
                    c: spare.pointer, ldc: k)
            }
            // W ← W − lr · inputᵀ · dZ
            BLAS.sgemm(
                transposeA: true, m: k, n: n, k: batch, alpha: -lr, a: input, lda: k, b: dZ.pointer, ldb: n,
                beta: 1, c: weights[layer].pointer, ldc: n)
            let b = biases[layer].pointer
            for j in 0..<n { b[j] -= lr * bias[j] }
            if layer > 0 {
                // dZ(l-1) = dA(l-1) ⊙ [A(l-1) > 0]
                let mask = activations[layer - 1].pointer
                let gradient = spare.pointer
                parallelRows(batch) { rows in
                    reluBackward(gradient, mask: mask, range: (rows.lowerBound * k)..<(rows.upperBound * k))
                }
                swap(&dZ, &spare)
            }
        }
        return loss
    }

    /// gradient[i] = 0 where mask[i] ≤ 0, sixteen lanes at a time (a scalar or filtered loop ran
    /// 8× slower than memory bandwidth allows).
    @inline(__always)
    func reluBackward(_ gradient: UnsafeMutablePointer<Float>, mask: UnsafePointer<Float>, range: Range<Int>) {
        let g = UnsafeMutableRawPointer(gradient)
        let m = UnsafeRawPointer(mask)
        var index = range.lowerBound
        while index + 16 <= range.upperBound {
            let value = g.loadUnaligned(fromByteOffset: index * 4, as: SIMD16<Float>.self)
            let keep = m.loadUnaligned(fromByteOffset: index * 4, as: SIMD16<Float>.self) .> 0
            g.storeBytes(of: value.replacing(with: 0, where: .!keep), toByteOffset: index * 4, as: SIMD16<Float>.self)
            index += 16
        }
        while index < range.upperBound {
            if mask[index] <= 0 { gradient[index] = 0 }
            index += 1
        }
    }

    /// Z = A·W + b, then ReLU on hidden layers.
    func forward() {
        let batch = model.batch
        for layer in 0..<(widths.count - 1) {
            let (k, n) = (widths[layer], widths[layer + 1])
            let input = layer == 0 ? x.pointer : activations[layer - 1].pointer
            let output = activations[layer].pointer
            BLAS.sgemm(m: batch, n: n, k: k, a: input, lda: k, b: weights[layer].pointer, ldb: n, c: output, ldc: n)
            let bias = biases[layer].pointer
            let relu = layer < widths.count - 2
            parallelRows(batch) { rows in
                for row in rows {
                    let z = output + row * n
                    if relu {
                        for j in 0..<n { z[j] = max(z[j] + bias[j], 0) }
                    } else {
                        for j in 0..<n { z[j] += bias[j] }
                    }
                }
            }
        }
    }

    /// Mean softmax cross-entropy of `logits` against the labels; writes dLoss/dLogits when asked.
    func softmaxCrossEntropy(logits: UnsafeMutablePointer<Float>, gradient: UnsafeMutablePointer<Float>?) -> Double {
        let (batch, classes) = (model.batch, model.classes)
        let scale = 1 / Float(batch)
        let rowLoss = rowLoss.pointer
        let labels = labels
        labels.withUnsafeBufferPointer { labels in
            parallelRows(batch) { rows in
                for row in rows {
                    let z = logits + row * classes
                    var largest = -Float.infinity
                    for j in 0..<classes { largest = max(largest, z[j]) }
                    var sum: Float = 0
                    for j in 0..<classes { sum += expf(z[j] - largest) }
                    let label = Int(labels[row])
                    rowLoss[row] = logf(sum) - (z[label] - largest)
                    if let gradient {
                        let g = gradient + row * classes
                        for j in 0..<classes { g[j] = expf(z[j] - largest) / sum * scale }
                        g[label] -= scale
                    }
                }
            }
        }
        var total = 0.0
        for row in 0..<batch { total += Double(rowLoss[row]) }
        return total / Double(batch)
    }

    /// Column sums of a `rows × columns` matrix, computed per core and then combined.
    func columnSums(_ matrix: UnsafeMutablePointer<Float>, rows: Int, columns: Int) -> UnsafeMutablePointer<Float> {
        let partials = biasGradient.pointer
        let chunks = min(rows, ProcessInfo.processInfo.activeProcessorCount)
        partials.update(repeating: 0, count: columns * chunks)
        parallelChunks(rows) { chunk, rowRange in
            let sums = partials + chunk * columns
            for row in rowRange {
                let m = matrix + row * columns
                for j in 0..<columns { sums[j] += m[j] }
            }
        }
        for chunk in 1..<chunks {
            let sums = partials + chunk * columns
            for j in 0..<columns { partials[j] += sums[j] }
        }
        return partials
    }
}
