import PrnNotebook

// The column lists and rows are written side by side so their order cannot drift apart; the
// `columnsMatchRows` test checks the lengths too.

extension SampleDescription {
    /// Column names of `row`, snake case for CSV headers: `q05` … `q95` are quantiles of w,
    /// `abs_q05` … of |w|.
    public static let columns: [String] =
        ["count", "mean", "std", "mean_abs", "skew", "kurtosis", "min", "max"]
        + Quantiles.levels.map { "q" + percent($0) } + Quantiles.levels.map { "abs_q" + percent($0) }

    public var row: [TableCell] {
        [.int(count)] + [mean, std, meanAbs, skewness, excessKurtosis, min, max].map(TableCell.statistic)
            + quantiles.values.map(TableCell.statistic) + absQuantiles.values.map(TableCell.statistic)
    }

    private static func percent(_ level: Double) -> String {
        let p = Int((level * 100).rounded())
        return p < 10 ? "0\(p)" : "\(p)"
    }
}

extension LayerDescription {
    /// `layer`, `shape` (e.g. `16x20`), `total`, `kept`, `density`, `effective_density`, then
    /// `SampleDescription.columns` without its `count` (which is `kept`).
    public static let columns: [String] =
        ["layer", "shape", "total", "kept", "density", "effective_density"] + SampleDescription.columns.dropFirst()

    public var row: [TableCell] {
        [.text(path), .text(shape.map(String.init).joined(separator: "x")), .int(total), .int(kept),
         .statistic(density), .statistic(effectiveDensity)] + stats.row.dropFirst()
    }
}

extension LayerComparison {
    /// `layer`, `kept_a`, `kept_b`, `ks_d`, `ks_p`, `w1`, `rel_std`, `jaccard`.
    public static let columns: [String] = ["layer", "kept_a", "kept_b", "ks_d", "ks_p", "w1", "rel_std", "jaccard"]

    public var row: [TableCell] {
        [.text(path), .int(keptA), .int(keptB)]
            + [ksStatistic, ksPValue, wasserstein, relativeStdChange, maskJaccard].map(TableCell.statistic)
    }
}

extension TableCell {
    /// A statistic's cell: NaN (undefined: an empty layer, a constant sample, …) is missing.
    public static func statistic(_ x: Double) -> TableCell { x.isNaN ? .missing : .number(x) }
}
