import Foundation
import PrnNN

/// The parts of lottery-ticket rewinding (LTR, open_lth's `lottery` with `sparse_global`;
/// METHODS.md, Baselines after training) that a script composes into a loop:
///
/// ```
/// r = train m data=d epochs=E keep=[K]                         # level 0: dense, weights at K kept
/// for level in range(1, L + 1) {
///   p = prune r.model method=magnitude remove=0.2             # ceil(0.2·kept) fewer, masks nest
///   r = train (rewind p to=r epoch=K) data=d epochs=E from=K   # survivors reset to epoch K
/// }
/// ```
///
/// Magnitude pruning after training is the one-shot case: `prune r.model method=magnitude
/// density=D`, then training continues from the trained weights.
public enum Lottery {
    /// The density of the pooled layers after removing `ceil(fraction · kept)` of the weights
    /// they still keep — open_lth's `number_of_weights_to_prune`. Pass it as a `.density`
    /// target with global scope and the same allocation options: layers held by `denseFirst` or
    /// `last` are outside the pool.
    public static func density(removing fraction: Double, from model: Model,
                               allocation: AllocationOptions = AllocationOptions()) throws -> Double {
        guard fraction.isFinite, (0...1).contains(fraction) else { throw PruneError("remove=\(fraction) must be between 0 and 1") }
        var pool = model.prunablePaths
        if let last = pool.last, allocation.last != nil { pool.removeAll { $0 == last } }
        if let first = model.prunablePaths.first, allocation.denseFirst { pool.removeAll { $0 == first } }
        guard !pool.isEmpty else { throw PruneError("no prunable layers are left once the first and last are held") }
        let total = pool.reduce(0) { $0 + model.state[$1]!.count }
        let kept = pool.reduce(0) { sum, path in
            sum + (model.masks[path].map { mask in mask.scalars.reduce(0) { $0 + ($1 != 0 ? 1 : 0) } } ?? model.state[path]!.count)
        }
        let remove = Int((fraction * Double(kept)).rounded(.up))
        return Double(kept - remove) / Double(total)
    }

    /// open_lth's default for the output layer: its `pruning_layers_to_ignore` is `fc.weight` for
    /// LeNet-300-100 and the CIFAR VGGs (the output layer stays dense), nothing for ResNet-20.
    public static func defaultLast(_ architecture: Architecture) -> Double? {
        [Zoo.lenet300, .vgg11, .vgg16].contains(architecture.name) ? 1 : nil
    }

    /// The rewound ticket: `pruned`'s masks over `weights`' tensors (parameters and batch-norm
    /// buffers, as open_lth restores the whole state at the rewind point). The effective weights
    /// are `mask ⊙ w_K`; the provenance is `pruned`'s, with `rewound` set.
    public static func rewind(_ pruned: Model, to weights: Model) throws -> Model {
        guard pruned.architecture == weights.architecture else {
            throw PruneError("cannot rewind a \(pruned.architecture.name) to the weights of a \(weights.architecture.name) "
                             + "(architectures differ)")
        }
        var result = weights.withMasks(pruned.masks)
        result.provenance = pruned.provenance
        result.provenance.rewound = true
        return result
    }
}
