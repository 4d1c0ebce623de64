import CPrefetch
import Dispatch
import Foundation

// The register-blocked micro-kernel: one packed A sliver (up to 12 rows × kc) times one packed
// B sliver (kc × 16 or 32 columns) into a tile of C, with every accumulator in a vector register.
//
// The main tile is 12 × 32: 24 `SIMD16<Float>` accumulators (zmm registers with AVX-512, which
// has 32 of them), two vector loads of B and 12 broadcasts of A per step of k, and 24 FMAs. Zen 4
// runs a 512-bit FMA as two 256-bit halves, so the peak is the same as with ymm, but the wider
// registers halve the instruction count and 32 registers leave room for the large tile.
// Smaller tiles (4 or 8 rows, 16 columns) cover the edges of C with the same code. Builds
// without AVX-512 (e.g. PRN_MARCH=x86-64-v3) use the narrow tiling instead (`wideTiles`):
// 6 × 16 tiles (4 × 16 at the edges) shaped for 16 ymm registers, packed as such.
//
// Every element of C is one FMA chain over k in order, whichever tile shape computes it, so the
// result does not depend on how C is cut into tiles (or across threads).

/// One row of a tile's accumulators: 8, 16 or 32 floats. Concrete conformers only: the standard
/// library's generic SIMD arithmetic works lane by lane, its `SIMD16<Float>` overloads do not.
protocol MicroRow {
    /// Floats per row.
    static var width: Int { get }
    init()
    /// Loads one row of a packed B sliver.
    static func load(_ p: UnsafeRawPointer) -> Self
    /// `self += a · b`, fused.
    mutating func accumulate(_ a: Float, _ b: Self)
    /// `C = self`.
    func store(to c: UnsafeMutableRawPointer)
    /// `C = self + factor · C`, fused.
    func store(to c: UnsafeMutableRawPointer, addingScaled factor: Float)
}

extension SIMD16: MicroRow where Scalar == Float {
    static var width: Int { 16 }

    @inline(__always)
    static func load(_ p: UnsafeRawPointer) -> Self { p.loadUnaligned(as: Self.self) }

    @inline(__always)
    mutating func accumulate(_ a: Float, _ b: Self) { addProduct(Self(repeating: a), b) }

    @inline(__always)
    func store(to c: UnsafeMutableRawPointer) { c.storeBytes(of: self, as: Self.self) }

    @inline(__always)
    func store(to c: UnsafeMutableRawPointer, addingScaled factor: Float) {
        c.storeBytes(of: addingProduct(Self(repeating: factor), c.loadUnaligned(as: Self.self)), as: Self.self)
    }
}

// The same four lines as SIMD16's, written again on purpose: a shared extension over the generic
// `SIMD` protocol would call the lane-by-lane generic arithmetic.
extension SIMD8: MicroRow where Scalar == Float {
    static var width: Int { 8 }

    @inline(__always)
    static func load(_ p: UnsafeRawPointer) -> Self { p.loadUnaligned(as: Self.self) }

    @inline(__always)
    mutating func accumulate(_ a: Float, _ b: Self) { addProduct(Self(repeating: a), b) }

    @inline(__always)
    func store(to c: UnsafeMutableRawPointer) { c.storeBytes(of: self, as: Self.self) }

    @inline(__always)
    func store(to c: UnsafeMutableRawPointer, addingScaled factor: Float) {
        c.storeBytes(of: addingProduct(Self(repeating: factor), c.loadUnaligned(as: Self.self)), as: Self.self)
    }
}

/// Two registers side by side: 32 floats as two `SIMD16`s (`SIMD32<Float>` has no vector fast
/// path for FMA), or 16 as two `SIMD8`s, the narrow kernel's row for 16-register targets.
struct MicroPair<Half: MicroRow>: MicroRow {
    var low = Half(), high = Half()

    static var width: Int { 2 * Half.width }

    @inline(__always) init() {}

    @inline(__always)
    init(_ low: Half, _ high: Half) { (self.low, self.high) = (low, high) }

    @inline(__always)
    static func load(_ p: UnsafeRawPointer) -> Self { Self(Half.load(p), Half.load(p + 4 * Half.width)) }

    @inline(__always)
    mutating func accumulate(_ a: Float, _ b: Self) {
        low.accumulate(a, b.low)
        high.accumulate(a, b.high)
    }

