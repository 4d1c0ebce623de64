import Foundation
import XCTest
import PrnTestSupport
import PrnKernel
import PrnData
import PrnNN
import PrnAutograd
@testable import PrnPrune

/// Small models, data and references shared by the pruning tests.
enum PruneFixtures {
    /// An MLP `input → hidden… → classes` (ReLU between), PyTorch's default init so biases are
    /// non-zero, or Kaiming (zero biases) when asked.
    static func mlp(input: Int = 6, hidden: [Int] = [5, 4], classes: Int = 3, seed: UInt64 = 1,
                    initializer: Initializer = .pytorchDefault) throws -> Model {
        try Model(Architecture(name: .mlp, inputShape: [input], classes: classes, hidden: hidden, initializer: initializer),
                  seed: seed)
    }

    /// conv2 at 1/16 width on 8×8 single-channel images: conv(1→4) relu conv(4→4) relu maxpool
    /// flatten fc(64→16) relu fc(16→16) relu fc(16→classes). About 1,700 prunable weights.
    static func cnn(classes: Int = 3, seed: UInt64 = 1, initializer: Initializer = .pytorchDefault) throws -> Model {
        try Model(Architecture(name: .conv2, inputShape: [1, 8, 8], classes: classes, width: 1.0 / 16,
                               initializer: initializer), seed: seed)
    }

    /// Seeded Gaussian-cluster data with the given example shape.
    static func data(shape: [Int], classes: Int = 3, train: Int = 40, seed: UInt64 = 3) throws -> Dataset {
        try Dataset.load(.synthetic(SyntheticSpec(classes: classes, shape: shape, train: train, test: 10, noise: 1, seed: seed)))
    }

    /// The model with random 0/1 masks of about `density` on every prunable weight.
    static func randomlyMasked(_ model: Model, density: Float, seed: UInt64) -> Model {
        var masks: [String: Tensor] = [:]
        var rng = RNG(seed: seed)
        for path in model.prunablePaths {
            let shape = model.state[path]!.shape
            masks[path] = Tensor(shape: shape, scalars: rng.bernoulli(density, count: Shape.count(shape)))
        }
        return model.withMasks(masks)
    }

    /// Mean cross-entropy of Float32 logits, in Float64 (finite differences need the precision).
    static func meanCrossEntropy(_ logits: Tensor, labels: [Int]) -> Double {
        let classes = logits.shape[1]
        var total = 0.0
        for (row, label) in labels.enumerated() {
            let z = (0..<classes).map { Double(logits.scalars[row * classes + $0]) }
            let m = z.max()!
            total += m + Foundation.log(z.reduce(0) { $0 + Foundation.exp($1 - m) }) - z[label]
        }
        return total / Double(labels.count)
    }

    /// Number of ones in a 0/1 tensor.
    static func ones(_ t: Tensor) -> Int { t.scalars.reduce(0) { $0 + ($1 != 0 ? 1 : 0) } }

    /// All prunable scalars of a model in global index order, with their mask bits.
    static func flatten(_ tensors: [String: Tensor], _ paths: [String]) -> [Float] {
        paths.flatMap { tensors[$0]!.scalars }
    }

    /// Runs a Python script with `input` as JSON on stdin and decodes its JSON stdout.
    static func python(_ script: String, input: Any) throws -> Any {
        let json = try JSONSerialization.data(withJSONObject: input, options: .fragmentsAllowed)
        let output = try Python.run(script, input: String(decoding: json, as: UTF8.self), needs: ["numpy", "scipy"])
        return try JSONSerialization.jsonObject(with: Data(output.utf8), options: .fragmentsAllowed)
    }

    /// `Σ_b ∂L_b/∂w` at `weights` (first-order autograd), L_b with logits / 200.
    static func graspGradient(_ model: Model, _ batches: [ScoringBatch], _ weights: [Tensor]) -> [Tensor] {
        let paths = model.prunablePaths
        var total = weights.map { Tensor.zeros($0.shape) }
        for b in batches {
            let leaves = weights.map { Variable($0, requiresGrad: true) }
            let bound = Dictionary(uniqueKeysWithValues: zip(paths, leaves))
            let logits = model.forward(Variable(b.images), parameters: bound, training: false).output
            let g = grad(of: crossEntropy(logits / 200, labels: b.labels), wrt: leaves)
            total = zip(total, g).map { $0 + $1.value }
        }
        return total
    }
}
