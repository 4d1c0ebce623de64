import XCTest
@_spi(Bench) @testable import PrnKernel

/// `GEMM.sgemm` against the naive reference, and bit-identity across thread counts.
final class GEMMTests: XCTestCase {
    /// Sizes around the tile (12 × 32) and k-block edges, plus 1 and odd sizes.
    func testShapesAllTransposes() {
        let (rows, columns, depth) = (GEMM.Tiling.current.rows, GEMM.Tiling.current.columns, GEMM.kcMax)
        let ms = [1, 4, 5, rows - 1, rows, rows + 1, 2 * rows + 1, 37]
        let ns = [1, 15, 16, 17, columns - 1, columns, columns + 1, 70]
        let ks = [1, 3, depth - 1, depth, depth + 1, 2 * depth + 1]
        for (transA, transB) in transposes {
            for m in ms {
                for n in ns {
                    for k in ks {
                        check(GEMMCase(transA: transA, transB: transB, m: m, n: n, k: k))
                    }
                }
            }
        }
    }

    /// Packing buffers are reused by best fit, large ones on 2 MB boundaries, and at most
    /// `kept` stay when free, the smallest dropped first.
    func testPackingBuffersAreReusedByBestFit() {
        let buffers = GEMM.PackingBuffers()
        let small = buffers.take(bytes: 1000), large = buffers.take(bytes: 3 << 20)
        XCTAssertEqual(Int(bitPattern: small.start) % 64, 0)
        XCTAssertEqual(Int(bitPattern: large.start) % GEMM.PackingBuffers.hugePage, 0)
        XCTAssertEqual(large.bytes, 4 << 20)
        buffers.give(large)
        buffers.give(small)
        XCTAssertEqual(buffers.take(bytes: 800).start, small.start, "the smallest that fits")
        XCTAssertEqual(buffers.take(bytes: 2000).start, large.start, "the only one that fits")
        let extra = (0...GEMM.PackingBuffers.kept).map { buffers.take(bytes: 4096 * ($0 + 1)) }
        for buffer in extra { buffers.give(buffer) }
        XCTAssertNotEqual(buffers.take(bytes: 4096).start, extra[0].start, "the smallest was dropped")
    }

    func testEmptyDimensionsDoNothing() {
        for (m, n) in [(0, 5), (5, 0), (0, 0)] {
            var c = [Float](repeating: 7, count: 30)
            let a = [Float](repeating: 1, count: 30), b = a
            GEMM.sgemm(transA: false, transB: false, m: m, n: n, k: 3, alpha: 1, a: a, lda: 3,
                       b: b, ldb: 6, beta: 0, c: &c, ldc: 6)
            XCTAssertEqual(c, [Float](repeating: 7, count: 30))
        }
    }

    /// k == 0 leaves `beta · C`; with beta 0 that is zero even where C held NaN.
    func testZeroDepthScalesC() {
        for (transA, transB) in transposes {
            for beta: Float in [0, 1, 0.5] {
                check(GEMMCase(transA: transA, transB: transB, m: 13, n: 33, k: 0, beta: beta))
            }
        }
    }

    func testAlphaBetaAndLeadingDimensions() {
        for (transA, transB) in transposes {
            for beta: Float in [0, 1, 0.5] {
                for alpha: Float in [1, -0.75] {
                    for pad in [0, 3] {
                        check(GEMMCase(transA: transA, transB: transB, m: 29, n: 45, k: 50,
                                       alpha: alpha, beta: beta, padA: pad, padB: pad + 1, padC: pad + 2))
                    }
                }
            }
        }
    }

    /// The 16-register tiling (6 × 16 and 4 × 16 tiles), whichever path this build picks: edge
    /// rows and columns around the tile shapes, padded leading dimensions, beta applied once, one
    /// and two threads.
    func testNarrowTiles() {
        let saved = GEMM.wideTiles
        defer { GEMM.wideTiles = saved }
        GEMM.wideTiles = false
        let shapes = [(29, 45, 128), (29, 45, 385), (130, 97, 263), (4, 16, 7), (5, 15, 9), (6, 17, 33), (7, 31, 65),
                      (11, 33, 2), (13, 1, 70), (1, 50, 1025)]
        for (transA, transB) in transposes {
            for (m, n, k) in shapes {
                for beta: Float in [0, 0.5] {
                    for threads in [1, 2] {
                        check(GEMMCase(transA: transA, transB: transB, m: m, n: n, k: k, alpha: -0.75, beta: beta,
                                       padA: 3, padB: 4, padC: 5), threads: threads)
                    }
                }
            }
        }
    }