    @inline(__always)
    func store(to c: UnsafeMutableRawPointer) {
        low.store(to: c)
        high.store(to: c + 4 * Half.width)
    }

    @inline(__always)
    func store(to c: UnsafeMutableRawPointer, addingScaled factor: Float) {
        low.store(to: c, addingScaled: factor)
        high.store(to: c + 4 * Half.width, addingScaled: factor)
    }
}

typealias SIMD16Pair = MicroPair<SIMD16<Float>>
typealias SIMD8Pair = MicroPair<SIMD8<Float>>

/// Up to six rows of accumulators; a tile has one or two of them. `rows` must be a literal at
/// the call site (through the inlined kernel), so the rows past it fold away.
struct MicroRows<Row: MicroRow> {
    var r0 = Row(), r1 = Row(), r2 = Row(), r3 = Row(), r4 = Row(), r5 = Row()

    @inline(__always) init() {}

    /// Adds `a[0..<rows] ⊗ b`.
    @inline(__always)
    mutating func accumulate(_ a: UnsafePointer<Float>, _ b: Row, rows: Int) {
        r0.accumulate(a[0], b)
        if rows > 1 { r1.accumulate(a[1], b) }
        if rows > 2 { r2.accumulate(a[2], b) }
        if rows > 3 { r3.accumulate(a[3], b) }
        if rows > 4 { r4.accumulate(a[4], b) }
        if rows > 5 { r5.accumulate(a[5], b) }
    }

    /// Loads the rows from `c` (row stride `rowBytes`).
    @inline(__always)
    mutating func load(from c: UnsafeRawPointer, rowBytes: Int, rows: Int) {
        r0 = Row.load(c)
        if rows > 1 { r1 = Row.load(c + rowBytes) }
        if rows > 2 { r2 = Row.load(c + 2 &* rowBytes) }
        if rows > 3 { r3 = Row.load(c + 3 &* rowBytes) }
        if rows > 4 { r4 = Row.load(c + 4 &* rowBytes) }
        if rows > 5 { r5 = Row.load(c + 5 &* rowBytes) }
    }

    /// Writes the rows to `c` (row stride `rowBytes`); `factor == nil` means overwrite.
    @inline(__always)
    func store(to c: UnsafeMutableRawPointer, rowBytes: Int, rows: Int, factor: Float?) {
        @inline(__always) func put(_ row: Row, _ i: Int) {
            if let f = factor { row.store(to: c + i &* rowBytes, addingScaled: f) } else { row.store(to: c + i &* rowBytes) }
        }
        put(r0, 0)
        if rows > 1 { put(r1, 1) }
        if rows > 2 { put(r2, 2) }
        if rows > 3 { put(r3, 3) }
        if rows > 4 { put(r4, 4) }
        if rows > 5 { put(r5, 5) }
    }
}

