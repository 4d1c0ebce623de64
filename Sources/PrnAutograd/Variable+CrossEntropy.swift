import Foundation
import PrnKernel

/// Mean cross-entropy of `logits` [batch, classes] against integer class `labels`.
///
/// Defined by `composedCrossEntropy` (log-softmax, one-hot product, mean), and computed as one
/// node whose value and first-order gradient repeat that composition's scalar operations in its
/// order, so every bit is the same: the loss, and the logits' gradient
/// `(−u/B)·onehot + ((u/B) / Σⱼ eʲ)·e` with `e = exp(x − max)` (u the upstream gradient, B the
/// batch), each factor rounded where the composed graph rounds it. The composed form took about
/// twenty tape nodes and as many small tensors per step (7.5 % of a LeNet-300-100 step at density
/// 0.005, where the sparse layers leave little else). When the backward itself is recorded
/// (`createGraph`: GraSP's Hessian–vector products), the node differentiates the composition
/// instead, so second derivatives stay exact.
public func crossEntropy(_ logits: Variable, labels: [Int]) -> Variable {
    let loss = SoftmaxCrossEntropy(logits: logits.value, labels: labels)
    return Variable.record(Tensor(loss.value), [logits]) { u in
        guard !GradMode.isEnabled else { return grad(of: composedCrossEntropy(logits, labels: labels), wrt: [logits], seed: u, createGraph: true) }
        return [Variable(loss.gradient(upstream: u.value.item))]
    }
}

/// `crossEntropy` as a composition of primitive ops: `−Σ (logSoftmax(x) ⊙ onehot) / B`.
public func composedCrossEntropy(_ logits: Variable, labels: [Int]) -> Variable {
    -(logits.logSoftmax() * Variable(SoftmaxCrossEntropy.oneHot(labels, classes: logits.shape[1]))).sum() / Float(labels.count)
}

/// The forward pass of `composedCrossEntropy` in one sweep over the logits, keeping what its
/// gradient needs. Each step is the composed op's scalar operation: the row maximum folded from
/// −∞, `x − max`, `exp`, the row sum folded from +0 in order, `log`, the log-probabilities times
/// the one-hot entries summed over the whole batch in order from +0, negated, times `1/B`.
struct SoftmaxCrossEntropy {
    let batch: Int, classes: Int
    let labels: [Int]
    /// `exp(x − max)` per entry, and its row sums.
    let exponentials: [Float], rowSums: [Float]
    let value: Float

    init(logits: Tensor, labels: [Int]) {
        precondition(logits.rank == 2 && logits.shape[0] == labels.count, "crossEntropy: logits \(logits.shape), \(labels.count) labels")
        let (batch, classes) = (logits.shape[0], logits.shape[1])
        precondition(labels.allSatisfy { (0..<classes).contains($0) }, "crossEntropy: a label outside 0..<\(classes)")
        (self.batch, self.classes, self.labels) = (batch, classes, labels)
        var exponentials = [Float](repeating: 0, count: batch * classes), rowSums = [Float](repeating: 0, count: batch)
        var total: Float = 0
        logits.scalars.withUnsafeBufferPointer { x in
            for row in 0..<batch {
                let base = row * classes
                var largest = -Float.infinity
                for j in 0..<classes { largest = Swift.max(largest, x[base + j]) }
                var sum: Float = 0
                for j in 0..<classes {
                    exponentials[base + j] = Foundation.exp(x[base + j] - largest)
                    sum = sum + exponentials[base + j]
                }
                rowSums[row] = sum
                let logSum = Foundation.log(sum)
                for j in 0..<classes { total = total + ((x[base + j] - largest) - logSum) * SoftmaxCrossEntropy.oneHot(labels[row], j) }
            }
        }
        self.exponentials = exponentials
        self.rowSums = rowSums
        // The last two steps as the composition's tensor ops: fused into one scalar expression,
        // the compiler may fold the negation into the factor, which flips the sign of a NaN loss
        // (printed in the divergence message).
        value = (-Tensor(total) * (1 / Float(batch))).item
    }

    /// The gradient with respect to the logits for an upstream gradient `u` of the loss.
    func gradient(upstream u: Float) -> Tensor {
        // The composed backward: −(u · 1/B) through the sum and the one-hot product; its negation
        // summed over each row into the log; divided by the row sum; times exp(x − max); the two
        // parts added (in either order: addition commutes).
        let labelPart = -(u * (1 / Float(batch)))
        return Tensor.build([batch, classes]) { out in
            for row in 0..<batch {
                let base = row * classes
                var logGradient: Float = 0
                for j in 0..<classes { logGradient = logGradient + -(labelPart * Self.oneHot(labels[row], j)) }
                let sumGradient = logGradient / rowSums[row]
                for j in 0..<classes {
                    out[base + j] = labelPart * Self.oneHot(labels[row], j) + sumGradient * exponentials[base + j]
                }
            }
        }
    }

    @inline(__always)
    static func oneHot(_ label: Int, _ j: Int) -> Float { label == j ? 1 : 0 }

    /// `[labels.count, classes]`: 1 at each row's label, 0 elsewhere.
    static func oneHot(_ labels: [Int], classes: Int) -> Tensor {
        var oneHot = Tensor.zeros([labels.count, classes])
        for (row, label) in labels.enumerated() { oneHot.scalars[row * classes + label] = 1 }
        return oneHot
    }
}
