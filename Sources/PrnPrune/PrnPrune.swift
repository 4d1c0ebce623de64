/// Pruning at initialization (METHODS.md is the exact specification):
///
/// - `Pruner.prune` scores the prunable weights of a model (`PruneMethod`: random, magnitude,
///   SNIP, GraSP, SynFlow), ranks them globally or per layer (`PruneScope`) and returns a new model
///   whose masks keep exactly `round(d·N)` weights (`PruneTarget`), optionally over several rounds.
/// - `Pruner.scores` returns the scores themselves, as data.
/// - `Ablation.shuffle` / `Ablation.reinit` are the sanity checks of Frankle et al. (2021).
/// - `Connectivity.effectiveDensity` finds the unpruned weights that no longer lie on any
///   input–output path (layer collapse).
/// - Layer statistics live in the `Stats*` files.
public enum PrnPrune {}