/// `C[rows × Row.width] (=|+=) A·B` over `kc` steps, `rows` ≤ 12, from slivers packed for this
/// tile (`rows` floats of A and `Row.width` of B per step). `rows` must be a literal at the call
/// site so that the unused rows and branches fold away.
///
/// Each element of C is the chain `acc = 0; acc = fma(a[p], b[p], acc)` for p in order, then
/// one fused `C = acc + factor · C` (or `C = acc`): the reduction-order contract of `GEMM`.
/// A chain may run in parts: `carry` (rows `Row.width` floats apart) holds the accumulators an
/// earlier part stored (with `factor` nil); nil starts them at 0. `hint`: lines to prefetch into
/// L2, one after every `hintSteps` steps (the rest, if any, at the end); they do not touch the
/// chains.
@inline(__always)
private func microKernel<Row: MicroRow>(
    _: Row.Type, rows: Int, kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
    c: UnsafeMutablePointer<Float>, ldc: Int, factor: Float?, carry: UnsafePointer<Float>?,
    hint: GEMM.Hint? = nil, hintSteps: Int = 16
) {
    let low = min(rows, 6), high = rows - low
    var h0 = MicroRows<Row>(), h1 = MicroRows<Row>()
    if let carry {
        let from = UnsafeRawPointer(carry), carryRowBytes = 4 &* Row.width
        h0.load(from: from, rowBytes: carryRowBytes, rows: low)
        if high > 0 { h1.load(from: from + 6 &* carryRowBytes, rowBytes: carryRowBytes, rows: high) }
    }
    var a = a, b = UnsafeRawPointer(b)
    var p = 0
    if let hint {
        // One line of the hinted range after every `hintSteps` steps, so the requests trickle
        // out beside the FMAs. Issued in a burst before the kernel (as the wide tiles still do),
        // they stalled the core between tiles: at n = 2048 on Zen 3, 5 % of one thread's
        // samples sat on the burst's and C's prefetch instructions.
        var next = hint.start, left = hint.lines
        while p &+ hintSteps <= kc {
            for _ in 0..<hintSteps {
                let x = Row.load(b)
                h0.accumulate(a, x, rows: low)
                if high > 0 { h1.accumulate(a + 6, x, rows: high) }
                a += rows
                b += 4 * Row.width
            }
            if left > 0 {
                prn_prefetch_l2(next)
                next += 64
                left &-= 1
            }
            p &+= hintSteps
        }
        while left > 0 {
            prn_prefetch_l2(next)
            next += 64
            left &-= 1
        }
    }
    while p < kc {
        let x = Row.load(b)
        h0.accumulate(a, x, rows: low)
        if high > 0 { h1.accumulate(a + 6, x, rows: high) }
        a += rows
        b += 4 * Row.width
        p &+= 1
    }
    let c = UnsafeMutableRawPointer(c), rowBytes = 4 &* ldc
    h0.store(to: c, rowBytes: rowBytes, rows: low, factor: factor)
    if high > 0 { h1.store(to: c + 6 &* rowBytes, rowBytes: rowBytes, rows: high, factor: factor) }
}

// One out-of-line copy per tile shape, so each gets its own register allocation.
@inline(never) private func kernel12x32(_ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ f: Float?, _ carry: UnsafePointer<Float>?) {
    microKernel(SIMD16Pair.self, rows: 12, kc: kc, a: a, b: b, c: c, ldc: ldc, factor: f, carry: carry)
}
@inline(never) private func kernel8x32(_ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ f: Float?, _ carry: UnsafePointer<Float>?) {
    microKernel(SIMD16Pair.self, rows: 8, kc: kc, a: a, b: b, c: c, ldc: ldc, factor: f, carry: carry)
}
@inline(never) private func kernel4x32(_ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ f: Float?, _ carry: UnsafePointer<Float>?) {
    microKernel(SIMD16Pair.self, rows: 4, kc: kc, a: a, b: b, c: c, ldc: ldc, factor: f, carry: carry)
}
@inline(never) private func kernel12x16(_ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ f: Float?, _ carry: UnsafePointer<Float>?) {
    microKernel(SIMD16<Float>.self, rows: 12, kc: kc, a: a, b: b, c: c, ldc: ldc, factor: f, carry: carry)
}
@inline(never) private func kernel8x16(_ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ f: Float?, _ carry: UnsafePointer<Float>?) {
    microKernel(SIMD16<Float>.self, rows: 8, kc: kc, a: a, b: b, c: c, ldc: ldc, factor: f, carry: carry)
}
@inline(never) private func kernel4x16(_ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ f: Float?, _ carry: UnsafePointer<Float>?) {
    microKernel(SIMD16<Float>.self, rows: 4, kc: kc, a: a, b: b, c: c, ldc: ldc, factor: f, carry: carry)
}

// Without AVX-512 there are 16 vector registers and `SIMD16` takes two: the 12 × 32 tile's 24
// accumulators would spill. The narrow tiling's 6 × 16 and 4 × 16 tiles hold 12 or 8 `SIMD8`
// accumulators, as BLIS's Haswell kernel: two loads of B and six broadcasts of A per 12 FMAs,
// leaving 4 registers for the operands.
@inline(never) private func kernel6x16Narrow(_ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ f: Float?, _ carry: UnsafePointer<Float>?) {
    microKernel(SIMD8Pair.self, rows: 6, kc: kc, a: a, b: b, c: c, ldc: ldc, factor: f, carry: carry)
}
@inline(never) private func kernel4x16Narrow(_ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ f: Float?, _ carry: UnsafePointer<Float>?) {
    microKernel(SIMD8Pair.self, rows: 4, kc: kc, a: a, b: b, c: c, ldc: ldc, factor: f, carry: carry)
}
@inline(never) private func kernel6x16NarrowHinting(_ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ f: Float?, _ carry: UnsafePointer<Float>?, _ hint: GEMM.Hint) {
    microKernel(SIMD8Pair.self, rows: 6, kc: kc, a: a, b: b, c: c, ldc: ldc, factor: f, carry: carry, hint: hint)
}
@inline(never) private func kernel4x16NarrowHinting(_ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ f: Float?, _ carry: UnsafePointer<Float>?, _ hint: GEMM.Hint) {
    microKernel(SIMD8Pair.self, rows: 4, kc: kc, a: a, b: b, c: c, ldc: ldc, factor: f, carry: carry, hint: hint)
}

