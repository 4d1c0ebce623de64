import PrnKernel
import PrnNN

/// The sanity-check ablations of a pruned model (Frankle et al. 2021; METHODS.md, Ablations).
/// Each returns a new model value and appends itself, with its seed, to the provenance's
/// `ablations`, keeping the pruning record. `invert` is not here: it needs the
/// scores, so it is an option of `Pruner.prune`.
public enum Ablation {
    /// Layerwise shuffle: every masked tensor's mask is permuted uniformly at random, each layer
    /// with its own sub-stream of `seed` (`RNG(seed, .maskShuffle).split(i)` for the i-th prunable path), so
    /// every layer keeps its count and loses its positions (open_lth's layerwise randomization;
    /// SF's `--shuffle` is a no-op). Weights are unchanged.
    ///
    /// ```
    /// mask'[j] = mask[π(j)],   π uniform on permutations of 0..<N_l
    /// ```
    public static func shuffle(_ model: Model, seed: UInt64) throws -> Model {
        try requireMasks(model, .shuffle)
        let base = RNG(seed: seed, purpose: .maskShuffle)
        var masks = model.masks
        for (i, path) in model.prunablePaths.enumerated() {
            guard let mask = model.masks[path] else { continue }
            var rng = base.split(UInt64(i))
            let permutation = rng.permutation(mask.count)
            masks[path] = Tensor.build(mask.shape) { out in
                mask.scalars.withUnsafeBufferPointer { m in
                    for (j, source) in permutation.enumerated() { out[j] = m[source] }
                }
            }
        }
        return record(model.withMasks(masks), .shuffle, seed: seed)
    }

    /// Weight shuffle (Su et al. 2020): the masks stay, and within every masked tensor the kept
    /// weights' values are permuted among the kept positions (each layer with its own sub-stream
    /// of `seed`, `RandomPurpose.weightShuffle`). Each layer's multiset of kept values is
    /// unchanged; pruned entries keep their values.
    ///
    /// ```
    /// w'[k_j] = w[k_π(j)],   k_0 < k_1 < … the kept positions, π uniform on 0..<kept_l
    /// ```
    public static func shuffleWeights(_ model: Model, seed: UInt64) throws -> Model {
        try requireMasks(model, .shuffleWeights)
        let base = RNG(seed: seed, purpose: .weightShuffle)
        var tensors: [String: Tensor] = [:]
        for (i, path) in model.prunablePaths.enumerated() {
            guard let mask = model.masks[path], let w = model.state[path] else { continue }
            let kept = mask.scalars.indices.filter { mask.scalars[$0] != 0 }
            var rng = base.split(UInt64(i))
            let permutation = rng.permutation(kept.count)
            var values = w.scalars
            for (j, source) in permutation.enumerated() { values[kept[j]] = w.scalars[kept[source]] }
            tensors[path] = Tensor(shape: w.shape, scalars: values)
        }
        return record(model.updating(tensors), .shuffleWeights, seed: seed)
    }

    /// Reinitialization: fresh weights (and biases, batch norm) from the model's own initializer,
    /// drawn with `seed`; the masks stay. The provenance's init seed becomes `seed`, so `vs init`
    /// regenerates the new weights' full initial distribution.
    public static func reinit(_ model: Model, seed: UInt64) throws -> Model {
        try requireMasks(model, .reinit)
        return record(model.reinitialized(seed: seed), .reinit, seed: seed)
    }

    private static func requireMasks(_ model: Model, _ kind: AblationKind) throws {
        guard !model.masks.isEmpty else { throw PruneError("\(kind.rawValue) needs a pruned model; this one has no masks (prune it first)") }
    }

    /// Appends the ablation and its seed to the provenance.
    private static func record(_ model: Model, _ kind: AblationKind, seed: UInt64) -> Model {
        var copy = model
        copy.provenance.ablations.append(ModelProvenance.AppliedAblation(kind, seed: seed))
        return copy
    }
}
