import Foundation

// MARK: - The two-sided one-sample Kolmogorov–Smirnov distribution

extension Stats {
    /// `P(D_n ≥ d)` for the two-sided one-sample Kolmogorov–Smirnov statistic
    /// `D_n = sup_x |F_n(x) − F(x)|` with `n` observations: scipy's `stats.kstwo.sf(d, n)`.
    ///
    /// This is the finite-`n` distribution, not Kolmogorov's limit `K(√n·d)`: `ks_2samp(...,
    /// method='asymp')` evaluates it at the effective size `round(n·m/(n+m))` (see `ksTest`).
    /// The algorithm is Simard & L'Ecuyer (2011) as scipy's `_kolmogn` arranges it, region by
    /// region of `t = n·d`, so results agree with scipy to rounding:
    ///
    /// | region                                  | method                                      |
    /// |-----------------------------------------|---------------------------------------------|
    /// | `d ≤ 1/(2n)`, `d ≥ 1`                   | 1, 0 (support of the distribution)          |
    /// | `t ≤ 1`                                 | Ruben–Gambino: `1 − n!/nⁿ (2t−1)ⁿ`          |
    /// | `t ≥ n − 1`                             | Ruben–Gambino: `2 (1−d)ⁿ`                   |
    /// | `d ≥ 1/2`                               | exact: `2 · P(D⁺_n ≥ d)` (Smirnov)          |
    /// | `n ≤ 140`, `n d² ≤ 0.754693`            | Durbin matrix (Marsaglia–Tsang–Wang)        |
    /// | `n ≤ 140`, `n d² ≤ 4`                   | Pomeranz recursion                          |
    /// | `n ≤ 140`, else                         | `2 · P(D⁺_n ≥ d)`                           |
    /// | `n > 140`, `n d² ≥ 370`                 | 0 (below 1e−320)                            |
    /// | `n > 140`, `n d² ≥ 2.2`                 | `2 · P(D⁺_n ≥ d)` (the two tails barely overlap) |
    /// | `n ≤ 100 000`, `n d^1.5 ≤ 1.4`          | `1 −` Durbin matrix                         |
    /// | otherwise                               | `1 −` Pelz–Good asymptotic series           |
    ///
    /// Small p-values come from the Smirnov sum of positive terms, never from `1 − cdf`, so they
    /// keep full relative precision down to ~1e−300. Like scipy, `P(D⁺_n ≥ d)` for `n > 10⁶`
    /// uses the approximation `exp(−(6nd+1)²/(18n))` (see `smirnovSurvival`).
    public static func kolmogorovSurvival(n: Int, d: Double) -> Double {
        guard n >= 1, !d.isNaN else { return .nan }
        let nd = Double(n)
        // rv_continuous's support is (1/(2n), 1): sf is 1 at or below it and 0 at or above it.
        if d >= 1 { return 0 }
        if d <= 0.5 / nd { return 1 }
        let t = nd * d
        if t <= 1 { return clip(1 - rubenGambinoLowerCDF(n: n, t: t)) }
        if t >= nd - 1 { return clip(2 * pow(1 - d, nd)) }
        if d >= 0.5 { return clip(2 * smirnovSurvival(n: n, d: d)) }
        let ndSquared = t * d
        if n <= 140 {
            if ndSquared <= 0.754693 { return clip(1 - durbinCDF(n: n, d: d)) }
            if ndSquared <= 4 { return clip(1 - pomeranzCDF(n: n, d: d)) }
            return clip(2 * smirnovSurvival(n: n, d: d))
        }
        if ndSquared >= 370 { return 0 }
        if ndSquared >= 2.2 { return clip(2 * smirnovSurvival(n: n, d: d)) }
        // The survival is above ~0.02 from here on, so 1 − cdf loses nothing that matters.
        let cdf: Double
        if n <= 100_000 && nd * pow(d, 1.5) <= 1.4 {
            cdf = durbinCDF(n: n, d: d)
        } else {
            cdf = pelzGoodCDF(n: n, d: d)
        }
        return clip(1 - cdf)
    }

    /// Clamps a probability into [0, 1] (NaN stays NaN, as `np.clip` leaves it).
    static func clip(_ p: Double) -> Double {
        p.isNaN ? p : Swift.min(Swift.max(p, 0), 1)
    }

    /// `P(D_n ≤ d) = n!/nⁿ · (2t − 1)ⁿ` for `1/2 < t = n·d ≤ 1` (Ruben & Gambino 1982).
    static func rubenGambinoLowerCDF(n: Int, t: Double) -> Double {
        let nd = Double(n)
        if n <= 140 {
            // As scipy: the product of i/n·(2t−1), which neither overflows nor underflows early.
            var p = 1.0
            for i in 1...n { p *= Double(i) * (1 / nd) * (2 * t - 1) }
            return p
        }
        return exp(logFactorialOverPower(n) + nd * log(2 * t - 1))
    }

