// The tile transforms (Bᵀ on the input, Aᵀ on the output, A on the output's gradient, G on the
// weight, Gᵀ on its gradient) as straight-line networks of additions and scalings, one per tile
// size: a few operations per vector instead of a loop over `SmallMatrix` terms. Each network
// computes its `WinogradTile` matrix (WinogradTests checks them against each other); only the
// order of the additions differs. Only +, − and × by constants: no FMA, so the AVX2 and AVX-512
// builds compute the same bits.

/// One tile size's transforms, applied to `count` vectors ("lanes") at once: vector
/// l's element e is `x[e·xElement + l·xLane]`, its result's element i goes to
/// `y[i·yElement + l·yLane]`. Callers pass constant lane strides so that the loops vectorize.
protocol WinogradNetwork {
    /// Outputs per tile side (α = m + 2).
    static var m: Int { get }
    /// `Bᵀ · d`: α elements to α.
    static func input(_ x: UnsafePointer<Float>, _ xElement: Int, _ xLane: Int,
                      into y: UnsafeMutablePointer<Float>, _ yElement: Int, _ yLane: Int, count: Int)
    /// `Aᵀ · v`: α elements to m.
    static func output(_ x: UnsafePointer<Float>, _ xElement: Int, _ xLane: Int,
                       into y: UnsafeMutablePointer<Float>, _ yElement: Int, _ yLane: Int, count: Int)
    /// `A · g`, the adjoint of `output`: m elements to α.
    static func outputAdjoint(_ x: UnsafePointer<Float>, _ xElement: Int, _ xLane: Int,
                              into y: UnsafeMutablePointer<Float>, _ yElement: Int, _ yLane: Int, count: Int)
    /// `G · g`: 3 elements to α.
    static func weight(_ x: UnsafePointer<Float>, _ xElement: Int, _ xLane: Int,
                       into y: UnsafeMutablePointer<Float>, _ yElement: Int, _ yLane: Int, count: Int)
    /// `Gᵀ · s`, the adjoint of `weight`: α elements to 3.
    static func weightAdjoint(_ x: UnsafePointer<Float>, _ xElement: Int, _ xLane: Int,
                              into y: UnsafeMutablePointer<Float>, _ yElement: Int, _ yLane: Int, count: Int)
}

/// F(2×2, 3×3)'s networks (`WinogradTile.f2`).
enum WinogradNetwork2: WinogradNetwork {
    static var m: Int { 2 }

    @inline(__always)
    static func input(_ x: UnsafePointer<Float>, _ xe: Int, _ xl: Int,
                      into y: UnsafeMutablePointer<Float>, _ ye: Int, _ yl: Int, count: Int) {
        for l in 0..<count {
            let s = x + l &* xl, d = y + l &* yl
            let d0 = s[0], d1 = s[xe], d2 = s[2 &* xe], d3 = s[3 &* xe]
            d[0] = d0 - d2
            d[ye] = d1 + d2
            d[2 &* ye] = d2 - d1
            d[3 &* ye] = d1 - d3
        }
    }

    @inline(__always)
    static func output(_ x: UnsafePointer<Float>, _ xe: Int, _ xl: Int,
                       into y: UnsafeMutablePointer<Float>, _ ye: Int, _ yl: Int, count: Int) {
        for l in 0..<count {
            let s = x + l &* xl, d = y + l &* yl
            let v0 = s[0], v1 = s[xe], v2 = s[2 &* xe], v3 = s[3 &* xe]
            d[0] = (v0 + v1) + v2
            d[ye] = (v1 - v2) - v3
        }
    }

    @inline(__always)
    static func outputAdjoint(_ x: UnsafePointer<Float>, _ xe: Int, _ xl: Int,
                              into y: UnsafeMutablePointer<Float>, _ ye: Int, _ yl: Int, count: Int) {
        for l in 0..<count {
            let s = x + l &* xl, d = y + l &* yl
            let g0 = s[0], g1 = s[xe]
            d[0] = g0
            d[ye] = g0 + g1
            d[2 &* ye] = g0 - g1
            d[3 &* ye] = -g1
        }
    }

    @inline(__always)
    static func weight(_ x: UnsafePointer<Float>, _ xe: Int, _ xl: Int,
                       into y: UnsafeMutablePointer<Float>, _ ye: Int, _ yl: Int, count: Int) {
        for l in 0..<count {
            let s = x + l &* xl, d = y + l &* yl
            let g0 = s[0], g1 = s[xe], g2 = s[2 &* xe]
            let p = 0.5 * (g0 + g2), q = 0.5 * g1
            d[0] = g0
            d[ye] = p + q
            d[2 &* ye] = p - q
            d[3 &* ye] = g2
        }
    }

