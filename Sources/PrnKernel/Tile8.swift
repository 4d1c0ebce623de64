#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// Eight rows of eight floats in registers, transposed by three rounds of two-source shuffles:
/// pairs of rows interleaved, pairs of pairs, then the 128-bit halves swapped. `Tensor.transposed`
/// moves blocks with it, and the sampled product (`Sparse+Sampled.swift`) turns eight rows over
/// t into eight lanes per t.
///
/// Eight rather than sixteen: LLVM compiled the 16 × 16 transpose (four rounds of even/odd
/// halves of `SIMD16`) into 4 × 4 blocks of scalar inserts and 4-lane FMAs; the 8 × 8 one stays
/// in whole registers, and made the sampled product 1.3× and `transposed` 1.3× faster (Zen 4,
/// 2026-12-01).
///
/// On x86-64 the first two rounds are Clang's unpack intrinsics, which reach LLVM as single
/// two-source shuffles. Written lane by lane (`SIMD8(a[0], b[0], …)`), they reach it as chains
/// of element extracts and inserts, which it rebuilt for Sapphire Rapids as scalar broadcasts
/// from memory, `vinsertps` and blends, with the sampled product's FMAs split into 4-lane
/// halves (about 90 instructions per block instead of 24 shuffles, 8 loads and 8 stores).
struct Tile8 {
    var r0, r1, r2, r3, r4, r5, r6, r7: SIMD8<Float>

    /// Row k is the eight floats at `rows[k] + t`.
    @inline(__always)
    init(rows: UnsafePointer<UnsafePointer<Float>>, at t: Int) {
        @inline(__always) func load(_ k: Int) -> SIMD8<Float> { UnsafeRawPointer(rows[k] + t).loadUnaligned(as: SIMD8<Float>.self) }
        (r0, r1, r2, r3, r4, r5, r6, r7) = (load(0), load(1), load(2), load(3), load(4), load(5), load(6), load(7))
    }

    /// Row k is the eight floats at `base + k · stride`.
    @inline(__always)
    init(_ base: UnsafePointer<Float>, stride: Int) {
        @inline(__always) func load(_ k: Int) -> SIMD8<Float> { UnsafeRawPointer(base + k &* stride).loadUnaligned(as: SIMD8<Float>.self) }
        (r0, r1, r2, r3, r4, r5, r6, r7) = (load(0), load(1), load(2), load(3), load(4), load(5), load(6), load(7))
    }

    /// Stores row k at `base + k · stride`.
    @inline(__always)
    func store(_ base: UnsafeMutablePointer<Float>, stride: Int) {
        @inline(__always) func put(_ k: Int, _ row: SIMD8<Float>) {
            UnsafeMutableRawPointer(base + k &* stride).storeBytes(of: row, as: SIMD8<Float>.self)
        }
        put(0, r0); put(1, r1); put(2, r2); put(3, r3); put(4, r4); put(5, r5); put(6, r6); put(7, r7)
    }

    @inline(__always)
    mutating func transpose() {
        typealias Row = SIMD8<Float>
        #if arch(x86_64)
        // Within each 128-bit half: single elements of two rows interleaved (`vunpcklps`,
        // `vunpckhps`), then pairs (the same on 64-bit elements).
        @inline(__always) func singlesLow(_ a: Row, _ b: Row) -> Row { _mm256_unpacklo_ps(a, b) }
        @inline(__always) func singlesHigh(_ a: Row, _ b: Row) -> Row { _mm256_unpackhi_ps(a, b) }
        @inline(__always) func pairsLow(_ a: Row, _ b: Row) -> Row {
            _mm256_castpd_ps(_mm256_unpacklo_pd(_mm256_castps_pd(a), _mm256_castps_pd(b)))
        }
        @inline(__always) func pairsHigh(_ a: Row, _ b: Row) -> Row {
            _mm256_castpd_ps(_mm256_unpackhi_pd(_mm256_castps_pd(a), _mm256_castps_pd(b)))
        }
        #else
        // Within each 128-bit half: single elements of two rows interleaved, then pairs.
        @inline(__always) func singlesLow(_ a: Row, _ b: Row) -> Row { Row(a[0], b[0], a[1], b[1], a[4], b[4], a[5], b[5]) }
        @inline(__always) func singlesHigh(_ a: Row, _ b: Row) -> Row { Row(a[2], b[2], a[3], b[3], a[6], b[6], a[7], b[7]) }
        @inline(__always) func pairsLow(_ a: Row, _ b: Row) -> Row { Row(a[0], a[1], b[0], b[1], a[4], a[5], b[4], b[5]) }
        @inline(__always) func pairsHigh(_ a: Row, _ b: Row) -> Row { Row(a[2], a[3], b[2], b[3], a[6], a[7], b[6], b[7]) }
        #endif
        let t0 = singlesLow(r0, r1), t1 = singlesHigh(r0, r1), t2 = singlesLow(r2, r3), t3 = singlesHigh(r2, r3)
        let t4 = singlesLow(r4, r5), t5 = singlesHigh(r4, r5), t6 = singlesLow(r6, r7), t7 = singlesHigh(r6, r7)
        let s0 = pairsLow(t0, t2), s1 = pairsHigh(t0, t2), s2 = pairsLow(t1, t3), s3 = pairsHigh(t1, t3)
        let s4 = pairsLow(t4, t6), s5 = pairsHigh(t4, t6), s6 = pairsLow(t5, t7), s7 = pairsHigh(t5, t7)
        // Then the halves: row j is the low halves of s_j and s_{j+4}, row j + 4 their high halves.
        r0 = Row(lowHalf: s0.lowHalf, highHalf: s4.lowHalf)
        r1 = Row(lowHalf: s1.lowHalf, highHalf: s5.lowHalf)
        r2 = Row(lowHalf: s2.lowHalf, highHalf: s6.lowHalf)
        r3 = Row(lowHalf: s3.lowHalf, highHalf: s7.lowHalf)
        r4 = Row(lowHalf: s0.highHalf, highHalf: s4.highHalf)
        r5 = Row(lowHalf: s1.highHalf, highHalf: s5.highHalf)
        r6 = Row(lowHalf: s2.highHalf, highHalf: s6.highHalf)
        r7 = Row(lowHalf: s3.highHalf, highHalf: s7.highHalf)
    }

    /// `acc += a[j] · row j` for j in order: a chain step per lane with a shared factor.
    @inline(__always)
    func accumulate(broadcasting a: UnsafePointer<Float>, into acc: inout SIMD8<Float>) {
        @inline(__always) func step(_ j: Int, _ row: SIMD8<Float>) { acc.addProduct(SIMD8(repeating: a[j]), row) }
        step(0, r0); step(1, r1); step(2, r2); step(3, r3); step(4, r4); step(5, r5); step(6, r6); step(7, r7)
    }

    /// `acc += other.row j · row j` for j in order.
    @inline(__always)
    func accumulate(times other: Tile8, into acc: inout SIMD8<Float>) {
        acc.addProduct(other.r0, r0); acc.addProduct(other.r1, r1); acc.addProduct(other.r2, r2); acc.addProduct(other.r3, r3)
        acc.addProduct(other.r4, r4); acc.addProduct(other.r5, r5); acc.addProduct(other.r6, r6); acc.addProduct(other.r7, r7)
    }
}
