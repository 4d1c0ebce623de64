import PrnKernel
import PrnAutograd
import PrnNN

/// Powers of two that keep SynFlow inside Float32's range without changing its ranking.
///
/// SynFlow's network has every parameter and buffer replaced by its absolute value, so with the
/// weights fixed it is positively homogeneous of degree 1 in the *additive* tensors jointly with
/// the input: scaling the all-ones input, the biases, batch norm's β and batch norm's running mean
/// by `c` scales every activation by `c` (linear and conv layers, ReLU, pooling, residual sums,
/// and eval-mode batch norm `γ(x − μ)/√(σ² + ε) + β`, whose `σ²` and `ε` are untouched). Then
/// `R(c) = c·R` and `∂R/∂w` scales by `c` too; seeding the backward with `s` instead of 1 scales
/// every gradient by `s`. With `c = 2^input` and `s = 2^seed`, every floating-point operation sees
/// its operands multiplied by powers of two, which is exact (barring overflow or underflow), so
/// the computed scores are bit for bit `2^(input + seed)` times the unscaled ones: one common
/// factor, the same ranking.
///
/// The magnitudes involved span roughly `[1, R]` for activations (input to output) and for
/// gradients (output to input), and scores sum to about `R` per layer. Unscaled Float32 is fine
/// while R is below about 2^100 (VGG-16 at initialization has R ≈ 2^74); past that, activations
/// are shifted down by `2^−L/2` and gradients by `2^−L/2`, centring both ranges around 1, which
/// covers R up to about 2^240. Beyond, SynFlow fails with a clear error instead of ranking
/// infinities or NaNs.
struct SynFlowScale: Equatable {
    /// log2 of the input value and of the factor on additive tensors.
    var input = 0
    /// log2 of the backward seed.
    var seed = 0

    /// log2 of the common factor on every score.
    var exponent: Int { input + seed }

    /// R below this (log2) runs unscaled.
    static let unscaledLimit = 100
    /// The smallest exponent used: 2^−120 is still a normal Float32.
    static let floor = -120

    /// The scale that centres both ranges for an R of about `2^log2R`.
    static func centered(log2R: Int) -> SynFlowScale {
        if log2R <= unscaledLimit { return SynFlowScale() }
        let half = Swift.max(-(log2R + 1) / 2, floor)
        return SynFlowScale(input: half, seed: half)
    }
}

extension Scorer {
    /// SynFlow (Tanaka et al. 2020), one round: `|∂R/∂w ⊙ w|` where `R = Σ outputs` of the
    /// network with every parameter and buffer replaced by its absolute value (batch-norm running
    /// statistics included), in eval mode, on one all-ones input of the model's example shape.
    ///
    /// `∂R/∂w` is the gradient of the stored weight through `m ⊙ |w|`, i.e. `m ⊙ ∂R/∂(m⊙|w|)`, so
    /// pruned weights score 0 (SF's behaviour). The signs are never changed in the model itself:
    /// the absolute values live in a scratch copy, and the masks `Pruner` derives apply to the
    /// original weights.
    ///
    /// Each attempt checks that R and every score are finite. The first attempt of a round uses
    /// the scale carried from the previous round (unscaled at first). If it overflows, a
    /// forward-only probe at input 2^−120 measures log2 R and the round is recomputed centred
    /// (`SynFlowScale`); if that also fails, the round throws.
    ///
    /// With `rankingFor` (what `prune` asks), each layer comes back as keys made straight from
    /// the gradient and the weight (`MaskSelection.keys(magnitudeOfProduct:)`), the finite check
    /// in the same pass.
    func synflowScores(_ model: Model, scale: inout SynFlowScale, rankingFor invert: Bool? = nil) throws -> ScoreSet {
        if let (log2R, scores) = synflowAttempt(model, scale: scale, rankingFor: invert) {
            let result = ScoreSet(layers: scores.layers, exponent: scale.exponent)
            scale = SynFlowScale.centered(log2R: log2R)
            return result
        }
        let probe = SynFlowScale(input: SynFlowScale.floor, seed: 0)
        let r = synflowOutput(model, scale: probe).value.sum().item
        guard r.isFinite, r > 0 else {
            throw PruneError("synflow overflows Float32 on this model: R = Σ outputs of the |·| network exceeds 2^\(128 - SynFlowScale.floor) "
                             + "(weights too large for SynFlow in Float32)")
        }
        let log2R = Int(r.exponent) - SynFlowScale.floor
        let centred = SynFlowScale.centered(log2R: Swift.max(log2R, SynFlowScale.unscaledLimit + 1))
        guard let (_, scores) = synflowAttempt(model, scale: centred, rankingFor: invert) else {
            throw PruneError("synflow overflows Float32 on this model (R ≈ 2^\(log2R)) even rescaled by powers of two")
        }
        scale = centred
        return ScoreSet(layers: scores.layers, exponent: centred.exponent)
    }

