/// The saliency scores prn prunes by (METHODS.md, Scores). Every score is elementwise, shaped like
/// the weight; the highest scores are kept (the lowest with `invert=true`).
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

    /// SNIP and GraSP score with a batch of training data; the others need none.
    public var needsData: Bool { self == .snip || self == .grasp }

    /// SynFlow iterates 100 rounds by default (Tanaka et al. 2020); the others are single-shot.
    public var defaultRounds: Int { self == .synflow ? 100 : 1 }
}