    /// Products big enough to run on two threads, split by rows and by columns, and one with
    /// more than a panel of rows and more than one round of packing.
    func testLargeShapes() {
        for (transA, transB) in transposes {
            check(GEMMCase(transA: transA, transB: transB, m: 130, n: 97, k: 400, beta: 0.5, padC: 1), threads: 2)
            check(GEMMCase(transA: transA, transB: transB, m: 20, n: 515, k: 260, padA: 2), threads: 2)
        }
        for threads in [1, 2] {
            check(GEMMCase(transA: false, transB: true, m: 2061, n: 17, k: 2100, beta: 1), threads: threads)
        }
    }

    /// The result must not depend on the thread count: k is never split across threads.
    func testBitIdenticalAcrossThreads() {
        // Split by rows with shared packing (125 rows per worker, under `privateShareMinimum`),
        // by columns, by rows with private packing (a small operand; then 150 rows per worker),
        // and shared packing in more than one round.
        let shapes = [(250, 257, 900), (20, 700, 500), (777, 40, 130), (300, 257, 900), (250, 600, 5000)]
        for (transA, transB) in transposes {
            for (m, n, k) in shapes {
                let g = GEMMCase(transA: transA, transB: transB, m: m, n: n, k: k, beta: 0.5)
                let one = g.run(threads: 1), two = g.run(threads: 2)
                if let i = one.indices.first(where: { one[$0].bitPattern != two[$0].bitPattern }) {
                    XCTFail("threads 1 vs 2 differ at C[\(i / g.ldc), \(i % g.ldc)]: \(one[i]) vs \(two[i]) for \(g)")
                }
            }
        }
    }

    /// The driver's knobs change its speed only: with hints off, with private or shared packing
    /// or the split of C forced, and with timing on, C comes out bit for bit the same, on both
    /// tilings and two threads.
    func testKnobsDoNotChangeResults() {
        let saved = GEMM.wideTiles
        defer { GEMM.wideTiles = saved }
        let settings: [[String: String]] = [
            ["PRN_GEMM_PREFETCH": "0"], ["PRN_GEMM_CPREFETCH": "0"],
            ["PRN_GEMM_PRIVATE_COPY_LIMIT": "0"], ["PRN_GEMM_PRIVATE_COPY_LIMIT": "\(Int.max)"],
            ["PRN_GEMM_TIMING": "1"], ["PRN_GEMM_SPLIT": "rows"], ["PRN_GEMM_SPLIT": "columns"],
        ]
        for wide in [false, true] {
            GEMM.wideTiles = wide
            // Large enough for the hints (C's too): split by rows, then by columns.
            for (m, n, k) in [(420, 600, 900), (300, 1024, 700)] {
                let g = GEMMCase(transA: false, transB: true, m: m, n: n, k: k, beta: 0.5)
                let base = g.run(threads: 2)
                for setting in settings {
                    let other = g.run(threads: 2, knobs: GEMM.Knobs(environment: setting))
                    if let i = base.indices.first(where: { base[$0].bitPattern != other[$0].bitPattern }) {
                        XCTFail("\(setting) changes C[\(i / g.ldc), \(i % g.ldc)]: \(base[i]) vs \(other[i]) for \(g), wide \(wide)")
                    }
                }
            }
        }
    }

    /// `PRN_GEMM_TIMING=1` records one entry per call, with one worker per thread used, each
    /// worker's packing and multiplying inside the call's wall time; without it, nothing.
    func testTimingRecordsEachCall() {
        _ = GEMM.takeCallTimes()
        let g = GEMMCase(transA: false, transB: false, m: 300, n: 500, k: 700, beta: 0)
        _ = g.run(threads: 2)
        XCTAssertTrue(GEMM.takeCallTimes().isEmpty, "calls timed without PRN_GEMM_TIMING")
        let timed = GEMM.Knobs(environment: ["PRN_GEMM_TIMING": "1"])
        for threads in [1, 2] {
            _ = g.run(threads: threads, knobs: timed)
            let calls = GEMM.takeCallTimes()
            XCTAssertEqual(calls.count, 1)
            guard let call = calls.first else { continue }
            XCTAssertEqual(call.workers.count, threads)
            for (w, times) in call.workers.enumerated() {
                XCTAssertGreaterThan(times.multiply, 0, "worker \(w) of \(threads)")
                XCTAssertGreaterThan(times.pack, 0, "worker \(w) of \(threads)")
                XCTAssertGreaterThanOrEqual(times.start, 0)
                XCTAssertGreaterThanOrEqual(times.wait, 0)
                XCTAssertLessThanOrEqual(times.start + times.pack + times.multiply + times.wait, call.wall)
            }
        }
    }

