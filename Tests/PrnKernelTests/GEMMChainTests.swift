import XCTest
@_spi(Bench) @testable import PrnKernel

/// The reduction-order contract of `GEMM.sgemm`, bit for bit: each element of C is, per k-block,
/// one FMA chain over k in order starting from 0, and the blocks' sums are added to C in order.
/// Both kernel paths (the AVX-512 12 × 32 tiles and the 16-register 6 × 16 / 4 × 16 parts) run in
/// this one build, so a kernel that reorders a chain fails here whichever ISA the build targets.
final class GEMMChainTests: XCTestCase {
    func testEveryElementIsTheContractChain() {
        let saved = GEMM.wideTiles
        defer { GEMM.wideTiles = saved }
        let depth = GEMM.kcMax
        // Edge rows (5, 13, 29 are not multiples of 4, 6 or 12), edge columns, one and three
        // k-blocks, k-blocks longer than a part of a tile's update (`kPart`) and not a multiple
        // of it, and shapes large enough to run on two threads: split by columns, and by rows
        // (one column sliver), also over two row panels (m > panelSize), and one whose threads
        // pack shared slivers (the part of the operand every worker reads is past
        // `privatePackingLimit`).
        let shapes = [(5, 7, 3), (13, 33, 40), (29, 50, 2 * depth + 5), (12, 32, depth), (70, 90, 300), (40, 300, 260),
                      (301, 9, 600), (GEMM.panelSize + 13, 20, 40), (100, 200, depth + 376)]
        for wide in [true, false] {
            GEMM.wideTiles = wide
            for (transA, transB) in [(false, false), (true, false), (false, true), (true, true)] {
                for (m, n, k) in shapes {
                    for (alpha, beta): (Float, Float) in [(1, 0), (-0.75, 0.5), (1, 1)] {
                        let g = ChainCase(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, beta: beta)
                        for threads in [1, 2, 3] {
                            for a in [AOperand.asStored, .packed] { check(g, threads: threads, wide: wide, a: a) }
                        }
                    }
                }
            }
        }
    }

    /// The narrow kernel that reads A's full slivers as stored (`Job.readsRowsOfA`) runs on the
    /// products it is meant for, not on others, and gives the bits of packing A (the test above
    /// checks its chains, since the environment leaves it on).
    func testRowsOfAAsStoredGiveThePackedBits() {
        let saved = GEMM.wideTiles
        defer { GEMM.wideTiles = saved }
        GEMM.wideTiles = false
        let on = GEMM.Knobs(environment: [:]), off = GEMM.Knobs(environment: ["PRN_GEMM_UNPACKED_A": "0"])
        XCTAssertTrue(on.unpackedA)
        XCTAssertFalse(off.unpackedA)
        let g = ChainCase(transA: false, transB: true, m: 70, n: 90, k: 300, alpha: 1, beta: 0.5)
        g.a.withUnsafeBufferPointer { a in
            g.b.withUnsafeBufferPointer { b in
                var c = [Float](repeating: 0, count: 1)
                c.withUnsafeMutableBufferPointer { c in
                    func job(alpha: Float = 1, transB: Bool = true, lda: Int? = nil, knobs: GEMM.Knobs? = nil) -> GEMM.Job {
                        GEMM.Job(transA: false, transB: transB, k: g.k, alpha: alpha, a: a.baseAddress!, lda: lda ?? g.lda,
                                 b: b.baseAddress!, ldb: g.ldb, beta: 0, c: c.baseAddress!, ldc: g.n, tiling: .narrow, knobs: knobs ?? on)
                    }
                    let grid = GEMM.SliverGrid(rows: 0..<g.m, columns: 0..<g.n, tiling: .narrow)
                    XCTAssertTrue(job().readsRowsOfA(grid))
                    XCTAssertFalse(job(knobs: off).readsRowsOfA(grid))
                    XCTAssertFalse(job(alpha: 0.5).readsRowsOfA(grid))
                    XCTAssertFalse(job(transB: false).readsRowsOfA(grid))
                    XCTAssertFalse(job(lda: 1024).readsRowsOfA(grid))
                    XCTAssertFalse(job().readsRowsOfA(GEMM.SliverGrid(rows: 0..<g.m, columns: 0..<(GEMM.unpackedAColumns + 1), tiling: .narrow)))
                }
            }
        }
        for threads in [1, 2] {
            var packed = g.c, asStored = g.c
            GEMM.sgemm(transA: false, transB: true, m: g.m, n: g.n, k: g.k, alpha: 1, a: g.a, lda: g.lda, b: g.b, ldb: g.ldb,
                       beta: g.beta, c: &packed, ldc: g.n, threads: threads, knobs: off)
            GEMM.sgemm(transA: false, transB: true, m: g.m, n: g.n, k: g.k, alpha: 1, a: g.a, lda: g.lda, b: g.b, ldb: g.ldb,
                       beta: g.beta, c: &asStored, ldc: g.n, threads: threads, knobs: on)
            XCTAssertEqual(asStored.map(\.bitPattern), packed.map(\.bitPattern), "\(threads) threads")
        }
    }

