/// Summaries of a few repeated measurements (one per seed): the one mean and standard
/// deviation that tables' `mean ± std`, plot bands, heat maps, verdicts and Welch's test use.
public enum Replicates {
    /// Mean and sample standard deviation (n − 1); the mean is NaN for no values, σ for fewer
    /// than two.
    public static func meanAndStd(_ x: [Double]) -> (mean: Double, std: Double) {
        guard !x.isEmpty else { return (.nan, .nan) }
        let mean = x.reduce(0, +) / Double(x.count)
        guard x.count > 1 else { return (mean, .nan) }
        return (mean, (x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(x.count - 1)).squareRoot())
    }
}
