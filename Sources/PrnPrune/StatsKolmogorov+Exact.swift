import Foundation

// MARK: - Exact algorithms behind `kolmogorovSurvival`

extension Stats {
    /// `2¹²⁸` and its inverse: intermediate results are rescaled by these and the exponent kept
    /// aside, as scipy does, so long products neither overflow nor underflow.
    private static let scaleUp = 0x1p128, scaleDown = 0x1p-128

    /// `P(D_n ≤ d)` by Durbin's matrix formula in Marsaglia, Tsang & Wang's form (2003).
    ///
    /// With `d = (k − h)/n`, `k` a positive integer and `0 ≤ h < 1`, build the `(2k−1)²` matrix
    /// `H` (`H_ij = 1/(i−j+1)!` on and below the superdiagonal, corrected first column and last
    /// row); then `P(D_n ≤ d) = n!/nⁿ · (Hⁿ)_{kk}`. Cost `O(k³ log n)`, so only for small `k`.
    static func durbinCDF(n: Int, d: Double) -> Double {
        if d >= 1 { return 1 }
        let nd = Double(n) * d
        if nd <= 0.5 { return 0 }
        let k = Int(nd.rounded(.up))
        let h = Double(k) - nd
        let m = 2 * k - 1

        // v_j = (1 − h^{j+1})/(j+1)!, w_j = 1/j!; the last v gets the (2h−1)₊^m correction.
        var v = [Double](repeating: 0, count: m), w = [Double](repeating: 0, count: m)
        var factorial = 1.0
        for j in 1...m {
            w[j - 1] = factorial
            factorial /= Double(j)
            v[j - 1] = (1 - pow(h, Double(j))) * factorial
        }
        let correction = pow(Swift.max(2 * h - 1, 0), Double(m)) - 2 * pow(h, Double(m))
        v[m - 1] = (1 + correction) * factorial

        var hMatrix = [Double](repeating: 0, count: m * m)
        for i in 1..<Swift.max(m, 1) {
            for row in (i - 1)..<m { hMatrix[row * m + i] = w[row - (i - 1)] }
        }
        for row in 0..<m { hMatrix[row * m] = v[row] }
        for col in 0..<m { hMatrix[(m - 1) * m + col] = v[m - 1 - col] }

        // Hⁿ by repeated squaring; H is rescaled by 2⁻¹²⁸ whenever its (k, k) entry grows past
        // 2¹²⁸, and the scale exponent follows the product.
        var power = identity(m)
        var remaining = n, exponent = 0, hExponent = 0
        while remaining > 0 {
            if remaining % 2 == 1 {
                power = matmul(power, hMatrix, m)
                exponent += hExponent
            }
            hMatrix = matmul(hMatrix, hMatrix, m)
            hExponent *= 2
            if abs(hMatrix[(k - 1) * m + (k - 1)]) > scaleUp {
                for i in hMatrix.indices { hMatrix[i] *= scaleDown }
                hExponent += 128
            }
            remaining /= 2
        }
        var p = power[(k - 1) * m + (k - 1)]
        // Multiply by n!/nⁿ one factor i/n at a time, rescaling when p gets small.
        for i in 1...n {
            p = Double(i) * p / Double(n)
            if abs(p) < scaleDown {
                p *= scaleUp
                exponent -= 128
            }
        }
        if exponent != 0 { p = scalbn(p, exponent) }
        return clip(p)
    }

    private static func identity(_ m: Int) -> [Double] {
        var result = [Double](repeating: 0, count: m * m)
        for i in 0..<m { result[i * m + i] = 1 }
        return result
    }

