import PrnKernel
import PrnAutograd
import PrnNN

/// The data-driven scores: SNIP (first order) and GraSP (second order), both in eval mode, both
/// with L the mean cross-entropy of a scoring batch, summed over the scoring batches.
extension Scorer {
    /// GraSP's temperature: logits are divided by T = 200 (Wang et al. 2020; SF's default).
    static let graspTemperature: Float = 200

    /// SNIP (Lee et al. 2019): `|w ⊙ ∂L/∂(m⊙w)|`.
    ///
    /// The gradient is taken with respect to the *effective* weight `m ⊙ w`: the forward runs on
    /// a copy of the model without masks whose prunable weights are the effective weights, bound
    /// as the leaves, so the leaf gradient is `∂L/∂(m⊙w)` itself. (Differentiating the stored
    /// weight `w` through `Model.forward`, which multiplies by the mask, would give
    /// `m ⊙ ∂L/∂(m⊙w)` — the same for unpruned entries, 0 for pruned ones.) For a dense model
    /// the two agree everywhere; for a pruned one, a pruned entry's score says how much the loss
    /// would move if it came back, which `Pruner` ignores (pruned entries rank at −∞) but
    /// `Pruner.scores` reports.
    func snipScores(_ model: Model) -> [String: Tensor] {
        let paths = model.prunablePaths
        var effective: [String: Tensor] = [:]
        for path in paths { effective[path] = model.effectiveWeight(path) }
        let unmasked = model.withMasks([:]).updating(effective)
        var sums: [Tensor] = []
        for batch in batches {
            let leaves = paths.map { Variable(effective[$0]!, requiresGrad: true) }
            let bound = Dictionary(uniqueKeysWithValues: zip(paths, leaves))
            let logits = unmasked.forward(Variable(batch.images), parameters: bound, training: false).output
            let gradients = grad(of: crossEntropy(logits, labels: batch.labels), wrt: leaves).map(\.value)
            sums = sums.isEmpty ? gradients : zip(sums, gradients).map { $0 + $1 }
        }
        var result: [String: Tensor] = [:]
        for (path, g) in zip(paths, sums) {
            result[path] = Tensor.zip(model.state[path]!, g) { w, g in Swift.abs(w * g) }
        }
        return result
    }

    /// GraSP (Wang et al. 2020): `(H g) ⊙ w`, keep the largest.
    func graspScores(_ model: Model) -> [String: Tensor] {
        let hg = graspHessianGradient(model)
        var result: [String: Tensor] = [:]
        for path in model.prunablePaths { result[path] = hg[path]! * model.state[path]! }
        return result
    }

    /// `H g` for the prunable weights, exactly, by double backward:
    ///
    /// ```
    /// pass 1:  g = Σ_b ∂L_b/∂w                               (no graph)
    /// pass 2:  Σ_b ∂⟨stop_grad(g), ∂L_b/∂w⟩/∂w = Σ_b H_b g   (∂L_b/∂w recorded with createGraph)
    /// ```
    ///
    /// with `L_b` the mean cross-entropy of `logits / 200` on batch b. H is the Hessian block of the
    /// prunable weights (biases and batch norm are held fixed, as in SF). The leaves are the stored
    /// weights and `Model.forward` multiplies them by their masks, so for a pruned model this is
    /// the Hessian of the remaining weights, `M H M`, applied to `M g` — the pruned weights cannot
    /// move, so they take no part in the gradient flow GraSP preserves — and pruned entries score 0.
    /// For a dense model (single-shot GraSP) nothing is masked and this is plain `H g`.
    func graspHessianGradient(_ model: Model) -> [String: Tensor] {
        let paths = model.prunablePaths
        let weights = paths.map { model.state[$0]! }
        func loss(_ leaves: [Variable], _ batch: ScoringBatch) -> Variable {
            let bound = Dictionary(uniqueKeysWithValues: zip(paths, leaves))
            let logits = model.forward(Variable(batch.images), parameters: bound, training: false).output
            return crossEntropy(logits / Scorer.graspTemperature, labels: batch.labels)
        }
        var g = weights.map { Tensor.zeros($0.shape) }
        for batch in batches {
            let leaves = weights.map { Variable($0, requiresGrad: true) }
            let gradients = grad(of: loss(leaves, batch), wrt: leaves)
            g = zip(g, gradients).map { $0 + $1.value }
        }
        let direction = g.map { Variable($0) }
        var hg = weights.map { Tensor.zeros($0.shape) }
        for batch in batches {
            let leaves = weights.map { Variable($0, requiresGrad: true) }
            let h = grad(of: loss(leaves, batch), wrt: leaves, createGraph: true)
            var inner = (h[0] * direction[0]).sum()
            for i in 1..<h.count { inner = inner + (h[i] * direction[i]).sum() }
            let products = grad(of: inner, wrt: leaves)
            hg = zip(hg, products).map { $0 + $1.value }
        }
        return Dictionary(uniqueKeysWithValues: zip(paths, hg))
    }
}