    /// Scores at `scale` (ranked with `rankingFor`), with log2 of the unscaled R; nil when R or a
    /// score is not finite.
    func synflowAttempt(_ model: Model, scale: SynFlowScale, rankingFor invert: Bool? = nil) -> (log2R: Int, scores: ScoreSet)? {
        let (output, leaves) = synflowForward(model, scale: scale)
        let r = output.sum()
        let rValue = r.value.item
        guard rValue.isFinite else { return nil }
        let seed = Variable(Tensor(Float(sign: .plus, exponent: scale.seed, significand: 1)))
        let gradients = grad(of: r, wrt: leaves.map(\.leaf), seed: seed)
        var scores: [String: LayerScores] = [:]
        for ((path, _), g) in zip(leaves, gradients) {
            let (weight, mask) = (model.state[path]!, model.masks[path])
            if let invert {
                let ranked = MaskSelection.keys(magnitudeOfProduct: g.value, weight, mask: mask, invert: invert)
                guard ranked.finite else { return nil }
                scores[path] = .ranked(ranked)
            } else {
                guard let s = Scorer.synflowScore(weight: weight, mask: mask, gradient: g.value) else { return nil }
                scores[path] = .tensor(s)
            }
        }
        let log2R = rValue > 0 ? Int(rValue.exponent) - scale.input : Int.min / 2
        return (log2R, ScoreSet(layers: scores))
    }

    /// The network's output on the all-ones input, with no tape (the overflow probe).
    func synflowOutput(_ model: Model, scale: SynFlowScale) -> Variable {
        GradMode.with(enabled: false) { synflowForward(model, scale: scale).output }
    }

    /// The forward of the |·| network: effective weights `m ⊙ |w|` bound as leaves (on a copy
    /// without masks), other tensors `|x|`, additive ones and the input scaled by `2^input`.
    func synflowForward(_ model: Model, scale: SynFlowScale) -> (output: Variable, leaves: [(path: String, leaf: Variable)]) {
        let up = Float(sign: .plus, exponent: scale.input, significand: 1)
        var state: [String: Tensor] = [:]
        var leaves: [(path: String, leaf: Variable)] = []
        for (path, slot) in model.slots {
            let t = model.state[path]!
            if slot.isPrunable {
                let effective = Scorer.absMasked(t, model.masks[path])
                state[path] = effective
                leaves.append((path, Variable(effective, requiresGrad: true)))
            } else if Scorer.isAdditive(slot.initializer) && scale.input != 0 {
                state[path] = t.map { Swift.abs($0) * up }
            } else {
                state[path] = t.abs()
            }
        }
        let network = model.withMasks([:]).updating(state)
        let input = Tensor(repeating: up, shape: [1] + model.architecture.inputShape)
        let bound = Dictionary(uniqueKeysWithValues: leaves.map { ($0.path, $0.leaf) })
        let output = network.forward(Variable(input), parameters: bound, training: false).output
        return (output, leaves)
    }

    /// `m ⊙ |g ⊙ w|`, or nil if an entry is not finite. One parallel pass, branch-free.
    static func synflowScore(weight: Tensor, mask: Tensor?, gradient: Tensor) -> Tensor? {
        var finite = true
        let scores = Tensor.build(weight.shape) { buffer in
            let out = buffer.baseAddress!
            weight.scalars.withUnsafeBufferPointer { w in
                gradient.scalars.withUnsafeBufferPointer { g in
                    (mask?.scalars).withOptionalBuffer { m in
                        let (w, g, m) = (w.baseAddress!, g.baseAddress!, m?.baseAddress)
                        finite = Scorer.forEachChunk(weight.count) { range in
                            var largest: UInt32 = 0
                            if let m {
                                for i in range {
                                    let s = Swift.abs(g[i] * w[i]) * m[i]
                                    out[i] = s
                                    largest = Swift.max(largest, s.bitPattern & 0x7FFF_FFFF)
                                }
                            } else {
                                for i in range {
                                    let s = Swift.abs(g[i] * w[i])
                                    out[i] = s
                                    largest = Swift.max(largest, s.bitPattern & 0x7FFF_FFFF)
                                }
                            }
                            return largest < 0x7F80_0000
                        }
                    }
                }
            }
        }
        return finite ? scores : nil
    }

    /// `m ⊙ |w|`, in parallel.
    static func absMasked(_ weight: Tensor, _ mask: Tensor?) -> Tensor {
        Tensor.build(weight.shape) { buffer in
            let out = buffer.baseAddress!
            weight.scalars.withUnsafeBufferPointer { w in
                (mask?.scalars).withOptionalBuffer { m in
                    let (w, m) = (w.baseAddress!, m?.baseAddress)
                    _ = Scorer.forEachChunk(weight.count) { range in
                        if let m {
                            for i in range { out[i] = Swift.abs(w[i]) * m[i] }
                        } else {
                            for i in range { out[i] = Swift.abs(w[i]) }
                        }
                        return true
                    }
                }
            }
        }
    }

    /// Tensors that enter a layer's output additively (biases, batch norm's β and running mean):
    /// the ones scaled with the input to keep the network homogeneous.
    static func isAdditive(_ role: Initializer.Role) -> Bool {
        switch role {
        case .bias, .normShift, .runningMean: return true
        case .weight, .normScale, .runningVariance: return false
        }
    }
}