    /// The contract's k-blocks: `k` cut into `⌈k / kcMax⌉` parts as equal as possible, in order.
    private func kBlocks(_ k: Int) -> [Range<Int>] {
        let count = (k + GEMM.kcMax - 1) / GEMM.kcMax
        return (0..<count).map { k * $0 / count ..< k * ($0 + 1) / count }
    }

    /// How a check passes A: as stored to `sgemm`, or written into a `GEMM.PackedA` in layout
    /// order from its `sourceIndices` (as Winograd's weight transform writes it) to
    /// `sgemm(packedA:…)`.
    private enum AOperand { case asStored, packed }

    private func check(_ g: ChainCase, threads: Int, wide: Bool, a how: AOperand,
                       file: StaticString = #filePath, line: UInt = #line) {
        var got = g.c
        if how == .packed {
            let a = GEMM.PackedA.batch(1, m: g.m, k: g.k)[0]
            // Padding gets NaN: it must only reach tile rows the kernels discard.
            for (offset, source) in a.sourceIndices().enumerated() {
                a.elements[offset] = source < 0 ? .nan : g.alpha * g.opA(source % g.m, source / g.m)
            }
            GEMM.sgemm(packedA: a, transB: g.transB, n: g.n, b: g.b, ldb: g.ldb, beta: g.beta, c: &got, ldc: g.n, threads: threads)
        } else {
            GEMM.sgemm(transA: g.transA, transB: g.transB, m: g.m, n: g.n, k: g.k, alpha: g.alpha, a: g.a, lda: g.lda,
                       b: g.b, ldb: g.ldb, beta: g.beta, c: &got, ldc: g.n, threads: threads)
        }
        let blocks = kBlocks(g.k)
        for i in 0..<g.m {
            for j in 0..<g.n {
                var c = g.c[i * g.n + j]
                for (index, block) in blocks.enumerated() {
                    var chain: Float = 0
                    // alpha scales A once, before the products (it is applied while packing).
                    for p in block { chain = chain.addingProduct(g.alpha * g.opA(i, p), g.opB(p, j)) }
                    if index == 0 {
                        c = g.beta == 0 ? chain : chain.addingProduct(g.beta, c)
                    } else {
                        c = chain.addingProduct(1, c)
                    }
                }
                if got[i * g.n + j].bitPattern != c.bitPattern {
                    XCTFail("C[\(i), \(j)] = \(got[i * g.n + j]), contract chain gives \(c) for \(g), "
                            + "threads \(threads), \(wide ? "wide" : "narrow") tiles, A \(how)",
                            file: file, line: line)
                    return
                }
            }
        }
    }
}

/// One product with random operands; C is prefilled (NaN when beta is 0, which must not be read).
private struct ChainCase: CustomStringConvertible {
    let transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, beta: Float
    let lda: Int, ldb: Int
    let a: [Float], b: [Float], c: [Float]

    init(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, beta: Float) {
        (self.transA, self.transB, self.m, self.n, self.k, self.alpha, self.beta) = (transA, transB, m, n, k, alpha, beta)
        lda = (transA ? m : k) + 1
        ldb = (transB ? k : n) + 2
        var rng = RNG(seed: UInt64(m * 7919 + n * 31 + k))
        a = rng.normal(count: (transA ? k : m) * lda)
        b = rng.normal(count: (transB ? n : k) * ldb)
        c = beta == 0 ? [Float](repeating: .nan, count: m * n) : rng.normal(count: m * n)
    }

    func opA(_ i: Int, _ p: Int) -> Float { transA ? a[p * lda + i] : a[i * lda + p] }
    func opB(_ p: Int, _ j: Int) -> Float { transB ? b[j * ldb + p] : b[p * ldb + j] }

    var description: String {
        "\(transA ? "Aᵀ" : "A")·\(transB ? "Bᵀ" : "B") m=\(m) n=\(n) k=\(k) alpha=\(alpha) beta=\(beta)"
    }
}
