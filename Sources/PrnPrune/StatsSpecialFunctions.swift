import Foundation

/// Float64 statistics for the layer tables (METHODS.md, "Layer statistics"): descriptions of
/// one sample, two-sample comparisons, and the special functions behind their p-values.
///
/// Every function follows a named numpy/scipy convention so the tests can check it against
/// python on the same arrays; each doc comment says which.
public enum Stats {}

// MARK: - Student t and the regularized incomplete beta function

extension Stats {
    /// The two-sided p-value of Student's t: `P(|T_df| ≥ |t|)`, as scipy's
    /// `2 * stats.t.sf(abs(t), df)`.
    ///
    /// ```
    /// P(|T| ≥ |t|) = I_x(df/2, 1/2),   x = df / (df + t²)
    /// ```
    /// `1 − x = t²/(df + t²)` is passed separately, so neither tail loses digits to cancellation.
    /// `t = ±∞` gives 0; a NaN `t` or `df ≤ 0` gives NaN.
    public static func studentTTwoSidedPValue(t: Double, df: Double) -> Double {
        guard !t.isNaN, !df.isNaN, df > 0 else { return .nan }
        if t.isInfinite { return 0 }
        let t2 = t * t
        // df = ∞ would be the normal limit; scipy's t has the same limit, and x → 1 then.
        if df.isInfinite { return erfc(abs(t) / 2.0.squareRoot()) }
        let x = df / (df + t2)
        let oneMinusX = t2 / (df + t2)
        return regularizedIncompleteBeta(a: df / 2, b: 0.5, x: x, oneMinusX: oneMinusX)
    }

    /// The regularized incomplete beta function `I_x(a, b) = B(x; a, b) / B(a, b)`, for `a, b > 0`
    /// and `0 ≤ x ≤ 1`.
    ///
    /// ```
    /// I_x(a, b) = x^a (1−x)^b / (a B(a, b)) · 1/(1+ d₁/(1+ d₂/(1+ …)))
    /// d_{2m+1} = −(a+m)(a+b+m) x / ((a+2m)(a+2m+1))
    /// d_{2m}   =  m(b−m) x / ((a+2m−1)(a+2m))
    /// ```
    /// The continued fraction (evaluated by the modified Lentz method) converges fast for
    /// `x < (a+1)/(a+b+2)`; above that the symmetry `I_x(a, b) = 1 − I_{1−x}(b, a)` is used.
    /// `oneMinusX`, when given, must equal `1 − x` computed without cancellation.
    public static func regularizedIncompleteBeta(a: Double, b: Double, x: Double, oneMinusX: Double? = nil) -> Double {
        guard a > 0, b > 0, x >= 0, x <= 1 else { return .nan }
        let y = oneMinusX ?? (1 - x)
        if x == 0 { return 0 }
        if y == 0 { return 1 }
        // log of x^a (1−x)^b / B(a, b); log(y) rather than log1p(−x) because y is the accurate one.
        let logFront = logGamma(a + b) - logGamma(a) - logGamma(b) + a * log(x) + b * log(y)
        if x < (a + 1) / (a + b + 2) {
            return exp(logFront) * betaContinuedFraction(a: a, b: b, x: x) / a
        }
        return 1 - exp(logFront) * betaContinuedFraction(a: b, b: a, x: y) / b
    }

    /// `log Γ(x)` for `x > 0`, via the reentrant `lgamma_r` (plain `lgamma` writes the global
    /// `signgam`, a data race when layers are processed in parallel).
    static func logGamma(_ x: Double) -> Double {
        lgamma(x).0
    }

    /// The continued fraction of `I_x(a, b)` by the modified Lentz method (Numerical Recipes §6.4).
    static func betaContinuedFraction(a: Double, b: Double, x: Double) -> Double {
        // `tiny` stands in for a zero denominator, the usual Lentz safeguard.
        let tiny = 1e-300, epsilon = 1e-16
        let qab = a + b, qap = a + 1, qam = a - 1
        var c = 1.0
        var d = 1 - qab * x / qap
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var h = d
        // Iterations grow like sqrt(max(a, b)); 100 000 covers df far beyond any seed count.
        for m in 1...100_000 {
            let m = Double(m), m2 = 2 * m
            var aa = m * (b - m) * x / ((qam + m2) * (a + m2))
            d = 1 + aa * d
            if abs(d) < tiny { d = tiny }
            c = 1 + aa / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            h *= d * c
            aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
            d = 1 + aa * d
            if abs(d) < tiny { d = tiny }
            c = 1 + aa / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) <= epsilon { break }
        }
        return h
    }
}