    /// The product of two `m × m` row-major matrices (m ≤ ~115 here, so the naive loop is fine).
    private static func matmul(_ a: [Double], _ b: [Double], _ m: Int) -> [Double] {
        var c = [Double](repeating: 0, count: m * m)
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                c.withUnsafeMutableBufferPointer { c in
                    for i in 0..<m {
                        for l in 0..<m {
                            let ail = a[i * m + l]
                            if ail == 0 { continue }
                            for j in 0..<m { c[i * m + j] += ail * b[l * m + j] }
                        }
                    }
                }
            }
        }
        return c
    }

    /// `P(D_n ≤ d)` by Pomeranz's recursion (1974), in scipy's banded form.
    ///
    /// Row `i` of a `(2n+2) × (2n+2)` table is the convolution of row `i−1` with the (unnormalized)
    /// Poisson weights `(g/n)^j/j!`, `(2g/n)^j/j!` or `((1−2g)/n)^j/j!`, `g = min(f, 1−f)` for
    /// the fractional part `f` of `n·d`; only a band `[j1, j2]` of each row can be non-zero. The
    /// answer is `n!` times the last entry.
    static func pomeranzCDF(n: Int, d: Double) -> Double {
        let t = Double(n) * d
        let ll = Int(t.rounded(.down))
        let f = t - Double(ll)
        let g = Swift.min(f, 1 - f)
        let ceilF = f > 0 ? 1 : 0, roundF = f > 0.5 ? 1 : 0
        let powers = 2 * (ll + 1)
        var gPower = [Double](repeating: 1, count: powers)
        var twoGPower = gPower, oneMinusTwoGPower = gPower
        let nd = Double(n)
        for j in 1..<powers {
            gPower[j] = gPower[j - 1] * (g / nd) / Double(j)
            twoGPower[j] = twoGPower[j - 1] * (2 * g / nd) / Double(j)
            oneMinusTwoGPower[j] = oneMinusTwoGPower[j - 1] * ((1 - 2 * g) / nd) / Double(j)
        }

        func band(_ i: Int) -> (Int, Int) {
            var j1: Int, j2: Int
            if i == 0 {
                (j1, j2) = (-ll - ceilF - 1, ll + ceilF - 1)
            } else {
                let half = (i + 1) / 2
                if (i + 1) % 2 == 0 {
                    if half == n + 1 {
                        (j1, j2) = (n - ll - ceilF - 1, n + ll + ceilF - 1)
                    } else {
                        (j1, j2) = (half - 1 - ll - roundF - 1, half + ll - 1 + ceilF - 1)
                    }
                } else {
                    (j1, j2) = (half - 1 - ll - 1, half + ll + roundF - 1)
                }
            }
            return (Swift.max(j1 + 2, 0), Swift.min(j2, n))
        }

        var previous = [Double](repeating: 0, count: powers)
        var current = [Double](repeating: 0, count: powers)
        current[0] = 1
        var previousStart = 0, currentStart = 0, exponent = 0
        var (j1, j2) = band(0)
        for i in 1..<(2 * n + 2) {
            let k1 = j1
            swap(&previous, &current)
            swap(&previousStart, &currentStart)
            for j in current.indices { current[j] = 0 }
            (j1, j2) = band(i)
            let weights = (i == 1 || i == 2 * n + 1) ? gPower : (i % 2 == 1 ? twoGPower : oneMinusTwoGPower)
            let length = j2 - k1 + 1
            guard length > 0 else { continue }
            // Entries c_{start..<start+count} of the full convolution of previous[k1…] and weights.
            let offset = k1 - previousStart
            let start = j1 - k1, count = j2 - j1 + 1
            var largest = 0.0
            for c in 0..<count {
                let index = start + c
                var sum = 0.0
                // Out-of-range entries count as zero, as numpy's truncated slices make them.
                let lower = Swift.max(0, index - length + 1), upper = Swift.min(index, length - 1)
                if lower <= upper {
                    for j in lower...upper {
                        let p = offset + j, q = index - j
                        if p >= 0 && p < powers && q < powers { sum += previous[p] * weights[q] }
                    }
                }
                current[c] = sum
                largest = Swift.max(largest, sum)
            }
            if largest > 0 && largest < scaleDown {
                for j in 0..<count { current[j] *= scaleUp }
                exponent -= 128
            }
            currentStart = previousStart + j1 - k1
        }
        var answer = current[n - currentStart]
        for m in 1...n {
            if abs(answer) > scaleUp {
                answer *= scaleDown
                exponent += 128
            }
            answer *= Double(m)
        }
        if exponent != 0 { answer = scalbn(answer, exponent) }
        return clip(answer)
    }

    /// `P(D⁺_n ≥ d)` for the one-sided statistic `D⁺_n = sup_x (F_n(x) − F(x))`: scipy's
    /// `special.smirnov(n, d)`, by the Smirnov / Birnbaum–Tingey sum
    ///
    /// ```
    /// P(D⁺_n ≥ d) = d · Σ_{v=0}^{⌊n(1−d)⌋} C(n,v) (d + v/n)^{v−1} (1 − d − v/n)^{n−v}
    /// ```
    /// All terms are positive, so the sum keeps full relative precision in the far tail. Terms are
    /// summed in log space with a running maximum (no underflow of single terms when the total
    /// is representable); `log C(n, v)` comes from `lgamma_r`, accurate to ~1e−9 relative at
    /// n = 10⁶. `1 − d − v/n` and `d + v/n` are formed from the split `n·d = ⌊n·d⌋ + α`
    /// (computed with an FMA), as scipy does, so neither cancels. The loop stops, as scipy's,
    /// once the remaining terms cannot change the sum.
    ///
    /// For `n > 10⁶` scipy switches to `exp(−(6nd+1)²/(18n))`; so does this, to match it.
    public static func smirnovSurvival(n: Int, d: Double) -> Double {
        guard n > 0, d >= 0, d <= 1 else { return .nan }
        if n == 1 { return 1 - d }
        if d == 0 { return 1 }
        if d == 1 { return 0 }
        let nd = Double(n)
        // n·d = nxFloor + alpha exactly (up to the last bit of alpha).
        let product = nd * d
        let error = fma(nd, d, -product)
        var nxFloor = product.rounded(.down)
        var alpha = (product - nxFloor) + error
        if alpha < 0 { nxFloor -= 1; alpha += 1 }
        if alpha >= 1 { nxFloor += 1; alpha -= 1 }
        let nxfl = Int(nxFloor)

        if nxfl == 0 || (nxfl == 1 && alpha == 0) {
            // d ≤ 1/n: the sum collapses to P(D⁺ < d) = d (1+d)^{n−1}.
            return 1 - d * pow(1 + d, nd - 1)
        }
        // exp(−2nd²) below the smallest double: scipy returns 0 here.
        if -2 * nd * d * d < -7.08396418532264106224e2 { return 0 }
        if nxfl >= n - 1 { return pow(1 - d, nd) }
        if n > 1_000_000 {
            let logP = -pow(6 * nd * d + 1, 2) / 18 / nd
            return logP < -M_LN2 ? exp(logP) : 1 + expm1(logP)
        }

        // Terms v = 0 … ⌊n(1−d)⌋ = n − ⌊nd⌋ − 1; when n·d is an integer, ⌊n(1−d)⌋ is one more,
        // but that term has 1 − d − v/n = 0 and is dropped.
        let lastV = n - nxfl - 1
        let logGammaN1 = logGamma(nd + 1)
        var shift = -Double.infinity, sum = 0.0
        for v in 0...lastV {
            let vd = Double(v)
            let above = (Double(n - v - nxfl) - alpha) / nd     // 1 − d − v/n
            let below = (Double(nxfl + v) + alpha) / nd         // d + v/n
            let logBinomial = logGammaN1 - logGamma(vd + 1) - logGamma(Double(n - v) + 1)
            let logTerm = logBinomial + Double(n - v) * log(above) + (vd - 1) * log(below)
            if logTerm > shift {
                sum = sum * exp(shift - logTerm) + 1
                shift = logTerm
            } else {
                let term = exp(logTerm - shift)
                sum += term
                // scipy's stopping rule: the rest (at most this big each) is below eps of the sum.
                if v != lastV && 4 * Double(lastV + 1 - v) * term < Double.ulpOfOne * sum { break }
            }
        }
        return clip(exp(log(d) + shift + log(sum)))
    }
}
