import Foundation

/// One cell of a statistics table. The cases mirror PrnNotebook's `TableCell` (`.text`, `.int`,
/// `.number`) so the front end maps them one to one — PrnPrune sits below PrnNotebook and cannot
/// name that type. A NaN number is an undefined statistic; a table may show it as missing.
public enum StatsCell: Sendable, Equatable {
    case text(String)
    case int(Int)
    /// May be NaN for an undefined statistic (empty layer, constant sample, …).
    case number(Double)

    /// A plain rendering: NaN as `—`, numbers with up to 6 significant digits.
    public var text: String {
        switch self {
        case .text(let s): return s
        case .int(let i): return String(i)
        case .number(let x): return x.isNaN ? "—" : String(format: "%.6g", x)
        }
    }

    /// The number a cell holds, if any (NaN included).
    public var number: Double? {
        switch self {
        case .text: return nil
        case .int(let i): return Double(i)
        case .number(let x): return x
        }
    }
}

// The column lists and rows are written side by side so their order cannot drift apart; the
// `columnsMatchRows` test checks the lengths too.

extension SampleDescription {
    /// Column names of `row`, snake case for CSV headers: `q05` … `q95` are quantiles of w,
    /// `abs_q05` … of |w|.
    public static let columns: [String] =
        ["count", "mean", "std", "mean_abs", "skew", "kurtosis", "min", "max"]
        + Quantiles.levels.map { "q" + percent($0) } + Quantiles.levels.map { "abs_q" + percent($0) }

    public var row: [StatsCell] {
        [.int(count)] + [mean, std, meanAbs, skewness, excessKurtosis, min, max].map(StatsCell.number)
            + quantiles.values.map(StatsCell.number) + absQuantiles.values.map(StatsCell.number)
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

    public var row: [StatsCell] {
        [.text(path), .text(shape.map(String.init).joined(separator: "x")), .int(total), .int(kept),
         .number(density), .number(effectiveDensity)] + stats.row.dropFirst()
    }
}

extension LayerComparison {
    /// `layer`, `kept_a`, `kept_b`, `ks_d`, `ks_p`, `w1`, `rel_std`, `jaccard`.
    public static let columns: [String] = ["layer", "kept_a", "kept_b", "ks_d", "ks_p", "w1", "rel_std", "jaccard"]

    public var row: [StatsCell] {
        [.text(path), .int(keptA), .int(keptB), .number(ksStatistic), .number(ksPValue),
         .number(wasserstein), .number(relativeStdChange), .number(maskJaccard)]
    }
}
