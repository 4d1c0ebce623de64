import Foundation

/// Single-precision matrix multiply, BLIS-style, in pure Swift.
///
/// ```
/// C[m×n] = alpha · op(A)[m×k] · op(B)[k×n] + beta · C      op(X) = transX ? Xᵀ : X
/// ```
///
/// All matrices are row-major with leading dimensions (`lda` is the distance between rows of A
/// as stored, so at least k for A and at least m for Aᵀ). The work is cut into blocks of k
/// (`kcMax`); for each block, slivers of op(A) (12 rows, or 6 on 16-register machines) and op(B)
/// (32 columns, or 16) are packed into a buffer in the order the micro-kernel reads them
/// (`GEMM+Pack.swift`), then every 12 × 32 (or 6 × 16) tile of C is updated by a
/// register-blocked FMA kernel (`GEMM+MicroKernel.swift`, `Tiling`), the wide tiles in parts of
/// `kPart` steps whose accumulators wait in scratch between parts (`kPartLength`). Transposition
/// happens only while packing.
///
/// Reduction-order contract (other kernels that must match `sgemm` bit for bit replicate it):
///  1. k is cut into `⌈k / kcMax⌉` blocks as equal as possible, block `b` being
///     `k·b/count ..< k·(b+1)/count`. The partition is a function of k alone, the same on the
///     AVX-512 and the AVX2 paths and for any thread count; k is never split across threads.
///  2. Within a block, each element of C is one sequential chain starting from 0:
///     `acc = fma(alpha·a[i,p], b[p,j], acc)` for p in order (`alpha·a` is rounded once, when
///     A is packed).
///  3. The blocks' sums reach C in block order: the first as `C = fma(beta, C, acc)` (or
///     `C = acc` when beta is 0, without reading C), each later one as `C = fma(1, C, acc)`.
/// So the result is bit-identical for any thread count, tile shape and ISA path;
/// `GEMMChainTests` checks it against a scalar transcription of these three rules.
public enum GEMM {
    /// `C[m×n] = alpha · op(A) · op(B) + beta · C`, row-major, `op(X) = Xᵀ` when the flag is set.
    ///
    /// With `beta == 0`, C is not read (it may hold NaN or be uninitialized). `k == 0` gives
    /// `C = beta · C`. `threads` defaults to `Parallel.threads`; small products run on one thread.
    /// The result does not depend on `threads`.
    ///
    /// ```swift
    /// // y[64×300] = x[64×784] · W[300×784]ᵀ
    /// GEMM.sgemm(transA: false, transB: true, m: 64, n: 300, k: 784, alpha: 1,
    ///            a: x, lda: 784, b: w, ldb: 784, beta: 0, c: y, ldc: 300)
    /// ```
    public static func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                             a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                             beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int? = nil) {
        sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
              beta: beta, c: c, ldc: ldc, threads: threads, knobs: .environment)
    }

    /// `sgemm` with the driver's `knobs` given rather than read from the environment, for
    /// benchmarks that compare two settings in one process. The result does not depend on them.
    @_spi(Bench) public static func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                                          a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                                          beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int? = nil,
                                          knobs: Knobs) {
        precondition(m >= 0 && n >= 0 && k >= 0, "sgemm: negative dimension")
        guard m > 0 && n > 0 else { return }
        precondition(ldc >= n, "sgemm: ldc < n")
        guard k > 0 else {
            scale(c, rows: m, columns: n, ldc: ldc, by: beta)
            return
        }
        precondition(lda >= (transA ? m : k) && ldb >= (transB ? k : n), "sgemm: lda or ldb too small")

        let tiling = Tiling.current
        let workers = workerCount(m: m, n: n, k: k, tiling: tiling, requested: threads ?? Parallel.threads)
        let job = Job(transA: transA, transB: transB, k: k, alpha: alpha, a: a, lda: lda,
                      b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, tiling: tiling, knobs: knobs,
                      stopwatch: knobs.timing ? Stopwatch(CallShape(m: m, n: n, k: k, transA: transA, transB: transB,
                                                                     packedA: false, workers: workers)) : nil)
        defer { job.stopwatch?.finish() }
        // Very large C is done in panels, so the packed buffer stays bounded.
        for i0 in stride(from: 0, to: m, by: panelSize) {
            for j0 in stride(from: 0, to: n, by: panelSize) {
                job.run(rows: i0..<min(i0 + panelSize, m), columns: j0..<min(j0 + panelSize, n),
                        workers: workers)
            }
        }
    }

    /// Largest k-block. Longer blocks mean fewer passes over C and fewer kernel calls; the
    /// slivers then stream from L2 and L3 (48 + 128 bytes per step of k), which the prefetchers
    /// keep up with. Measured on Zen 4: 1024 beats 384 by 3–5 %, and blocking the columns of B
    /// for L2 did not help.
    static let kcMax = 1024

    /// The k-blocks of a product of depth `k`: `k` split into equal parts of at most `kcMax`.
    /// They depend on `k` alone; that is what makes the result independent of the thread count.
    static func kBlocks(_ k: Int) -> [Range<Int>] {
        let count = (k + kcMax - 1) / kcMax
        return (0..<count).map { k * $0 / count ..< k * ($0 + 1) / count }
    }
    /// Steps of k per part of a wide tile's update (`forEachTilePart`, `kPartLength`): as many as let
    /// the part of a wide B sliver fill 2/3 of the core's L1 data cache, where it stays while a
    /// group of row slivers meets it; the rest is for the A part streaming through (12 KB at 256 steps) and
    /// the carried accumulators (1.5 KB). 256 steps with this Xeon's 48 KB, 160 with Zen 4's
    /// 32 KB. Any length gives the same bits.
    static let kPart: Int = {
        let steps = l1Bytes * 2 / 3 / (4 * Tiling.wide.columns)
        return Swift.max(32, steps / 32 * 32)
    }()

    /// The L1 data cache of one core, in bytes; 32 KB when the size cannot be read.
    static let l1Bytes = cacheBytes(level: 1, plausible: 1 << 14 ... 1 << 20, fallback: 1 << 15)

    /// The length of the parts `0..<kc` is cut into when a tile of `tiling` is updated
    /// (`forEachTilePart`): `kPart` steps for the wide tiling (the last part shorter), the whole
    /// block for the narrow one. A tile's chains run through the parts in order, so the parts do
    /// not change the bits.
    ///
    /// The narrow tiling's B sliver is half as wide (64 bytes per step, 64 KB at kc = 1024) and
    /// its kernel takes 6 cycles per step, which Zen 3's L2 feeds without the sliver staying in
    /// L1; parts there only added the carried accumulators' loads and stores and 7× the kernel
    /// calls and hints. On Zen 3 (AVX2, 32 KB L1), one thread, alternating pairs under
    /// `chrt -f 10` at load 9–10, the whole block against parts of 160: n = 256 81.2 → 85.0
    /// GFLOP/s, 512 77.1 → 81.8 (4 of 4 pairs each), 1024 78.7 → 80.9 (3 of 4), 2048 even (2 of
    /// 4); VGG-16's conv6 forward 54 → 74, conv4 grad_a 55 → 72, LeNet-300 fc1 (batch 128) forward
    /// 66 → 79 (3 of 3 pairs each); on two threads conv4 forward 118 → 131 and conv9 forward
    /// 112 → 130 (3 of 3), LeNet's forward 113 → 106 (0 of 3).
    @inline(__always)
    static func kPartLength(_ kc: Int, _ tiling: Tiling) -> Int { tiling == .narrow ? Swift.max(kc, 1) : kPart }

    /// Floats of L2 that a group of packed slivers and the slivers applied to it may fill
    /// (`Job.forEachTile`): 7/8 of the core's L2, the rest left to C and the stack. The larger
    /// the group, the fewer times all of packed B streams in from L3 or memory; on Zen 4 (1 MB
    /// L2) this group of 16 slivers at kc = 1024 was 3 % (AVX-512) and 5 % (AVX2) faster at
    /// n = 2048 than the 5 it had when sized for Zen 3's 512 KB, and a group of the whole L2 was
    /// 15 % slower. 512 KB when the size cannot be read.
    static let groupFloats = l2Bytes / 4 * 7 / 8

    /// The L2 cache of one core, in bytes.
    static let l2Bytes = cacheBytes(level: 2, plausible: 1 << 18 ... 1 << 24, fallback: 1 << 19)

    /// The size of one core's level-`level` data cache (1 or 2) as the OS reports it, when
    /// `plausible`; else `fallback` (other systems, or a VM reporting 0).
    private static func cacheBytes(level: Int, plausible: ClosedRange<Int>, fallback: Int) -> Int {
        #if os(Linux)
        let size = sysconf(Int32(level == 1 ? _SC_LEVEL1_DCACHE_SIZE : _SC_LEVEL2_CACHE_SIZE))
        if plausible.contains(size) { return size }
        #endif
        return fallback
    }

    /// Row slivers per group of `forEachTile` at `kc` steps: as many as fit `groupFloats` beside
    /// one column sliver.
    static func rowGroup(_ tiling: Tiling, kc: Int) -> Int {
        Swift.max(1, (groupFloats - tiling.columns * kc) / (tiling.rows * kc))
    }

    /// Rows and columns of C per panel.
    static let panelSize = 2048
    /// Packed floats per round of packing (16 MB); more k-blocks wait for the next round.
    static let packBudget = 1 << 22
    /// Below this many multiply-adds (≈ 30 µs on one core) a second thread costs more than it
    /// saves: waking a pool thread takes 10–40 µs on these VMs.
    static let parallelThreshold = 3 << 19
    /// Up to this many floats of the operand that is not split (≈ 20 µs of packing), every
    /// worker packs its own copy rather than wait for the others (see `GEMM+Driver.swift`).
    static let privatePackingLimit = 1 << 17
    /// From this many rows (or columns) of C per worker, and up to `privateCopyLimit` floats of
    /// the operand that is not split, every worker packs its own copy of that operand: the copy
    /// costs at most one packed float per 128 multiply-adds of the worker's part, and the call
    /// forks once, with no join between packing and multiplying, so a worker held up by the
    /// host (steal, another task on its core) no longer holds up the other at that join. On the
    /// 2-vCPU Xeon under `chrt -f 10`, load 5–8, four rounds alternating with OpenBLAS: n = 512
    /// 2 threads 229–292 → 299–302 GFLOP/s, n = 1024 219–290 → 278–294 (OpenBLAS 260–276,
    /// 257–301).
    static let privateShareMinimum = 128
    /// Up to this many floats (8 MB) of the operand that is not split, large parts of C pack it
    /// privately (`privateShareMinimum`). At n = 2048 (4 M floats per worker to copy) the copy
    /// measured 1–2 % slower than sharing, so larger operands stay shared. `Knobs` can set
    /// another limit (`PRN_GEMM_PRIVATE_COPY_LIMIT`).
    static let privateCopyLimit = 1 << 21

    static func workerCount(m: Int, n: Int, k: Int, tiling: Tiling = .current, requested: Int) -> Int {
        let slivers = max((m + tiling.rows - 1) / tiling.rows, (n + tiling.columns - 1) / tiling.columns)
        guard requested > 1, Double(m) * Double(n) * Double(k) >= Double(parallelThreshold) else { return 1 }
        return min(requested, slivers)
    }

    /// `C = beta · C` (zero when `beta == 0`, whatever C held).
    static func scale(_ c: UnsafeMutablePointer<Float>, rows: Int, columns: Int, ldc: Int, by beta: Float) {
        for i in 0..<rows {
            let row = c + i * ldc
            if beta == 0 {
                row.update(repeating: 0, count: columns)
            } else if beta != 1 {
                for j in 0..<columns { row[j] *= beta }
            }
        }
    }
}

extension Range where Bound == Int {
    /// The range cut into consecutive pieces of `size` (the last one shorter).
    func pieces(of size: Int) -> [Range<Int>] {
        Swift.stride(from: lowerBound, to: upperBound, by: size).map { $0..<Swift.min($0 + size, upperBound) }
    }
}