extension GEMM {
    /// How C is cut into tiles: rows of A per packed sliver and columns of B per packed sliver,
    /// which fixes the kernels that multiply them.
    struct Tiling: Sendable, Equatable {
        let rows: Int, columns: Int

        /// 12 × 32 tiles for 32 vector registers (AVX-512), with 8- and 4-row, 16-column edges.
        static let wide = Tiling(rows: 12, columns: 32)
        /// 6 × 16 tiles for 16 ymm registers, with 4-row edges.
        static let narrow = Tiling(rows: 6, columns: 16)

        /// The tiling this machine runs (`wideTiles`).
        static var current: Tiling { wideTiles ? .wide : .narrow }

        /// Rows a packed A sliver of `h` live rows is padded to (4, 8 or 12; 4 or 6).
        @inline(__always)
        func paddedRows(_ h: Int) -> Int { rows == 12 ? (h + 3) & ~3 : (h > 4 ? 6 : 4) }

        /// Columns a packed B sliver of `w` live columns is padded to (16 or 32).
        @inline(__always)
        func paddedColumns(_ w: Int) -> Int { w > 16 ? 32 : 16 }
    }

    /// Cache lines to ask for into L2 while a kernel runs (`Job.multiply`): `lines` lines from
    /// `start`. Hints never change results.
    struct Hint {
        let start: UnsafeRawPointer, lines: Int
    }

    /// The largest tile of any tiling, in floats.
    static let largestTile = 12 * 32

    /// Computes one `h × w` tile of C from packed slivers: `C = A·B` when `factor` is nil (C is not
    /// read), else `C = A·B + factor · C`. `scratch` holds a padded tile (`largestTile` floats).
    /// `carry`: the padded tile's accumulators after the earlier steps of k (rows
    /// `paddedColumns(w)` floats apart), which an earlier call stored as a padded `h × w` tile
    /// with `factor` nil; the chains go on from them (nil: from 0). With `lda`, `a` is a full
    /// sliver of the narrow tiling read as stored (`Job.readsRowsOfA`: row r at `a + r·lda`,
    /// unscaled), without `carry` or `hint`.
    @inline(__always)
    static func multiplyTile(
        _ tiling: Tiling, h: Int, w: Int, kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>, ldc: Int, factor: Float?, carry: UnsafePointer<Float>? = nil,
        scratch: UnsafeMutablePointer<Float>, hint: Hint? = nil, lda: Int? = nil
    ) {
        let rows = tiling.paddedRows(h), columns = tiling.paddedColumns(w)
        if rows == h && columns == w {
            if let lda { return kernel6x16NarrowRowsOfA(kc, a, lda, b, c, ldc, factor) }
            kernel(tiling, rows: rows, columns: columns, kc: kc, a: a, b: b, c: c, ldc: ldc, factor: factor, carry: carry, hint: hint)
            return
        }
        // Edge tile: compute the padded tile aside, then apply the same update per element.
        if let lda {
            kernel6x16NarrowRowsOfA(kc, a, lda, b, scratch, columns, nil)
        } else {
            kernel(tiling, rows: rows, columns: columns, kc: kc, a: a, b: b, c: scratch, ldc: columns, factor: nil, carry: carry, hint: hint)
        }
        for i in 0..<h {
            let src = scratch + i &* columns, dst = c + i &* ldc
            if let f = factor {
                for j in 0..<w { dst[j] = src[j].addingProduct(f, dst[j]) }
            } else {
                for j in 0..<w { dst[j] = src[j] }
            }
        }
    }

