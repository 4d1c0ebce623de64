import PrnKernel
import PrnNN

/// The sanity-check ablations of a pruned model (Frankle et al. 2021; METHODS.md, Ablations).
/// Each returns a new model value and records itself in the provenance (`ablation`,
/// `ablation_seed`), keeping `method`, `density` and the rest. `invert` is not here: it needs the
/// scores, so it is an option of `Pruner.prune`.
public enum Ablation {
    /// Layerwise shuffle: every masked tensor's mask is permuted uniformly at random, each layer
    /// with its own sub-stream of `seed` (`RNG(seed).split(i)` for the i-th prunable path), so
    /// every layer keeps its count and loses its positions (open_lth's layerwise randomization;
    /// SF's `--shuffle` is a no-op). Weights are unchanged.
    ///
    /// ```
    /// mask'[j] = mask[π(j)],   π uniform on permutations of 0..<N_l
    /// ```
    public static func shuffle(_ model: Model, seed: UInt64) throws -> Model {
        try requireMasks(model, "shuffle")
        let base = RNG(seed: seed, stream: shuffleStream)
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
        return record(model.withMasks(masks), "shuffle", seed: seed)
    }

    /// Reinitialization: fresh weights (and biases, batch norm) from the model's own initializer,
    /// drawn with `seed`; the masks stay. `init_seed` keeps naming the original initialization.
    public static func reinit(_ model: Model, seed: UInt64) throws -> Model {
        try requireMasks(model, "reinit")
        return record(model.reinitialized(seed: seed), "reinit", seed: seed)
    }

    /// A stream distinct from the pruning scores' for the same seed.
    static let shuffleStream: UInt64 = 0x7368_7566   // "shuf"

    private static func requireMasks(_ model: Model, _ name: String) throws {
        guard !model.masks.isEmpty else { throw PruneError("\(name) needs a pruned model; this one has no masks (prune it first)") }
    }

    /// Sets `ablation` (chained with `+` after an earlier ablation) and `ablation_seed`.
    private static func record(_ model: Model, _ name: String, seed: UInt64) -> Model {
        var copy = model
        let previous = model.provenance["ablation"]
        copy.provenance["ablation"] = previous == nil || previous == "none" ? name : previous! + "+" + name
        let previousSeed = model.provenance["ablation_seed"]
        copy.provenance["ablation_seed"] = previousSeed.map { $0 + "+" + String(seed) } ?? String(seed)
        return copy
    }
}
