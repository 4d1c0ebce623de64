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
    /// odd channel. Planes of at most 2×2 (the plane map): 2×2, 1×1, 1×2 and 2×1 (taps that no
    /// pixel pair reaches), one sample, and batches and channel counts that are not whole GEMM
    /// slivers. Stride 2 (forward pass and weight gradient): ResNet-20's downsampling shapes, odd
    /// heights and widths (an odd-row copy's last row past the plane, an even column without its
    /// odd one), a 1 × 9 row and a 2×2 plane; the input gradient on stride 2 (parity classes) on
    /// the even shapes among them and on one sample of 5 → 7 channels on a 6 × 10 plane (class
    /// planes of 15 pixels, not a whole vector; 5 channels, not a whole register block).
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
        (4, 3, 1, 2, 5, 3, 3, 1, 1),
        (3, 5, 2, 1, 4, 3, 3, 1, 1),
        (1, 4, 2, 2, 3, 3, 3, 1, 1),
        (33, 20, 2, 2, 13, 3, 3, 1, 1),
        (2, 16, 32, 32, 32, 3, 3, 2, 1),
        (3, 5, 16, 16, 13, 3, 3, 2, 1),
        (3, 5, 7, 7, 6, 3, 3, 2, 1),
        (2, 3, 8, 5, 9, 3, 3, 2, 1),
        (4, 2, 1, 9, 3, 3, 3, 2, 1),
        (1, 4, 2, 2, 3, 3, 3, 2, 1),
        (1, 5, 6, 10, 7, 3, 3, 2, 1),
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

    /// The products the kernel computes, by name: all three on stride 1 and on stride 2 with an
    /// even height and width; else on stride 2 the forward pass and the weight gradient.
    static func products(_ x: Tensor, _ w: Tensor, _ gy: Tensor, stride s: Int) -> [(String, Tensor)] {
        [("forward", x.conv2d(w, stride: s, padding: 1, algorithm: .sliding))]
            + (hasInputGradient(x.shape, stride: s)
                ? [("input gradient", Tensor.conv2dInputGrad(gy, w, inputShape: x.shape, stride: s, padding: 1, algorithm: .sliding))] : [])
            + [("weight gradient", Tensor.conv2dWeightGrad(x, gy, weightShape: w.shape, stride: s, padding: 1, algorithm: .sliding))]
    }

    /// Whether the kernel computes the input gradient of an input of this shape: on stride 1, or
    /// on stride 2 with an even height and width.
    static func hasInputGradient(_ shape: [Int], stride s: Int) -> Bool { s == 1 || (shape[2] % 2 == 0 && shape[3] % 2 == 0) }

    func testAllProductsMatchDirectLoops() {
        for (k, t) in Self.cases.enumerated() {
            let (x, w, gy) = ConvTests.operands(t, seed: UInt64(300 + k))
            let (dx, dw) = ConvTests.naiveAdjoints(x, w, gy, stride: t.s, padding: 1)
            let references = ["forward": ConvTests.naiveConv(x, w, stride: t.s, padding: 1), "input gradient": dx, "weight gradient": dw]
            for (product, result) in Self.products(x, w, gy, stride: t.s) {
                Self.assertClose(result, references[product]!, "\(product) \(t)")
            }
        }
    }

    /// Every element is the chain the kernel defines, computed here by scalar loops: the forward
    /// pass and the input gradient `acc = fma(w, x, acc)` from 0 over c, u, v (zeros outside the
    /// plane, the adjoint weight flipped and swapped), the weight gradient 16 lanes of chains over
    /// the samples and 16-pixel chunks, added in `laneSum`'s tree. Planes of at most 2×2 run the
    /// plane map, whose chains `planeMapChains` writes out. Run with both register blocks
    /// (`GEMM.wideTiles`), which an AVX2 and an AVX-512 build choose between: any reordering fails.
    func testEveryElementIsItsChain() {
        let saved = GEMM.wideTiles
        defer { GEMM.wideTiles = saved }
        for wide in [true, false] {
            GEMM.wideTiles = wide
            for (k, t) in Self.cases.enumerated() {
                let (x, w, gy) = ConvTests.operands(t, seed: UInt64(400 + k))
                let label = "\(t), wide blocks: \(wide)"
                let chains: [[Float]]
                if t.s == 2 {
                    chains = [Self.forwardChains(x, w, stride: 2)]
                        + (Self.hasInputGradient(x.shape, stride: 2) ? [Self.parityClassChains(gy, w, inputShape: x.shape)] : [])
                        + [Self.weightGradientChains(x, gy, outChannels: t.o, stride: 2)]
                } else if t.h <= 2 && t.w <= 2 {
                    chains = Self.planeMapChains(x, w, gy)
                } else {
                    chains = [Self.forwardChains(x, w), Self.forwardChains(gy, Self.adjointWeight(w)),
                              Self.weightGradientChains(x, gy, outChannels: t.o)]
                }
                let results = Self.products(x, w, gy, stride: t.s)
                XCTAssertEqual(results.count, chains.count)
                for ((product, result), chain) in zip(results, chains) {
                    XCTAssertEqual(result.scalars.map(\.bitPattern), chain.map(\.bitPattern), "\(product) \(label)")
                }
            }
        }
    }

    /// The forward chain is im2col's when the 9·C taps fit one GEMM k-block (`GEMM.kcMax`): the
    /// same bits, on the plane map (its chain leaves out only zero taps) and on stride 2 too. Past
    /// it (C = 114: two blocks) they differ.
    func testForwardHasIm2colsBitsWithinOneKBlock() {
        XCTAssertLessThanOrEqual(9 * 113, GEMM.kcMax)
        for t in [(3, 3, 32, 32, 16, 3, 3, 1, 1), (2, 16, 16, 16, 32, 3, 3, 1, 1), (2, 113, 8, 8, 9, 3, 3, 1, 1),
                  (40, 16, 2, 2, 24, 3, 3, 1, 1), (5, 113, 1, 2, 7, 3, 3, 1, 1), (3, 16, 32, 32, 32, 3, 3, 2, 1),
                  (2, 113, 9, 7, 10, 3, 3, 2, 1)] as [ConvTests.Case] {
            let (x, w, _) = ConvTests.operands(t, seed: 21)
            XCTAssertEqual(x.conv2d(w, stride: t.s, padding: 1, algorithm: .sliding).scalars.map(\.bitPattern),
                           x.conv2d(w, stride: t.s, padding: 1, algorithm: .direct).scalars.map(\.bitPattern), "\(t)")
        }
        let (x, w, _) = ConvTests.operands((2, 114, 8, 8, 9, 3, 3, 1, 1), seed: 21)
        XCTAssertNotEqual(x.conv2d(w, stride: 1, padding: 1, algorithm: .sliding).scalars,
                          x.conv2d(w, stride: 1, padding: 1, algorithm: .direct).scalars)
    }

    func testOneTwoAndThreeThreadsGiveTheSameBits() {
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        // The plane map's is large enough for its GEMMs to run on several threads; then stride 2.
        for t in [(9, 16, 8, 8, 16, 3, 3, 1, 1), (5, 3, 14, 14, 13, 3, 3, 1, 1), (3, 8, 32, 32, 24, 3, 3, 1, 1),
                  (96, 32, 2, 2, 48, 3, 3, 1, 1), (7, 16, 32, 32, 32, 3, 3, 2, 1), (5, 3, 15, 15, 13, 3, 3, 2, 1)] as [ConvTests.Case] {
            let (x, w, gy) = ConvTests.operands(t, seed: 11)
            Parallel.threads = 1
            let one = Self.products(x, w, gy, stride: t.s)
            for threads in [2, 3] {
                Parallel.threads = threads
                for ((product, a), (_, b)) in zip(one, Self.products(x, w, gy, stride: t.s)) {
                    XCTAssertEqual(a.scalars.map(\.bitPattern), b.scalars.map(\.bitPattern), "\(product), \(t), \(threads) threads")
                }
            }
        }
    }

    /// An empty batch: empty outputs, and a weight gradient of zeros (not left uninitialized), on
    /// the plane-row kernel and on the plane map.
    func testEmptyBatchGivesZeros() {
        for side in [8, 2] {
            let x = Tensor.randn([0, 16, side, side], seed: 1), w = Tensor.randn([16, 16, 3, 3], seed: 2)
            XCTAssertEqual(x.conv2d(w, stride: 1, padding: 1, algorithm: .sliding).shape, [0, 16, side, side])
            XCTAssertEqual(Tensor.conv2dInputGrad(x, w, inputShape: x.shape, stride: 1, padding: 1, algorithm: .sliding).shape,
                           [0, 16, side, side])
            let dw = Tensor.conv2dWeightGrad(x, x, weightShape: w.shape, stride: 1, padding: 1, algorithm: .sliding)
            XCTAssertEqual(dw.scalars, [Float](repeating: 0, count: w.count), "\(side)×\(side)")
        }
        let gy = Tensor.randn([0, 16, 4, 4], seed: 3), w = Tensor.randn([16, 8, 3, 3], seed: 4)
        XCTAssertEqual(Tensor.conv2dInputGrad(gy, w, inputShape: [0, 8, 8, 8], stride: 2, padding: 1, algorithm: .sliding).shape,
                       [0, 8, 8, 8])
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

    static func forwardChains(_ x: Tensor, _ w: Tensor, stride s: Int = 1) -> [Float] {
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3]), o = w.shape[0]
        var y = [Float]()
        for b in 0..<n { for f in 0..<o { for i in 0..<(h - 1) / s + 1 { for j in 0..<(wd - 1) / s + 1 {
            var acc: Float = 0
            for k in 0..<c { for u in 0..<3 { for v in 0..<3 {
                acc = acc.addingProduct(w.scalars[((f * c + k) * 3 + u) * 3 + v], value(x, b, k, s * i + u - 1, s * j + v - 1))
            } } }
            y.append(acc)
        } } } }
        return y
    }

    /// The stride-2 input gradient's chains (even H and W): dx[n][c][2i + a][2j + b] is
    /// `acc = fma(w[o][c][u][v], gy[o][i + di][j + dj], acc)` from 0 over o, then the taps of its
    /// parity class in (u, v) order: u = 1 (di = 0) for a = 0; u = 0 (di = 1), then u = 2 (di = 0)
    /// for a = 1; the same for v, dj and b. gy is 0 past its edge.
    static func parityClassChains(_ gy: Tensor, _ w: Tensor, inputShape: [Int]) -> [Float] {
        let (n, c, h, wd) = (inputShape[0], inputShape[1], inputShape[2], inputShape[3]), o = w.shape[0]
        let lines = [[(1, 0)], [(0, 1), (2, 0)]]
        var dx = [Float]()
        for b in 0..<n { for k in 0..<c { for r in 0..<h { for q in 0..<wd {
            var acc: Float = 0
            for f in 0..<o { for (u, di) in lines[r % 2] { for (v, dj) in lines[q % 2] {
                acc = acc.addingProduct(w.scalars[((f * c + k) * 3 + u) * 3 + v], value(gy, b, f, r / 2 + di, q / 2 + dj))
            } } }
            dx.append(acc)
        } } } }
        return dx
    }

    /// The weight gradient's chains: the batch in min(N, 4) parts of consecutive samples, in each
    /// part 16 lanes of chains over its samples and chunks, the parts' lanes added in order. Lane
    /// l of chunk k is output pixel p = 16k + l; past the plane, gy is 0 and x is what the copy
    /// holds there (`copied`), which a zero product still adds as ±0.
    static func weightGradientChains(_ x: Tensor, _ gy: Tensor, outChannels o: Int, stride s: Int = 1) -> [Float] {
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (oh, ow) = ((h - 1) / s + 1, (wd - 1) / s + 1), plane = oh * ow
        let chunks = (plane + 15) / 16, parts = min(n, 4)
        /// Tap (u, v) of output pixel p as the copies hold it, also past the plane. Stride 1:
        /// element e = p + u·W of column shift v's copy, x's row ⌊e / W⌋ − 1 and column e mod W +
        /// v − 1. Stride 2: u = 1 the even-row copy's element e = p (row 2⌊e / OW⌋, up to OH
        /// rows), u = 0 and u = 2 the odd-row copy's element e = p or p + OW (row 2⌊e / OW⌋ − 1, up
        /// to OH + 1 rows), column 2(e mod OW) + v − 1; zero past the copy's rows.
        func copied(_ b: Int, _ k: Int, _ u: Int, _ v: Int, _ p: Int) -> Float {
            if s == 1 {
                let e = p + u * wd
                return value(x, b, k, e / wd - 1, e % wd + v - 1)
            }
            let e = p + (u == 2 ? ow : 0), rows = u == 1 ? oh : oh + 1
            guard e < rows * ow else { return 0 }
            return value(x, b, k, 2 * (e / ow) - (u == 1 ? 0 : 1), 2 * (e % ow) + v - 1)
        }
        var dw = [Float]()
        for f in 0..<o { for k in 0..<c { for u in 0..<3 { for v in 0..<3 {
            var lanes = [Float](repeating: 0, count: 16)
            for part in 0..<parts {
                var partLanes = [Float](repeating: 0, count: 16)
                for b in n * part / parts ..< n * (part + 1) / parts { for chunk in 0..<chunks { for l in 0..<16 {
                    let p = 16 * chunk + l
                    let g = p < plane ? gy.scalars[(b * o + f) * plane + p] : 0
                    partLanes[l] = partLanes[l].addingProduct(g, copied(b, k, u, v, p))
                } } }
                lanes = part == 0 ? partLanes : zip(lanes, partLanes).map { $0 + $1 }
            }
            let eight = (0..<8).map { lanes[$0] + lanes[$0 + 8] }
            let four = (0..<4).map { eight[$0] + eight[$0 + 4] }
            dw.append((four[0] + four[2]) + (four[1] + four[3]))
        } } } }
        return dw
    }

    /// The plane map's chains (planes of at most 2×2, P pixels, input pixel (r, s) of output pixel
    /// (i, j) through tap (r − i + 1, s − j + 1)): the forward pass `acc = fma(w, x, acc)` from 0
    /// over c, then the input pixels q; the input gradient over o, then the output pixels p; the
    /// weight gradient first each pixel pair's entry over the samples, then per tap the entries of
    /// the pairs it joins added from 0 in the order of p.
    static func planeMapChains(_ x: Tensor, _ w: Tensor, _ gy: Tensor) -> [[Float]] {
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3]), o = w.shape[0], plane = h * wd
        func weight(_ f: Int, _ k: Int, output p: Int, input q: Int) -> Float {
            let u = q / wd - p / wd + 1, v = q % wd - p % wd + 1
            return w.scalars[((f * c + k) * 3 + u) * 3 + v]
        }
        var y = [Float](), dx = [Float](), dw = [Float]()
        for b in 0..<n { for f in 0..<o { for p in 0..<plane {
            var acc: Float = 0
            for k in 0..<c { for q in 0..<plane {
                acc = acc.addingProduct(weight(f, k, output: p, input: q), x.scalars[(b * c + k) * plane + q])
            } }
            y.append(acc)
        } } }
        for b in 0..<n { for k in 0..<c { for q in 0..<plane {
            var acc: Float = 0
            for f in 0..<o { for p in 0..<plane {
                acc = acc.addingProduct(weight(f, k, output: p, input: q), gy.scalars[(b * o + f) * plane + p])
            } }
            dx.append(acc)
        } } }
        for f in 0..<o { for k in 0..<c { for u in 0..<3 { for v in 0..<3 {
            var sum: Float = 0
            for p in 0..<plane {
                let r = p / wd + u - 1, s = p % wd + v - 1
                guard r >= 0, r < h, s >= 0, s < wd else { continue }
                var entry: Float = 0
                for b in 0..<n {
                    entry = entry.addingProduct(gy.scalars[(b * o + f) * plane + p], x.scalars[(b * c + k) * plane + r * wd + s])
                }
                sum += entry
            }
            dw.append(sum)
        } } } }
        return [y, dx, dw]
    }
}
