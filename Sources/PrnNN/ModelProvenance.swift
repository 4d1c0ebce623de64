import Foundation

/// Where a model value came from: the seed of its weights, how it was pruned, which ablations
/// followed, whether it was rewound. Tables, plots and `vars` show it; checkpoints keep it.
///
/// It lives in PrnNN, beside `Model`, because a checkpoint carries it and PrnNN writes and reads
/// checkpoints. Its vocabulary therefore lives here too, as names only (`PruneMethod`,
/// `PruneScope`, `AblationKind`); what a method does — its scores, data and rounds — stays in
/// PrnPrune.
///
/// One vocabulary for the unmodified cases: a model nobody pruned has method `dense`
/// (`methodName`), one no ablation touched has ablation `original` (`ablationName`), in every
/// field, table, plot label and file.
public struct ModelProvenance: Equatable, Sendable {
    /// The seed its weights were initialized from; nil only for a checkpoint that records none.
    public var initSeed: UInt64?
    /// How it was pruned; nil for a dense model.
    public var pruning: Pruning?
    /// The ablations applied since it was pruned, in order; empty for the original.
    public var ablations: [AppliedAblation]
    /// Whether its weights were rewound to an earlier point of training (`Lottery.rewind`).
    public var rewound: Bool

    /// The method of a model nobody pruned.
    public static let dense = "dense"
    /// The ablation of a model no ablation touched.
    public static let original = "original"

    public init(initSeed: UInt64? = nil, pruning: Pruning? = nil, ablations: [AppliedAblation] = [], rewound: Bool = false) {
        self.initSeed = initSeed
        self.pruning = pruning
        self.ablations = ablations
        self.rewound = rewound
    }

    /// The pruning method's name, or `dense`.
    public var methodName: String { pruning?.method.rawValue ?? Self.dense }

    /// `original`, or the ablations joined by `+` (`shuffle+reinit`).
    public var ablationName: String {
        ablations.isEmpty ? Self.original : ablations.map(\.kind.rawValue).joined(separator: "+")
    }

    /// What `Pruner.prune` did.
    public struct Pruning: Equatable, Sendable {
        public var method: PruneMethod
        /// The fraction of prunable weights asked to be kept.
        public var density: Double
        /// The fraction asked to be removed (as typed, when the target was a sparsity).
        public var sparsity: Double
        /// The compression asked for, when the target was one.
        public var compression: Double?
        public var scope: PruneScope
        /// Whether the first layer was held dense.
        public var denseFirst: Bool
        /// The last layer's own density, when it had one.
        public var last: Double?
        /// `scope=smart`'s density of every linear layer.
        public var linearKeep: Double?
        /// The seed of random scores and of the scoring subset.
        public var seed: UInt64
        public var rounds: Int
        /// Whether the lowest scores were kept.
        public var invert: Bool
        /// The examples scored with, for the methods that use data.
        public var samples: Int?

        public init(method: PruneMethod, density: Double, sparsity: Double, compression: Double? = nil, scope: PruneScope,
                    denseFirst: Bool = false, last: Double? = nil, linearKeep: Double? = nil, seed: UInt64, rounds: Int,
                    invert: Bool = false, samples: Int? = nil) {
            self.method = method
            self.density = density
            self.sparsity = sparsity
            self.compression = compression
            self.scope = scope
            self.denseFirst = denseFirst
            self.last = last
            self.linearKeep = linearKeep
            self.seed = seed
            self.rounds = rounds
            self.invert = invert
            self.samples = samples
        }
    }

    /// One ablation and the seed it drew with.
    public struct AppliedAblation: Equatable, Sendable {
        public var kind: AblationKind
        public var seed: UInt64

        public init(_ kind: AblationKind, seed: UInt64) {
            self.kind = kind
            self.seed = seed
        }
    }
}

/// The saliency scores prn prunes by (METHODS.md, Scores; PrnPrune's `Scorer` computes them).
/// Every score is elementwise, shaped like the weight; the highest scores are kept (the lowest
/// with `invert=true`).
///
/// | method      | score                                   | data | default rounds |
/// |-------------|-----------------------------------------|------|----------------|
/// | `random`    | i.i.d. standard normal                  | no   | 1              |
/// | `magnitude` | `|w|`                                   | no   | 1              |
/// | `snip`      | `|w ⊙ ∂L/∂(m⊙w)|`                       | yes  | 1              |
/// | `grasp`     | `(H g) ⊙ w`, logits / 200               | yes  | 1              |
/// | `synflow`   | `|∂R/∂w ⊙ w|` on the |·| network         | no   | 100            |
public enum PruneMethod: String, CaseIterable, Sendable {
    case random, magnitude, snip, grasp, synflow
}

/// How the kept weights are shared among the prunable layers (PrnPrune's `DensityAllocation`).
public enum PruneScope: String, CaseIterable, Sendable {
    /// Pool the scores of every prunable tensor and remove the `k` lowest overall.
    case global
    /// Uniform: rank inside each tensor, each keeping `round(d·N_l)` of its own.
    case layer
    /// Erdős–Rényi–Kernel densities (RigL), ranked inside each tensor.
    case erk
    /// Erdős–Rényi densities (RigL), ranked inside each tensor.
    case er
    /// Su et al.'s smart ratios (quadratically decreasing with depth), ranked inside each tensor.
    case smart
}

/// The sanity-check ablations of a pruned model (PrnPrune's `Ablation` applies them).
public enum AblationKind: String, CaseIterable, Sendable {
    /// Each layer's mask permuted.
    case shuffle
    /// Each layer's kept weights permuted among its kept positions.
    case shuffleWeights = "shuffle_weights"
    /// Fresh weights under the same masks.
    case reinit
}
