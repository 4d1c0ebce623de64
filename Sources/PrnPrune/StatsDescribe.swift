import Foundation

/// The 5, 25, 50, 75 and 95 % quantiles of a sample, by linear interpolation.
public struct Quantiles: Sendable, Equatable {
    /// The levels, in field order.
    public static let levels: [Double] = [0.05, 0.25, 0.5, 0.75, 0.95]

    public var p05: Double
    public var p25: Double
    public var p50: Double
    public var p75: Double
    public var p95: Double

    public init(p05: Double, p25: Double, p50: Double, p75: Double, p95: Double) {
        (self.p05, self.p25, self.p50, self.p75, self.p95) = (p05, p25, p50, p75, p95)
    }

    /// The quantiles of an ascending sample (all NaN when it is empty).
    public init(sorted: [Double]) {
        let q = Quantiles.levels.map { Stats.quantile(sorted: sorted, $0) }
        self.init(p05: q[0], p25: q[1], p50: q[2], p75: q[3], p95: q[4])
    }

    /// The values in the order of `levels`.
    public var values: [Double] { [p05, p25, p50, p75, p95] }

    static let undefined = Quantiles(p05: .nan, p25: .nan, p50: .nan, p75: .nan, p95: .nan)
}

/// Summary statistics of one sample, in Float64, with numpy/scipy's default conventions.
///
/// ```
/// mean  = Σ wᵢ / n                  meanAbs = Σ |wᵢ| / n
/// m_k   = Σ (wᵢ − mean)^k / n       std = √m₂                    (numpy std, ddof 0)
/// skewness = m₃ / m₂^{3/2}                                       (scipy skew, bias=True)
/// excessKurtosis = m₄ / m₂² − 3                                  (scipy kurtosis, fisher=True, bias=True)
/// quantiles: np.quantile(w, q) and np.quantile(|w|, q), method='linear'
/// ```
///
/// Degenerate samples never trap and never invent numbers:
/// - empty (a fully pruned layer): `count` 0 and every statistic NaN;
/// - constant, including n = 1: std 0, skewness and kurtosis NaN — scipy returns NaN whenever
///   `m₂ ≤ (ε·mean)²` (ε = 2.2e−16), since the standardized moments are then 0/0 or rounding
///   noise; the same test is applied here;
/// - a sample containing NaN: every statistic NaN (there is no order to take quantiles in).
/// Table renderings show NaN as `—` (see `TableCell.statistic`).
public struct SampleDescription: Sendable, Equatable {
    public var count: Int
    public var mean: Double
    public var std: Double
    public var meanAbs: Double
    public var skewness: Double
    public var excessKurtosis: Double
    public var min: Double
    public var max: Double
    /// Quantiles of w.
    public var quantiles: Quantiles
    /// Quantiles of |w|.
    public var absQuantiles: Quantiles

    /// A description with only the count known: every statistic NaN.
    public static func undefined(count: Int) -> SampleDescription {
        SampleDescription(count: count, mean: .nan, std: .nan, meanAbs: .nan, skewness: .nan, excessKurtosis: .nan,
                          min: .nan, max: .nan, quantiles: .undefined, absQuantiles: .undefined)
    }
}

extension Stats {
    /// Describes a sample in any order (it is sorted once here).
    public static func describe(_ sample: [Double]) -> SampleDescription {
        if sample.contains(where: \.isNaN) { return .undefined(count: sample.count) }
        return describe(sorted: sample.sorted())
    }

    /// Describes a sample already in ascending order and free of NaN.
    public static func describe(sorted w: [Double]) -> SampleDescription {
        let n = w.count
        guard n > 0 else { return .undefined(count: 0) }
        let count = Double(n)
        let mean = compensatedSum(w) / count
        var sumAbs = 0.0, m2 = 0.0, m3 = 0.0, m4 = 0.0
        for x in w {
            sumAbs += abs(x)
            let e = x - mean, e2 = e * e
            m2 += e2
            m3 += e2 * e
            m4 += e2 * e2
        }
        m2 /= count
        m3 /= count
        m4 /= count
        // scipy's test for a (numerically) constant sample, where m₃/m₂^{3/2} is 0/0 or noise.
        let constant = m2 <= (Double.ulpOfOne * mean) * (Double.ulpOfOne * mean)
        return SampleDescription(
            count: n, mean: mean, std: m2.squareRoot(), meanAbs: sumAbs / count,
            skewness: constant ? .nan : m3 / pow(m2, 1.5),
            excessKurtosis: constant ? .nan : m4 / (m2 * m2) - 3,
            min: w[0], max: w[n - 1],
            quantiles: Quantiles(sorted: w), absQuantiles: Quantiles(sorted: sortedMagnitudes(sorted: w)))
    }

    /// The `q`-quantile of an ascending sample by linear interpolation between order statistics,
    /// numpy's default `np.quantile(w, q, method='linear')`:
    ///
    /// ```
    /// h = (n − 1)·q,  j = ⌊h⌋,  γ = h − j,  Q(q) = w_j + γ (w_{j+1} − w_j)
    /// ```
    /// evaluated as numpy's `_lerp` does (from the upper end when γ ≥ ½) so results agree to the
    /// last bit. NaN for an empty sample.
    public static func quantile(sorted w: [Double], _ q: Double) -> Double {
        let n = w.count
        guard n > 0, !q.isNaN else { return .nan }
        let h = Double(n - 1) * q
        if h >= Double(n - 1) { return w[n - 1] }
        if h <= 0 { return w[0] }
        let j = h.rounded(.down)
        let gamma = h - j
        let a = w[Int(j)], b = w[Int(j) + 1]
        let difference = b - a
        return gamma >= 0.5 ? b - difference * (1 - gamma) : a + difference * gamma
    }

    /// `|w|` in ascending order from `w` in ascending order, by merging the negative part (read
    /// backwards) with the rest: O(n) instead of a second sort.
    static func sortedMagnitudes(sorted w: [Double]) -> [Double] {
        let split = w.firstIndex { !($0 < 0) } ?? w.count
        var result: [Double] = []
        result.reserveCapacity(w.count)
        var negative = split - 1, positive = split
        while negative >= 0 || positive < w.count {
            if positive == w.count || (negative >= 0 && -w[negative] <= w[positive]) {
                result.append(-w[negative])
                negative -= 1
            } else {
                result.append(abs(w[positive]))   // abs turns −0.0 into 0
                positive += 1
            }
        }
        return result
    }

    /// Neumaier's compensated sum: the mean of 2.4M weights stays exact to ~1 ulp even when
    /// positive and negative weights nearly cancel.
    static func compensatedSum(_ values: [Double]) -> Double {
        var sum = 0.0, compensation = 0.0
        for x in values {
            let t = sum + x
            compensation += abs(sum) >= abs(x) ? (sum - t) + x : (x - t) + sum
            sum = t
        }
        return sum + compensation
    }
}
