import CPrefetch

// A read as stored: the narrow kernel's six rows of A broadcast from six rows of the matrix
// instead of from a packed sliver.
//
// Winograd's weight gradient makes α² products `S[ξ] = Z[ξ] · V[ξ]ᵀ` per group of samples, both
// operands with k (the tiles) adjacent in memory, so `sgemm` packs both through register
// transposes: 13–36 % of those calls' time in a VGG-16 or ResNet-20 step on Zen 3. A's slivers
// need no transposing to be read in order: step p of row r is `a[r·lda + p]`, and six rows
// advance together, one float per step, as six sequential streams.

extension GEMM.Job {
    /// Whether the kernels read op(A)'s full slivers of `grid` as stored rather than packed: the
    /// narrow tiling (its kernel has six rows to broadcast; the wide one's twelve, unmeasured,
    /// keep packing), A stored with k adjacent (`transA` false), alpha 1 (packing would scale A;
    /// `alpha · a` is `a`, so the chains are the packed ones, bit for bit), B transposed (the
    /// products measured; plain B's keep their packed A), rows not a multiple of 4 KB apart (six
    /// rows in one set of the L1 would evict each other), and at most `unpackedAColumns` columns
    /// of C: a packed sliver is one stream, read once per column sliver, so the more column
    /// slivers repay its packing, the less reading six streams pays. A last, partial sliver is
    /// packed as before.
    func readsRowsOfA(_ grid: GEMM.SliverGrid) -> Bool {
        tiling == .narrow && a != nil && packedA == nil && !transA && alpha == 1 && transB && knobs.unpackedA
            && (lda * 4) % 4096 != 0 && grid.columns.count <= GEMM.unpackedAColumns
    }
}

extension GEMM {
    /// Most columns of C for which `readsRowsOfA`. Zen 3 (AVX2), one thread, 12 rounds
    /// alternating in one process under `chrt -f 10` (`BENCH_AB=PRN_GEMM_UNPACKED_A=0`), 36
    /// products of Winograd's weight gradient, rows read as stored against packed: n = 64
    /// (64 × 64 × 256) 71.7 → 79.2 GFLOP/s, n = 128 (128 × 128 × 256) 75.9 → 79.6, n = 256
    /// (256 × 256 × 256) 75.8 → 77.6 (12 of 12 rounds each); n = 512 (512 × 512 × 128) 79.0 →
    /// 77.4 (0 of 12).
    static let unpackedAColumns = 256
}

/// The narrow 6 × 16 kernel (`kernel6x16Narrow`) with A's six rows read from `a + r·lda`, one
/// float per step: the same chains, `acc = fma(a[r·lda + p], b[p], acc)` for p in order, then
/// `C = acc + factor · C` (or `C = acc`).
@inline(never)
func kernel6x16NarrowRowsOfA(_ kc: Int, _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>,
                             _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ factor: Float?) {
    var rows = MicroRows<SIMD8Pair>()
    let a0 = a, a3 = a + 3 &* lda
    var b = UnsafeRawPointer(b)
    for p in 0..<kc {
        let x = SIMD8Pair.load(b)
        rows.r0.accumulate(a0[p], x)
        rows.r1.accumulate(a0[lda &+ p], x)
        rows.r2.accumulate(a0[2 &* lda &+ p], x)
        rows.r3.accumulate(a3[p], x)
        rows.r4.accumulate(a3[lda &+ p], x)
        rows.r5.accumulate(a3[2 &* lda &+ p], x)
        b += 4 * SIMD8Pair.width
    }
    rows.store(to: UnsafeMutableRawPointer(c), rowBytes: 4 &* ldc, rows: 6, factor: factor)
}
