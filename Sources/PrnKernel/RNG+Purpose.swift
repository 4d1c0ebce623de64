/// What a random draw is for (METHODS.md, Random streams). Each purpose has its own Philox
/// stream, so two purposes never share numbers even when a script passes the same seed to every
/// command (`model … seed=s`, `prune … seed=s`, `train … seed=s`): the same key with a different
/// stream counter gives independent blocks.
///
/// Sub-streams (`split(i)`, per layer, epoch or round) keep the purpose apart too: `split` gives
/// seed `s + γ·(i+1)` and stream `tag ⊕ i·δ`, so for one seed two purposes can meet only at the
/// same `i`, where their tags differ.
///
/// Initial weights keep stream 0, the stream models were always drawn from, so a model's
/// weights for a given seed are what they were before purposes existed.
public enum RandomPurpose: UInt64, CaseIterable, Sendable {
    /// A model's initial weights, one sub-stream per slot.
    case initialWeights = 0
    /// The order of the training examples, one sub-stream per epoch.
    case dataOrder = 0x6F72_6472         // "ordr"
    /// Augmentation choices (crop, flip), one sub-stream per epoch.
    case augmentation = 0x6175_676D      // "augm"
    /// The examples a pruning method scores with (SNIP, GraSP).
    case scoringSubset = 0x6461_7461     // "data"
    /// `random` pruning scores, one sub-stream per round and layer.
    case randomScores = 0x7261_6E64      // "rand"
    /// The layerwise mask shuffle ablation, one sub-stream per layer.
    case maskShuffle = 0x7368_7566       // "shuf"
    /// The weight shuffle ablation, one sub-stream per layer.
    case weightShuffle = 0x7773_6866     // "wshf"
    /// Corrupted scoring data: which labels change and to what, or the pixel permutation.
    case corruption = 0x6372_7074        // "crpt"
    /// Synthetic data sets: class centers and examples.
    case syntheticData = 0x7379_6E74     // "synt"
}

extension RNG {
    /// The generator of `purpose` for `seed`.
    public init(seed: UInt64, purpose: RandomPurpose) {
        self.init(seed: seed, stream: purpose.rawValue)
    }
}
