import XCTest
@testable import PrnKernel

/// The sliding direct convolution (`ConvAlgorithm.sliding`): all three products against the direct
/// loops in Double, each element against its defined FMA chain bit for bit (on both register
/// blocks, the AVX-512 one and the 16-register one, in this one build), and thread counts.
final class SlidingTests: XCTestCase {
    /// 3×3, stride 1, padding 1. Plane widths 32, 16, 8, 4 and 2 (the benchmark nets), 28, 14
    /// and 7 (not whole vectors: a partial last block and, in the weight gradient, padded gy
    /// rows), a 1-pixel plane, a 1 × 300 row, one sample, one input channel, output channel counts
    /// that are not whole register blocks (1, 3, 5, 13) and a weight gradient thread part with an
    /// odd channel.
    static let cases: [ConvTests.Case] = [
        (2, 3, 32, 32, 8, 3, 3, 1, 1),
        (3, 16, 16, 16, 16, 3, 3, 1, 1),
        (1, 5, 8, 8, 13, 3, 3, 1, 1),
        (5, 4, 4, 4, 9, 3, 3, 1, 1),
        (7, 6, 2, 2, 5, 3, 3, 1, 1),
        (2, 2, 28, 28, 3, 3, 3, 1, 1),
        (3, 3, 14, 14, 4, 3, 3, 1, 1),
        (4, 1, 7, 7, 1, 3, 3, 1, 1),
        (3, 2, 1, 1, 2, 3, 3, 1, 1),
        (2, 2, 1, 300, 3, 3, 3, 1, 1),
        (2, 3, 5, 9, 7, 3, 3, 1, 1),
        (40, 3, 3, 3, 2, 3, 3, 1, 1),
    ]

