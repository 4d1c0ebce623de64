import PrnKernel
import PrnAutograd
import PrnData
import PrnNN

/// One round's scores per prunable weight path, and the power of two they carry. `exponent` is 0
/// except when SynFlow had to rescale to stay inside Float32 (see `Score+SynFlow.swift`); the
/// true scores are the computed ones · 2^−exponent, and since the factor is common to every
/// entry, the ranking is the same.
struct ScoreSet {
    var layers: [String: LayerScores]
    var exponent: Int = 0

    init(layers: [String: LayerScores], exponent: Int = 0) {
        self.layers = layers
        self.exponent = exponent
    }

    init(tensors: [String: Tensor], exponent: Int = 0) {
        self.init(layers: tensors.mapValues { .tensor($0) }, exponent: exponent)
    }

    /// The scores as tensors: only for a set asked for without ranking (`Scorer.scores`).
    var tensors: [String: Tensor] {
        layers.mapValues { layer in
            guard case .tensor(let t) = layer else { preconditionFailure("scores were ranked, not kept") }
            return t
        }
    }
}

/// One layer's scores, as the ranking takes them.
enum LayerScores {
    /// The scores, shaped like the weight.
    case tensor(Tensor)
    /// Keys made by the scorer straight from what the scores are computed from (SynFlow's
    /// `|∂R/∂w ⊙ w|`), already inverted if asked: the scores themselves are never written out,
    /// which saves a pass over every weight and a fresh buffer of the model's size per round.
    case ranked(MaskSelection.RankedLayer)
}

/// A batch of scoring data.
struct ScoringBatch {
    let images: Tensor
    let labels: [Int]
}

/// Computes raw scores round after round for one method (METHODS.md, Scores). Raw means: not
/// inverted, pruned entries not yet sent to −∞ — `Pruner` does both before ranking. Every method
/// runs the network in eval mode.
struct Scorer {
    let method: PruneMethod
    /// The scoring data (empty for data-free methods), the same batches in every round.
    let batches: [ScoringBatch]
    let seed: UInt64
    /// SynFlow's power-of-two rescaling, carried from round to round.
    var synflowScale = SynFlowScale()

    /// Largest scoring batch; more samples are split into batches whose gradients are summed.
    static let maxBatch = 256

    init(method: PruneMethod, model: Model, data: Dataset?, samples: Int?, seed: UInt64) throws {
        self.method = method
        self.seed = seed
        self.batches = method.needsData
            ? try Scorer.scoringBatches(for: model, method: method, data: data, samples: samples, seed: seed)
            : []
    }

    /// A scorer with the given scoring batches (tests pick their own).
    init(method: PruneMethod, batches: [ScoringBatch], seed: UInt64) {
        self.method = method
        self.batches = batches
        self.seed = seed
    }

    /// The scores of `model` (with its current masks) in round `round` (from 1). With
    /// `rankingFor`, a method may hand over layers already ranked (`LayerScores.ranked`, with
    /// that `invert`) instead of their scores; without it, every layer is a tensor.
    mutating func scores(_ model: Model, round: Int, rankingFor invert: Bool? = nil) throws -> ScoreSet {
        switch method {
        case .random: return ScoreSet(tensors: randomScores(model, round: round))
        case .magnitude: return ScoreSet(tensors: magnitudeScores(model))
        case .snip: return ScoreSet(tensors: snipScores(model))
        case .grasp: return ScoreSet(tensors: graspScores(model))
        case .synflow: return try synflowScores(model, scale: &synflowScale, rankingFor: invert)
        }
    }

    // MARK: Data-free scores

    /// I.i.d. standard normal scores, so that global random pruning gives every layer the same
    /// expected density. Layer i of round e draws from sub-stream `(e, i)` of the seed.
    func randomScores(_ model: Model, round: Int) -> [String: Tensor] {
        let base = RNG(seed: seed, purpose: .randomScores).split(UInt64(round))
        var result: [String: Tensor] = [:]
        for (i, path) in model.prunablePaths.enumerated() {
            var rng = base.split(UInt64(i))
            result[path] = Tensor.randn(model.state[path]!.shape, rng: &rng)
        }
        return result
    }

    /// `|w|`.
    func magnitudeScores(_ model: Model) -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        for path in model.prunablePaths { result[path] = model.state[path]!.abs() }
        return result
    }

    // MARK: Scoring data

    /// A seeded random subset of the training split — `10 × classes` examples unless `samples`
    /// says otherwise (fewer when the split is smaller and `samples` was not given), not class
    /// balanced — cut into batches of at most `maxBatch`.
    static func scoringBatches(for model: Model, method: PruneMethod, data: Dataset?, samples: Int?,
                               seed: UInt64) throws -> [ScoringBatch] {
        guard let data else {
            throw PruneError("\(method.rawValue) scores with training data: pass data=")
        }
        let arch = model.architecture
        let fits = data.inputShape == arch.inputShape
            || (arch.inputShape.count == 1 && Shape.count(data.inputShape) == Shape.count(arch.inputShape))
        guard fits else {
            throw PruneError("\(data.name) examples have shape \(data.inputShape), the model takes \(arch.inputShape)")
        }
        guard data.classes == arch.classes else {
            throw PruneError("\(data.name) has \(data.classes) classes, the model has \(arch.classes) outputs")
        }
        let count: Int
        if let samples {
            guard samples > 0 else { throw PruneError("samples=\(samples) must be positive") }
            guard samples <= data.train.count else {
                throw PruneError("samples=\(samples) is more than the \(data.train.count) training examples of \(data.name)")
            }
            count = samples
        } else {
            count = Swift.min(10 * data.classes, data.train.count)
        }
        guard count > 0 else { throw PruneError("\(data.name) has no training examples to score with") }
        let subset = try data.train.subset(count: count, seed: seed)
        let batchCount = (count + maxBatch - 1) / maxBatch
        return (0..<batchCount).map { b in
            let range = (b * count / batchCount)..<((b + 1) * count / batchCount)
            let (images, labels) = subset.gather(Array(range))
            let shaped = images.reshaped([range.count] + arch.inputShape)
            return ScoringBatch(images: shaped, labels: labels)
        }
    }
}

extension Scorer {
    /// Runs `body` over fixed chunks of `0..<n` on `Parallel.threads` workers and returns whether
    /// it returned true for every chunk (a per-chunk check, such as "all finite").
    static func forEachChunk(_ n: Int, _ body: (Range<Int>) -> Bool) -> Bool {
        let size = 1 << 16
        let chunks = (n + size - 1) / size
        var results = [Bool](repeating: true, count: chunks)
        results.withUnsafeMutableBufferPointer { results in
            Parallel.forEach(chunks) { some in
                for c in some { results[c] = body((c * size)..<Swift.min(n, (c + 1) * size)) }
            }
        }
        return !results.contains(false)
    }
}
