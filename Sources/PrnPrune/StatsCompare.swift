import Foundation
import PrnKernel
import PrnNotebook

/// A two-sample Kolmogorov–Smirnov test: the statistic and its asymptotic two-sided p-value.
public struct KSTest: Sendable, Equatable {
    /// `D = sup_x |F_a(x) − F_b(x)|`.
    public var statistic: Double
    /// `P(D_{n_e} ≥ D)` with `n_e = round(n·m/(n+m))`.
    public var pValue: Double
}

/// Welch's unequal-variance t-test, two-sided.
public struct WelchTest: Sendable, Equatable {
    public var t: Double
    /// Welch–Satterthwaite degrees of freedom.
    public var df: Double
    public var pValue: Double
}

/// How far sample B's distribution lies from sample A's.
public struct SampleComparison: Sendable, Equatable {
    public var ks: KSTest
    /// Wasserstein-1 (earth mover's) distance.
    public var wasserstein: Double
    /// `std_b / std_a − 1`.
    public var relativeStdChange: Double
}

extension Stats {
    /// KS test, Wasserstein-1 distance and relative std change of two samples in any order.
    /// Any statistic involving an empty or NaN-containing sample is NaN.
    public static func compare(_ a: [Double], _ b: [Double]) -> SampleComparison {
        if a.contains(where: \.isNaN) || b.contains(where: \.isNaN) {
            return SampleComparison(ks: KSTest(statistic: .nan, pValue: .nan), wasserstein: .nan, relativeStdChange: .nan)
        }
        return compare(sorted: a.sorted(), b.sorted())
    }

    /// As `compare(_:_:)` for samples already ascending and free of NaN.
    public static func compare(sorted a: [Double], _ b: [Double]) -> SampleComparison {
        SampleComparison(
            ks: ksTest(sorted: a, b), wasserstein: wasserstein(sorted: a, b),
            relativeStdChange: relativeStdChange(from: populationStd(a), to: populationStd(b)))
    }

    /// The two-sample Kolmogorov–Smirnov test of `scipy.stats.ks_2samp(a, b, method='asymp')`.
    ///
    /// `D = max_z |F_a(z) − F_b(z)|` over every sample value `z`, with right-continuous empirical
    /// CDFs `F(z) = #{x ≤ z}/n` — scipy's `searchsorted(side='right')`, so tied values (within
    /// or across samples) enter both CDFs together. One merged walk over the two sorted samples,
    /// O(n + m).
    ///
    /// The p-value is scipy's: the *finite-n* two-sided one-sample distribution at the effective
    /// size, `kstwo.sf(D, round(n·m/(n+m)))` (round half to even), not the limit `K(√n_e·D)`.
    /// scipy's NaN for `round(n·m/(n+m)) = 0` (one observation each) is kept. NaN if either
    /// sample is empty.
    public static func ksTest(sorted a: [Double], _ b: [Double]) -> KSTest {
        let n = a.count, m = b.count
        guard n > 0, m > 0 else { return KSTest(statistic: .nan, pValue: .nan) }
        let statistic = ksStatistic(sorted: a, b)
        // scipy orders the sizes (larger first) before forming n·m/(n+m); the product is symmetric
        // but the rounding of the float expression is kept identical.
        let (big, small) = (Double(Swift.max(n, m)), Double(Swift.min(n, m)))
        let effective = (big * small / (big + small)).rounded(.toNearestOrEven)
        let pValue = effective < 1 ? Double.nan : kolmogorovSurvival(n: Int(effective), d: statistic)
        return KSTest(statistic: statistic, pValue: pValue)
    }

    /// `sup |F_a − F_b|`, evaluated after each distinct value (ties advance both walks at once).
    static func ksStatistic(sorted a: [Double], _ b: [Double]) -> Double {
        let n = a.count, m = b.count
        let nd = Double(n), md = Double(m)
        var i = 0, j = 0, d = 0.0
        while i < n || j < m {
            let z = j == m || (i < n && a[i] <= b[j]) ? a[i] : b[j]
            while i < n && a[i] <= z { i += 1 }
            while j < m && b[j] <= z { j += 1 }
            // Same float expression as scipy's cdf1 − cdf2, so D matches it bit for bit.
            d = Swift.max(d, abs(Double(i) / nd - Double(j) / md))
        }
        return d
    }