    /// `log(n!/nⁿ)` by Stirling's series with `n log n` cancelled analytically:
    /// `½ log n − n + ½ log 2π + Σ_j B_{2j} / (2j(2j−1) n^{2j−1})`.
    static func logFactorialOverPower(_ n: Int) -> Double {
        // B_{2j}/(2j)/(2j−1) for j = 8, …, 1 (Horner order).
        let coefficients: [Double] = [
            -2.955065359477124183e-2, 6.4102564102564102564e-3, -1.9175269175269175269e-3,
            8.4175084175084175084e-4, -5.952380952380952381e-4, 7.9365079365079365079e-4,
            -2.7777777777777777778e-3, 8.3333333333333333333e-2,
        ]
        let nd = Double(n), rn = 1 / nd
        var series = 0.0
        for c in coefficients { series = series * (rn / nd) + c }
        return log(nd) / 2 - nd + log(2 * Double.pi) / 2 + rn * series
    }

    /// The Pelz–Good (1976) approximation of `P(D_n ≤ d)`: the Li-Chien/Korolyuk expansion
    /// `K₀(z) + K₁(z)/√n + K₂(z)/n + K₃(z)/n^{3/2}`, `z = √n·d`, with each `K_i` rewritten by the
    /// Jacobi theta transformation into series in `q = exp(−π²/(8z²))` that converge for small `z`.
    static func pelzGoodCDF(n: Int, d: Double) -> Double {
        if d <= 0 { return 0 }
        if d >= 1 { return 1 }
        let pi2 = Double.pi * Double.pi, pi4 = pi2 * pi2, pi6 = pi4 * pi2
        let sqrt2pi = (2 * Double.pi).squareRoot()
        let z = Double(n).squareRoot() * d
        let z2 = z * z, z3 = z2 * z, z4 = z2 * z2, z6 = z4 * z2
        let logQ = -pi2 / 8 / z2
        if logQ < -708 { return 0 }
        let q = exp(logQ)

        let k1a = -z2, k1b = pi2 / 4
        let k2a = 6 * z6 + 2 * z4, k2b = (2 * z4 - 5 * z2) * pi2 / 4, k2c = pi4 * (1 - 2 * z2) / 16
        let k3d = pi6 * (5 - 30 * z2) / 64
        let k3c = pi4 * (-60 * z2 + 212 * z4) / 16
        let k3b = pi2 * (135 * z4 - 96 * z6) / 4
        let k3a = -30 * z6 - 90 * z4 * z4

        // Σ_k c_k q^{(2k−1)²} by Horner in q^{8k}, the ratio of consecutive odd-square powers.
        var k0 = 0.0, k1 = 0.0, k2 = 0.0, k3 = 0.0
        let maxK = Int((16 * z / Double.pi).rounded(.up))
        for k in stride(from: maxK, through: 1, by: -1) {
            let m = Double(2 * k - 1)
            let m2 = m * m, m4 = m2 * m2, m6 = m4 * m2
            let qPower = pow(q, Double(8 * k))
            k0 = k0 * qPower + 1
            k1 = k1 * qPower + (k1a + k1b * m2)
            k2 = k2 * qPower + (k2a + k2b * m2 + k2c * m4)
            k3 = k3 * qPower + (k3a + k3b * m2 + k3c * m4 + k3d * m6)
        }
        let scale = q * sqrt2pi
        k0 *= scale / z
        k1 *= scale / (6 * z4)
        k2 *= scale / (72 * z6 * z)
        k3 *= scale / (6480 * z6 * z4)

        // The terms over all integers k of K₂ and K₃, in q' = exp(−π²/(2z²)).
        let q2 = exp(-pi2 / 2 / z2)
        let sqrt3z = 3.0.squareRoot() * z
        var k2Extra = 0.0, k3Extra = 0.0
        for k in stride(from: maxK, through: 1, by: -1) {
            let kd = Double(k), kSquared = kd * kd
            let qk = pow(q2, kSquared)
            k2Extra += kSquared * qk
            let kPi = Double.pi * kd
            k3Extra += (sqrt3z + kPi) * (sqrt3z - kPi) * kSquared * qk
        }
        k2 += k2Extra * pi2 * sqrt2pi / (-36 * z3)
        k3 += k3Extra * pi2 * sqrt2pi / (216 * z6)

        let rootN = Double(n).squareRoot()
        return k0 + k1 / rootN + k2 / Double(n) + k3 / (Double(n) * rootN)
    }
}
