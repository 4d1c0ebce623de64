import PrnNN

/// What each method needs to score (the names themselves live with the model's provenance in
/// PrnNN, which records them in checkpoints).
extension PruneMethod {
    /// SNIP and GraSP score with a batch of training data; the others need none.
    public var needsData: Bool { self == .snip || self == .grasp }

    /// SynFlow iterates 100 rounds by default (Tanaka et al. 2020); the others are single-shot.
    public var defaultRounds: Int { self == .synflow ? 100 : 1 }
}