    private let transposes = [(false, false), (true, false), (false, true), (true, true)]

    /// Runs `sgemm` and the naive reference on the same inputs and compares every element of C,
    /// within `(k + 3) · ε · (|alpha| · Σ|a||b| + |beta · c|)`; padding past column n
    /// of C must be untouched.
    private func check(_ g: GEMMCase, threads: Int = 1, file: StaticString = #filePath, line: UInt = #line) {
        let got = g.run(threads: threads)
        var want = g.c
        GEMM.naive(transA: g.transA, transB: g.transB, m: g.m, n: g.n, k: g.k, alpha: g.alpha,
                   a: g.a, lda: g.lda, b: g.b, ldb: g.ldb, beta: g.beta, c: &want, ldc: g.ldc)
        for i in 0..<g.m {
            for j in 0..<g.ldc {
                let index = i * g.ldc + j
                if j >= g.n {
                    XCTAssertEqual(got[index].bitPattern, g.c[index].bitPattern,
                                   "padding changed at (\(i), \(j)) for \(g)", file: file, line: line)
                    continue
                }
                var magnitude = 0.0
                for p in 0..<g.k { magnitude += Double(abs(g.opA(i, p)) * abs(g.opB(p, j))) }
                let scale = Double(abs(g.alpha)) * magnitude + (g.beta == 0 ? 0 : Double(abs(g.beta * g.c[index])))
                let error = Double(abs(got[index] - want[index]))
                // Worst-case rounding bound of a length-k dot product (plus alpha and beta).
                if !(error <= Double(g.k + 3) * Double(Float.ulpOfOne) * scale + 1e-30) {
                    XCTFail("C[\(i), \(j)] = \(got[index]), want \(want[index]) for \(g)", file: file, line: line)
                    return
                }
            }
        }
    }
}

/// One product with random operands; C is prefilled (NaN when beta is 0, which must not be read).
private struct GEMMCase: CustomStringConvertible {
    let transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, beta: Float
    let lda: Int, ldb: Int, ldc: Int
    let a: [Float], b: [Float], c: [Float]

    init(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1, beta: Float = 0,
         padA: Int = 0, padB: Int = 0, padC: Int = 0) {
        (self.transA, self.transB, self.m, self.n, self.k) = (transA, transB, m, n, k)
        (self.alpha, self.beta) = (alpha, beta)
        lda = (transA ? m : k) + padA
        ldb = (transB ? k : n) + padB
        ldc = n + padC
        var rng = RNG(seed: UInt64(m * 1_000_003 + n * 1009 + k))
        a = rng.normal(count: max((transA ? k : m) * lda, 1))
        b = rng.normal(count: max((transB ? n : k) * ldb, 1))
        var prefill = rng.normal(count: max(m * ldc, 1))
        if beta == 0 {
            for i in 0..<m { for j in 0..<n { prefill[i * ldc + j] = .nan } }
        }
        c = prefill
    }

    func opA(_ i: Int, _ p: Int) -> Float { transA ? a[p * lda + i] : a[i * lda + p] }
    func opB(_ p: Int, _ j: Int) -> Float { transB ? b[j * ldb + p] : b[p * ldb + j] }

    func run(threads: Int, knobs: GEMM.Knobs = .environment) -> [Float] {
        var out = c
        GEMM.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                   b: b, ldb: ldb, beta: beta, c: &out, ldc: ldc, threads: threads, knobs: knobs)
        return out
    }

    var description: String {
        "\(transA ? "Aᵀ" : "A")·\(transB ? "Bᵀ" : "B") m=\(m) n=\(n) k=\(k) alpha=\(alpha) beta=\(beta) "
            + "lda=\(lda) ldb=\(ldb) ldc=\(ldc)"
    }
}
