import PrnKernel
import PrnData
import PrnNN

/// A prunable tensor's count after pruning: what `prune` reports per layer.
public struct LayerDensity: Equatable, Sendable {
    /// The weight's path, e.g. `fc1.weight`.
    public let path: String
    /// Number of weights in the tensor.
    public let total: Int
    /// Number of unpruned weights.
    public let kept: Int

    public init(path: String, total: Int, kept: Int) {
        self.path = path
        self.total = total
        self.kept = kept
    }

    /// `kept / total`.
    public var density: Double { total == 0 ? 1 : Double(kept) / Double(total) }

    /// Per-layer counts of a model's masks (a missing mask counts as dense).
    public static func of(_ model: Model) -> [LayerDensity] {
        model.prunablePaths.map { path in
            let total = model.state[path]!.count
            let kept = model.masks[path].map { mask in mask.scalars.reduce(0) { $0 + ($1 != 0 ? 1 : 0) } } ?? total
            return LayerDensity(path: path, total: total, kept: kept)
        }
    }
}

/// What `prune` returns: the pruned model, the achieved counts, and anything the user should know.
public struct PruneResult {
    /// A new model value with masks on every prunable weight; the input model is unchanged.
    public let model: Model
    /// Achieved counts per prunable tensor, in `prunablePaths` order.
    public let layers: [LayerDensity]
    /// Rounds run.
    public let rounds: Int
    /// Warnings, e.g. a layer already sparser than the target (pruned weights never come back).
    public let notes: [String]

    /// Unpruned fraction over all prunable weights.
    public var density: Double {
        let total = layers.reduce(0) { $0 + $1.total }
        return total == 0 ? 1 : Double(layers.reduce(0) { $0 + $1.kept }) / Double(total)
    }
}

/// Pruning at initialization: score, rank, mask (METHODS.md).
///
/// ```swift
/// let m = try Model(Architecture(name: .lenet300, inputShape: [1, 28, 28], classes: 10), seed: 0)
/// let p = try Pruner.prune(m, method: .snip, target: .sparsity(0.9), data: fashion, seed: 1)
/// p.model.masks["fc1.weight"]     // 0/1, about 10 % ones overall
/// p.layers                        // per-layer kept counts
/// ```
///
/// Each round: score the model with its current masks; rank the scores (negated with
/// `invert`), with already-pruned entries at −∞ so they are removed first and never come back;
/// remove exactly `k = N − round(dₑ·N)` entries globally (or `N_l − round(dₑ·N_l)` per tensor),
/// ties by index (`MaskSelection`). Round e of E targets `dₑ = d^(e/E)`, so the last round
/// reaches `d` exactly.
public enum Pruner {
    /// Prunes a copy of `model`.
    ///
    /// - Parameters:
    ///   - method: the score (`PruneMethod`).
    ///   - target: density, sparsity or compression of the prunable weights, counted over all of
    ///     them (so a model that is already pruned ends at the same overall density).
    ///   - scope: `.global` ranks all prunable weights together; the others give every tensor
    ///     its own density (`DensityAllocation`) and rank inside it.
    ///   - allocation: first and last layers held at their own density, smart's linear density.
    ///   - data: training data for SNIP and GraSP (ignored by the others).
    ///   - rounds: iterations on the exponential schedule; default 100 for SynFlow, 1 otherwise.
    ///   - samples: scoring examples for SNIP/GraSP; default `10 × classes`.
    ///   - seed: seeds random scores and the scoring subset.
    ///   - invert: keep the lowest scores instead. Scores are negated, not inverted (`1/s`, as SF
    ///     does, breaks on zero scores and reverses the order of GraSP's signed scores only
    ///     within each sign).
    ///   - progress: called after each round with `(round, rounds)`.
    ///   - shouldStop: polled before each round; when it returns true, `prune` throws.
    public static func prune(_ model: Model, method: PruneMethod, target: PruneTarget, scope: PruneScope = .global,
                             allocation: AllocationOptions = AllocationOptions(), data: Dataset? = nil, rounds: Int? = nil, samples: Int? = nil, seed: UInt64 = 0,
                             invert: Bool = false, progress: ((Int, Int) -> Void)? = nil,
                             shouldStop: (() -> Bool)? = nil) throws -> PruneResult {
        try target.validate()
        try allocation.validate()
        let rounds = rounds ?? method.defaultRounds
        guard rounds >= 1, rounds <= maxRounds else { throw PruneError("rounds=\(rounds) must be between 1 and \(maxRounds)") }
        let paths = model.prunablePaths
        guard !paths.isEmpty else { throw PruneError("\(model.architecture.name) has no prunable weights") }
        var scorer = try Scorer(method: method, model: model, data: data, samples: samples, seed: seed)

        var current = model
        var notes: [String] = []
        for round in 1...rounds {
            if shouldStop?() == true { throw PruneError("prune stopped at round \(round) of \(rounds)") }
            let scores = try scorer.scores(current, round: round, rankingFor: invert)
            let density = target.density(afterRound: round, of: rounds)
            let (masks, clamped) = try select(current, scores: scores.layers, density: density, scope: scope,
                                              allocation: allocation.scheduled(round: round, of: rounds), invert: invert)
            current = current.withMasks(masks)
            if round == rounds { notes = clamped }
            progress?(round, rounds)
        }

        var provenance = model.provenance
        provenance.pruning = ModelProvenance.Pruning(
            method: method, density: target.density, sparsity: target.sparsity, compression: target.compression,
            scope: scope, denseFirst: allocation.denseFirst, last: allocation.last,
            linearKeep: scope == .smart ? allocation.linearKeep : nil, seed: seed, rounds: rounds, invert: invert,
            samples: method.needsData ? scorer.batches.reduce(0, { $0 + $1.labels.count }) : nil)
        provenance.ablations = []
        current.provenance = provenance
        return PruneResult(model: current, layers: LayerDensity.of(current), rounds: rounds, notes: notes)
    }