    /// The Wasserstein-1 distance of two samples, `scipy.stats.wasserstein_distance(a, b)`:
    ///
    /// ```
    /// W₁ = ∫ |F_a(z) − F_b(z)| dz = Σ_k |F_a(z_k) − F_b(z_k)| (z_{k+1} − z_k)
    /// ```
    /// over the merged sorted values `z_k`, by one merged walk. NaN if either sample is empty.
    public static func wasserstein(sorted a: [Double], _ b: [Double]) -> Double {
        let n = a.count, m = b.count
        guard n > 0, m > 0 else { return .nan }
        let nd = Double(n), md = Double(m)
        var i = 0, j = 0, total = 0.0, compensation = 0.0
        var z = Swift.min(a[0], b[0])
        while true {
            while i < n && a[i] <= z { i += 1 }
            while j < m && b[j] <= z { j += 1 }
            guard i < n || j < m else { break }
            let next = j == m || (i < n && a[i] <= b[j]) ? a[i] : b[j]
            let term = abs(Double(i) / nd - Double(j) / md) * (next - z)
            // Neumaier summation: up to 4.8M gaps for two VGG layers.
            let t = total + term
            compensation += abs(total) >= abs(term) ? (total - t) + term : (term - t) + total
            total = t
            z = next
        }
        return total + compensation
    }

    /// `std_b / std_a − 1`, with IEEE division as numpy has it: `+∞` when only `std_a` is 0
    /// (a constant or single-weight layer A), NaN when both are 0 or either sample is empty.
    public static func relativeStdChange(from stdA: Double, to stdB: Double) -> Double {
        stdB / stdA - 1
    }

    /// Jaccard similarity `|A ∩ B| / |A ∪ B|` of two 0/1 masks of the same shape (non-zero =
    /// kept). Two empty masks are identical, so their similarity is 1 (as scipy's
    /// `spatial.distance.jaccard` gives distance 0 for two all-zero vectors).
    public static func jaccard(_ a: Tensor, _ b: Tensor) -> Double {
        precondition(a.shape == b.shape, "jaccard of masks with shapes \(a.shape) and \(b.shape)")
        var intersection = 0, union = 0
        a.scalars.withUnsafeBufferPointer { a in
            b.scalars.withUnsafeBufferPointer { b in
                for k in 0..<a.count {
                    let x = a[k] != 0, y = b[k] != 0
                    if x && y { intersection += 1 }
                    if x || y { union += 1 }
                }
            }
        }
        return union == 0 ? 1 : Double(intersection) / Double(union)
    }

    /// Welch's two-sided t-test, `scipy.stats.ttest_ind(a, b, equal_var=False)`:
    ///
    /// ```
    /// t  = (ā − b̄) / √(s_a²/n_a + s_b²/n_b)          (s² with ddof 1)
    /// df = (s_a²/n_a + s_b²/n_b)² / ((s_a²/n_a)²/(n_a−1) + (s_b²/n_b)²/(n_b−1))
    /// p  = P(|T_df| ≥ |t|)
    /// ```
    /// As scipy: a sample with fewer than 2 values makes everything NaN; two constant samples
    /// give df = 1 (scipy's stand-in for 0/0) and t = ±∞ with p = 0 when the means differ, NaN
    /// when they are equal.
    public static func welchTTest(_ a: [Double], _ b: [Double]) -> WelchTest {
        let na = Double(a.count), nb = Double(b.count)
        guard a.count >= 2, b.count >= 2 else { return WelchTest(t: .nan, df: .nan, pValue: .nan) }
        let (meanA, stdA) = Replicates.meanAndStd(a), (meanB, stdB) = Replicates.meanAndStd(b)
        let vna = stdA * stdA / na, vnb = stdB * stdB / nb
        var df = (vna + vnb) * (vna + vnb) / (vna * vna / (na - 1) + vnb * vnb / (nb - 1))
        if df.isNaN { df = 1 }
        let t = (meanA - meanB) / (vna + vnb).squareRoot()
        return WelchTest(t: t, df: df, pValue: studentTTwoSidedPValue(t: t, df: df))
    }

    /// The population standard deviation (ddof 0); NaN for an empty sample.
    static func populationStd(_ w: [Double]) -> Double {
        guard !w.isEmpty else { return .nan }
        let n = Double(w.count)
        let mean = compensatedSum(w) / n
        return (w.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / n).squareRoot()
    }
}