    @inline(__always)
    static func weightAdjoint(_ x: UnsafePointer<Float>, _ xe: Int, _ xl: Int,
                              into y: UnsafeMutablePointer<Float>, _ ye: Int, _ yl: Int, count: Int) {
        for l in 0..<count {
            let s = x + l &* xl, d = y + l &* yl
            let r0 = s[0], r1 = s[xe], r2 = s[2 &* xe], r3 = s[3 &* xe]
            let a = 0.5 * (r1 + r2)
            d[0] = r0 + a
            d[ye] = 0.5 * (r1 - r2)
            d[2 &* ye] = a + r3
        }
    }
}

/// F(4×4, 3×3)'s networks (`WinogradTile.f4`): Bᵀ·d in 12 additions and 6 scalings by 2, 4 or 5
/// (Bᵀ's rows 1–4 are ±pairs of shared halves).
enum WinogradNetwork4: WinogradNetwork {
    static var m: Int { 4 }

    @inline(__always)
    static func input(_ x: UnsafePointer<Float>, _ xe: Int, _ xl: Int,
                      into y: UnsafeMutablePointer<Float>, _ ye: Int, _ yl: Int, count: Int) {
        for l in 0..<count {
            let s = x + l &* xl, d = y + l &* yl
            let d0 = s[0], d1 = s[xe], d2 = s[2 &* xe], d3 = s[3 &* xe], d4 = s[4 &* xe], d5 = s[5 &* xe]
            let p = d4 - 4 * d2, q = d3 - 4 * d1      // rows 1, 2: p ± q
            let r = d4 - d2, t = 2 * (d3 - d1)        // rows 3, 4: r ± t
            d[0] = 4 * (d0 - d2) + r
            d[ye] = p + q
            d[2 &* ye] = p - q
            d[3 &* ye] = r + t
            d[4 &* ye] = r - t
            d[5 &* ye] = 4 * (d1 - d3) + (d5 - d3)
        }
    }

    @inline(__always)
    static func output(_ x: UnsafePointer<Float>, _ xe: Int, _ xl: Int,
                       into y: UnsafeMutablePointer<Float>, _ ye: Int, _ yl: Int, count: Int) {
        for l in 0..<count {
            let s = x + l &* xl, d = y + l &* yl
            let v0 = s[0], v1 = s[xe], v2 = s[2 &* xe], v3 = s[3 &* xe], v4 = s[4 &* xe], v5 = s[5 &* xe]
            let a = v1 + v2, b = v1 - v2, c = v3 + v4, e = v3 - v4
            d[0] = (v0 + a) + c
            d[ye] = b + 2 * e
            d[2 &* ye] = a + 4 * c
            d[3 &* ye] = (b + 8 * e) + v5
        }
    }

    @inline(__always)
    static func outputAdjoint(_ x: UnsafePointer<Float>, _ xe: Int, _ xl: Int,
                              into y: UnsafeMutablePointer<Float>, _ ye: Int, _ yl: Int, count: Int) {
        for l in 0..<count {
            let s = x + l &* xl, d = y + l &* yl
            let g0 = s[0], g1 = s[xe], g2 = s[2 &* xe], g3 = s[3 &* xe]
            let e = g0 + g2, f = g1 + g3, h = g0 + 4 * g2, k = 2 * g1 + 8 * g3
            d[0] = g0
            d[ye] = e + f
            d[2 &* ye] = e - f
            d[3 &* ye] = h + k
            d[4 &* ye] = h - k
            d[5 &* ye] = g3
        }
    }

    @inline(__always)
    static func weight(_ x: UnsafePointer<Float>, _ xe: Int, _ xl: Int,
                       into y: UnsafeMutablePointer<Float>, _ ye: Int, _ yl: Int, count: Int) {
        for l in 0..<count {
            let s = x + l &* xl, d = y + l &* yl
            let g0 = s[0], g1 = s[xe], g2 = s[2 &* xe]
            let p = (-1.0 / 6) * (g0 + g2), q = (-1.0 / 6) * g1                // rows 1, 2: p ± q
            let r = (1.0 / 24) * g0 + (1.0 / 6) * g2, t = (1.0 / 12) * g1      // rows 3, 4: r ± t
            d[0] = 0.25 * g0
            d[ye] = p + q
            d[2 &* ye] = p - q
            d[3 &* ye] = r + t
            d[4 &* ye] = r - t
            d[5 &* ye] = g2
        }
    }

    @inline(__always)
    static func weightAdjoint(_ x: UnsafePointer<Float>, _ xe: Int, _ xl: Int,
                              into y: UnsafeMutablePointer<Float>, _ ye: Int, _ yl: Int, count: Int) {
        for l in 0..<count {
            let s = x + l &* xl, d = y + l &* yl
            let r0 = s[0], r1 = s[xe], r2 = s[2 &* xe], r3 = s[3 &* xe], r4 = s[4 &* xe], r5 = s[5 &* xe]
            let a = (-1.0 / 6) * (r1 + r2), b = (-1.0 / 6) * (r1 - r2), c = r3 + r4, e = r3 - r4
            d[0] = (0.25 * r0 + a) + (1.0 / 24) * c
            d[ye] = b + (1.0 / 12) * e
            d[2 &* ye] = (a + (1.0 / 6) * c) + r5
        }
    }
}