    /// The largest error against the Double loops, relative to the reference's largest magnitude:
    /// float chains of at most 9 · 16 terms (forward, input gradient) or 16-lane chains of up to
    /// 150 terms each (weight gradient), measured below 1e-6; a wrong tap or lane is off by the
    /// size of a term, about 1e-1.
    static func assertClose(_ a: Tensor, _ reference: Tensor, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.shape, reference.shape, message, file: file, line: line)
        let scale = reference.scalars.map(abs).max() ?? 0
        let worst = zip(a.scalars, reference.scalars).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, 4e-6 * scale, message, file: file, line: line)
    }

    static func products(_ x: Tensor, _ w: Tensor, _ gy: Tensor) -> [Tensor] {
        [x.conv2d(w, stride: 1, padding: 1, algorithm: .sliding),
         Tensor.conv2dInputGrad(gy, w, inputShape: x.shape, stride: 1, padding: 1, algorithm: .sliding),
         Tensor.conv2dWeightGrad(x, gy, weightShape: w.shape, stride: 1, padding: 1, algorithm: .sliding)]
    }

    func testAllThreeProductsMatchDirectLoops() {
        for (k, t) in Self.cases.enumerated() {
            let (x, w, gy) = ConvTests.operands(t, seed: UInt64(300 + k))
            let y = ConvTests.naiveConv(x, w, stride: 1, padding: 1)
            let (dx, dw) = ConvTests.naiveAdjoints(x, w, gy, stride: 1, padding: 1)
            let p = Self.products(x, w, gy)
            Self.assertClose(p[0], y, "forward \(t)")
            Self.assertClose(p[1], dx, "input gradient \(t)")
            Self.assertClose(p[2], dw, "weight gradient \(t)")
        }
    }

    /// Every element is the chain the kernel defines, computed here by scalar loops: the forward
    /// pass and the input gradient `acc = fma(w, x, acc)` from 0 over c, u, v (zeros outside the
    /// plane, the adjoint weight flipped and swapped), the weight gradient 16 lanes of chains over
    /// the samples and 16-pixel chunks, added in `laneSum`'s tree. Run with both register blocks
    /// (`GEMM.wideTiles`), which an AVX2 and an AVX-512 build choose between: any reordering fails.
    func testEveryElementIsItsChain() {
        let saved = GEMM.wideTiles
        defer { GEMM.wideTiles = saved }
        for wide in [true, false] {
            GEMM.wideTiles = wide
            for (k, t) in Self.cases.enumerated() {
                let (x, w, gy) = ConvTests.operands(t, seed: UInt64(400 + k))
                let p = Self.products(x, w, gy)
                let label = "\(t), wide blocks: \(wide)"
                XCTAssertEqual(p[0].scalars.map(\.bitPattern), Self.forwardChains(x, w).map(\.bitPattern), "forward \(label)")
                XCTAssertEqual(p[1].scalars.map(\.bitPattern), Self.forwardChains(gy, Self.adjointWeight(w)).map(\.bitPattern),
                               "input gradient \(label)")
                XCTAssertEqual(p[2].scalars.map(\.bitPattern), Self.weightGradientChains(x, gy, outChannels: t.o).map(\.bitPattern),
                               "weight gradient \(label)")
            }
        }
    }

    /// The forward chain is im2col's when the 9·C taps fit one GEMM k-block (`GEMM.kcMax`): the
    /// same bits. Past it (C = 114: two blocks) they differ.
    func testForwardHasIm2colsBitsWithinOneKBlock() {
        XCTAssertLessThanOrEqual(9 * 113, GEMM.kcMax)
        for t in [(3, 3, 32, 32, 16, 3, 3, 1, 1), (2, 16, 16, 16, 32, 3, 3, 1, 1), (2, 113, 8, 8, 9, 3, 3, 1, 1)] as [ConvTests.Case] {
            let (x, w, _) = ConvTests.operands(t, seed: 21)
            XCTAssertEqual(x.conv2d(w, stride: 1, padding: 1, algorithm: .sliding).scalars.map(\.bitPattern),
                           x.conv2d(w, stride: 1, padding: 1, algorithm: .direct).scalars.map(\.bitPattern), "\(t)")
        }
        let (x, w, _) = ConvTests.operands((2, 114, 8, 8, 9, 3, 3, 1, 1), seed: 21)
        XCTAssertNotEqual(x.conv2d(w, stride: 1, padding: 1, algorithm: .sliding).scalars,
                          x.conv2d(w, stride: 1, padding: 1, algorithm: .direct).scalars)
    }

    func testOneTwoAndThreeThreadsGiveTheSameBits() {
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        for t in [(9, 16, 8, 8, 16, 3, 3, 1, 1), (5, 3, 14, 14, 13, 3, 3, 1, 1), (3, 8, 32, 32, 24, 3, 3, 1, 1)] as [ConvTests.Case] {
            let (x, w, gy) = ConvTests.operands(t, seed: 11)
            Parallel.threads = 1
            let one = Self.products(x, w, gy)
            for threads in [2, 3] {
                Parallel.threads = threads
                for (i, (a, b)) in zip(one, Self.products(x, w, gy)).enumerated() {
                    XCTAssertEqual(a.scalars.map(\.bitPattern), b.scalars.map(\.bitPattern), "product \(i), \(t), \(threads) threads")
                }
            }
        }
    }

    /// An empty batch: empty outputs, and a weight gradient of zeros (not left uninitialized).
    func testEmptyBatchGivesZeros() {
        let x = Tensor.randn([0, 16, 8, 8], seed: 1), w = Tensor.randn([16, 16, 3, 3], seed: 2)
        XCTAssertEqual(x.conv2d(w, stride: 1, padding: 1, algorithm: .sliding).shape, [0, 16, 8, 8])
        let dw = Tensor.conv2dWeightGrad(x, x, weightShape: w.shape, stride: 1, padding: 1, algorithm: .sliding)
        XCTAssertEqual(dw.scalars, [Float](repeating: 0, count: w.count))
    }

    /// x[n][c][r][q], or 0 outside the plane.
    static func value(_ x: Tensor, _ n: Int, _ c: Int, _ r: Int, _ q: Int) -> Float {
        let (channels, h, w) = (x.shape[1], x.shape[2], x.shape[3])
        guard r >= 0, r < h, q >= 0, q < w else { return 0 }
        return x.scalars[((n * channels + c) * h + r) * w + q]
    }

    /// `w'[c][o][u][v] = w[o][c][2 − u][2 − v]`.
    static func adjointWeight(_ w: Tensor) -> Tensor {
        let (o, c) = (w.shape[0], w.shape[1])
        var out = [Float](repeating: 0, count: w.count)
        for a in 0..<o { for b in 0..<c { for u in 0..<3 { for v in 0..<3 {
            out[((b * o + a) * 3 + u) * 3 + v] = w.scalars[((a * c + b) * 3 + 2 - u) * 3 + 2 - v]
        } } } }
        return Tensor(shape: [c, o, 3, 3], scalars: out)
    }

    static func forwardChains(_ x: Tensor, _ w: Tensor) -> [Float] {
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3]), o = w.shape[0]
        var y = [Float]()
        for b in 0..<n { for f in 0..<o { for i in 0..<h { for j in 0..<wd {
            var acc: Float = 0
            for k in 0..<c { for u in 0..<3 { for v in 0..<3 {
                acc = acc.addingProduct(w.scalars[((f * c + k) * 3 + u) * 3 + v], value(x, b, k, i + u - 1, j + v - 1))
            } } }
            y.append(acc)
        } } } }
        return y
    }

    /// The weight gradient's chains. Lane l of chunk k is pixel p = 16k + l; past the plane, gy
    /// is 0 and x is what the shifted copy holds there (element p + u·W of copy v: row ⌊e / W⌋ − 1
    /// of x, column e mod W + v − 1, or 0), which a zero product still adds as ±0.
    static func weightGradientChains(_ x: Tensor, _ gy: Tensor, outChannels o: Int) -> [Float] {
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3]), plane = h * wd
        let chunks = (plane + 15) / 16
        var dw = [Float]()
        for f in 0..<o { for k in 0..<c { for u in 0..<3 { for v in 0..<3 {
            var lanes = [Float](repeating: 0, count: 16)
            for b in 0..<n { for chunk in 0..<chunks { for l in 0..<16 {
                let p = 16 * chunk + l, e = p + u * wd
                let g = p < plane ? gy.scalars[(b * o + f) * plane + p] : 0
                lanes[l] = lanes[l].addingProduct(g, value(x, b, k, e / wd - 1, e % wd + v - 1))
            } } }
            let eight = (0..<8).map { lanes[$0] + lanes[$0 + 8] }
            let four = (0..<4).map { eight[$0] + eight[$0 + 4] }
            dw.append((four[0] + four[2]) + (four[1] + four[3]))
        } } } }
        return dw
    }
}