    /// One round of raw scores for `model` as it is (its masks included), per prunable weight path:
    /// "scores as data", e.g. to save or plot. Not inverted; pruned entries keep the method's
    /// value (0 for SynFlow and GraSP, the effective-weight sensitivity for SNIP, `|w|` for
    /// magnitude) — `prune` ranks them at −∞ instead.
    public static func scores(_ model: Model, method: PruneMethod, data: Dataset? = nil, samples: Int? = nil,
                              seed: UInt64 = 0) throws -> [String: Tensor] {
        guard !model.prunablePaths.isEmpty else { throw PruneError("\(model.architecture.name) has no prunable weights") }
        var scorer = try Scorer(method: method, model: model, data: data, samples: samples, seed: seed)
        let set = try scorer.scores(model, round: 1)
        guard set.exponent != 0 else { return set.tensors }
        // SynFlow had to rescale: undo the common power of two if Float32 can hold the result
        // (in two factors, each representable, for shifts beyond 2^127).
        let half = -set.exponent / 2
        let (f1, f2) = (Float(sign: .plus, exponent: half, significand: 1),
                        Float(sign: .plus, exponent: -set.exponent - half, significand: 1))
        var result: [String: Tensor] = [:]
        for (path, t) in set.tensors {
            let unscaled = t.map { $0 * f1 * f2 }
            guard unscaled.isFinite else {
                throw PruneError("synflow scores exceed Float32's range (they were computed scaled by 2^\(set.exponent)); "
                                 + "prune still ranks them exactly")
            }
            result[path] = unscaled
        }
        return result
    }

    /// The most rounds a prune may take.
    public static let maxRounds = 100_000

    /// The masks that keep the top scores: `round(density·N)` over the global pool and
    /// `round(density_l·N_l)` in each layer with a density of its own (`DensityAllocation`),
    /// never reviving a pruned weight. Returns notes for tensors (or the pool) already sparser
    /// than asked, which stay as they are.
    static func select(_ model: Model, scores: [String: LayerScores], density: Double, scope: PruneScope,
                       allocation: AllocationOptions = AllocationOptions(),
                       invert: Bool) throws -> (masks: [String: Tensor], notes: [String]) {
        let paths = model.prunablePaths
        let total = paths.reduce(0) { $0 + model.state[$1]!.count }
        guard total < Int(UInt32.max) else { throw PruneError("\(total) prunable weights are too many to rank (limit 2^32)") }
        var ranked: [MaskSelection.RankedLayer] = []
        var shapes: [[Int]] = []
        for path in paths {
            let layer: MaskSelection.RankedLayer
            switch scores[path]! {
            case .tensor(let s): layer = MaskSelection.keys(scores: s, mask: model.masks[path], invert: invert)
            case .ranked(let r): layer = r
            }
            guard layer.finite else {
                throw PruneError("scores of \(path) are not all finite (NaN or infinity): the weights or gradients overflowed")
            }
            ranked.append(layer)
            shapes.append(model.state[path]!.shape)
        }
        let shares = try DensityAllocation.shares(shapes: shapes, density: density, scope: scope, options: allocation,
                                                  residual: model.architecture.name == .resnet20)
        var notes: [String] = []
        var masks: [String: Tensor] = [:]
        let pool = shares.indices.filter { shares[$0] == .pooled }
        if !pool.isEmpty {
            let poolTotal = pool.reduce(0) { $0 + Shape.count(shapes[$1]) }
            let what = pool.count == paths.count ? "the model" : "the pooled layers"
            let (kept, note) = keptCount(density: density, total: poolTotal, alive: pool.reduce(0) { $0 + ranked[$1].alive }, what: what)
            if let note { notes.append(note) }
            let result = MaskSelection.keepMasks(pool.map { ranked[$0] }, shapes: pool.map { shapes[$0] }, remove: poolTotal - kept)
            for (l, m) in zip(pool, result) { masks[paths[l]] = m }
        }
        for (l, share) in shares.enumerated() {
            guard case .density(let layerDensity) = share else { continue }
            let total = Shape.count(shapes[l])
            let (kept, note) = keptCount(density: layerDensity, total: total, alive: ranked[l].alive, what: paths[l])
            if let note { notes.append(note) }
            masks[paths[l]] = MaskSelection.keepMasks([ranked[l]], shapes: [shapes[l]], remove: total - kept)[0]
        }
        return (masks, notes)
    }

    /// `round(d·N)`, but never more than the weights still alive.
    private static func keptCount(density: Double, total: Int, alive: Int, what: String) -> (Int, String?) {
        let kept = PruneTarget.keptCount(density: density, total: total)
        guard kept > alive else { return (kept, nil) }
        let note = "\(what) already keeps \(alive) of \(total) weights, fewer than the \(kept) asked for; "
            + "pruned weights stay pruned"
        return (alive, note)
    }
}