    @inline(__always)
    private static func kernel(
        _ tiling: Tiling, rows: Int, columns: Int, kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>, ldc: Int, factor: Float?, carry: UnsafePointer<Float>?, hint: Hint?
    ) {
        if tiling == .narrow {
            if let hint {
                if rows == 6 { kernel6x16NarrowHinting(kc, a, b, c, ldc, factor, carry, hint) } else { kernel4x16NarrowHinting(kc, a, b, c, ldc, factor, carry, hint) }
            } else {
                if rows == 6 { kernel6x16Narrow(kc, a, b, c, ldc, factor, carry) } else { kernel4x16Narrow(kc, a, b, c, ldc, factor, carry) }
            }
            return
        }
        switch (rows, columns) {
        case (12, 32): kernel12x32(kc, a, b, c, ldc, factor, carry)
        case (8, 32): kernel8x32(kc, a, b, c, ldc, factor, carry)
        case (4, 32): kernel4x32(kc, a, b, c, ldc, factor, carry)
        case (12, 16): kernel12x16(kc, a, b, c, ldc, factor, carry)
        case (8, 16): kernel8x16(kc, a, b, c, ldc, factor, carry)
        default: kernel4x16(kc, a, b, c, ldc, factor, carry)
        }
    }

    /// Whether the wide tiling is used; otherwise the narrow one (`Tiling`).
    ///
    /// This depends on how the module was compiled (`-march`), which Swift code cannot test, so
    /// it is measured once: both kernels on the same work in L1, taking turns. The wide one is
    /// used unless it takes 12 % longer there. With AVX-512 the two tie in L1 on Zen 4 (and the
    /// wide one is faster in the full multiply) and the wide one wins on the Intel Xeon. Built
    /// for x86-64-v3 the wide one spills its accumulators and runs at half speed on Zen 4, but
    /// only 1.3–1.6× slower in L1 on the Xeon, whose three loads and two stores per cycle
    /// absorb most of the spills; a 25 % margin there chose the wide tiles in an idle run, which
    /// then ran the whole multiply at 0.5–0.75× of the narrow ones' speed. Either choice gives
    /// the same bits: each element of C is the same FMA chain. `PRN_GEMM_TILES=wide|narrow`
    /// overrides the measurement (for benchmarks); tests set it to run both paths in one build.
    nonisolated(unsafe) static var wideTiles: Bool = {
        switch ProcessInfo.processInfo.environment["PRN_GEMM_TILES"] {
        case "wide": return true
        case "narrow": return false
        default: break
        }
        let kc = 256
        let a = UnsafeMutablePointer<Float>.allocate(capacity: 12 * kc)
        let b = UnsafeMutablePointer<Float>.allocate(capacity: 32 * kc)
        let c = UnsafeMutablePointer<Float>.allocate(capacity: largestTile)
        defer { a.deallocate(); b.deallocate(); c.deallocate() }
        a.initialize(repeating: 0.5, count: 12 * kc)
        b.initialize(repeating: 0.25, count: 32 * kc)
        func time(_ body: () -> Void) -> UInt64 {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<20 { body() }
            return DispatchTime.now().uptimeNanoseconds - start
        }
        // One 12 × 32 tile against four 6 × 16 ones (the same multiply-adds), taking turns so
        // that a slow spell of the machine does not fall on one kernel only; the fastest of each.
        var wide = UInt64.max, narrow = UInt64.max
        for _ in 0..<9 {
            wide = min(wide, time { kernel12x32(kc, a, b, c, 32, nil, nil) })
            narrow = min(narrow, time { for part in 0..<4 { kernel6x16Narrow(kc, a, b, c + 96 &* part, 16, nil, nil) } })
        }
        wideOverNarrow = Double(wide) / Double(narrow)
        return Double(wide) < 1.12 * Double(narrow)
    }()

    /// The measurement behind `wideTiles`: the wide kernel's time in L1 over the narrow one's
    /// (nil when `PRN_GEMM_TILES` chose).
    nonisolated(unsafe) static var wideOverNarrow: Double? = nil

    /// The tiling in use and why, for benchmark logs: e.g. `narrow wide/narrow=1.27`.
    public static var tilingDescription: String {
        (wideTiles ? "wide" : "narrow") + (wideOverNarrow.map { " wide/narrow=\(($0 * 100).rounded() / 100)" } ?? " (PRN_GEMM_TILES)")
    }
}
