import XCTest
@testable import PrnKernel

/// The sparse products against the dense GEMM on the masked weight (bit for bit), against a
/// naive Float64 sum, and across thread counts.
final class SparseTests: XCTestCase {
    /// Layer shapes around the SIMD strips (16, 64, 128 samples) and the k-blocks (1024), at
    /// densities from none to all, with rows of 0 and 1 kept weights and columns that lose every
    /// weight; with both strip widths of `rowsTimesDense`. Strips of 64 columns run two rows at a
    /// time: an odd number of rows (7, 9) leaves one alone, and 192 samples give a strip of 128
    /// then one of 64.
    func testLinearProductsMatchDenseBitForBit() {
        let shapes = [(batch: 1, outputs: 5, inputs: 7), (17, 30, 40), (64, 12, 1030), (65, 1100, 9), (80, 3, 2), (150, 20, 30),
                      (64, 7, 301), (192, 9, 40)]
        forEachStripWidth {
            for (batch, outputs, inputs) in shapes {
                for density in [0, 0.01, 0.2, 1] {
                    let c = LinearCase(batch: batch, outputs: outputs, inputs: inputs, density: density)
                    assertBitIdentical(c.x.sparseLinear(c.w, c.topology), c.x.matmul(c.masked, transB: true), "forward \(c)")
                    assertBitIdentical(Tensor.sparseLinearInputGrad(c.g, c.w, c.topology), c.g.matmul(c.masked), "input grad \(c)")
                    assertBitIdentical(Tensor.sparseLinearWeightGrad(c.x, c.g, c.topology, weightShape: c.w.shape),
                                       c.g.matmul(c.x, transA: true) * c.mask, "weight grad \(c)")
                }
            }
        }
    }

    /// A batch over 1024 splits the sampled weight gradient's chain into k-blocks, as the GEMM does.
    func testWeightGradientFollowsTheKBlocks() {
        let c = LinearCase(batch: 2100, outputs: 6, inputs: 9, density: 0.5)
        assertBitIdentical(Tensor.sampledLinearWeightGrad(c.x, c.g, c.topology, weightShape: c.w.shape),
                           c.g.matmul(c.x, transA: true) * c.mask, "weight grad \(c)")
    }

    /// The weight gradient's two layouts: strided chains over the operands as they are, and
    /// sixteen entries at a time over feature-major copies (rows of 16 or more kept weights share
    /// their factor; shorter rows mix within a tile). Both equal the dense GEMM's chains, for
    /// depths with and without a tail of fewer than 16 and over more than one k-block.
    func testSampledProductLayoutsMatchDense() {
        let shapes = [(batch: 17, outputs: 30, inputs: 40), (64, 5, 300), (33, 70, 9), (2100, 6, 40), (1, 4, 20)]
        for (batch, outputs, inputs) in shapes {
            for density in [0.01, 0.2, 1] {
                let c = LinearCase(batch: batch, outputs: outputs, inputs: inputs, density: density)
                let want = c.topology.compact(c.g.matmul(c.x, transA: true))
                let (gT, xT) = (c.g.transposed(), c.x.transposed())
                var strided = [Float](repeating: .nan, count: c.topology.count), tiled = strided
                c.g.scalars.withUnsafeBufferPointer { g in
                    c.x.scalars.withUnsafeBufferPointer { x in
                        c.topology.sample(a: g.baseAddress!, aRow: 1, aStep: outputs, b: x.baseAddress!, bRow: 1, bStep: inputs,
                                          depth: batch, into: &strided)
                    }
                }
                gT.scalars.withUnsafeBufferPointer { g in
                    xT.scalars.withUnsafeBufferPointer { x in
                        c.topology.sample(a: g.baseAddress!, aRow: batch, aStep: 1, b: x.baseAddress!, bRow: batch, bStep: 1,
                                          depth: batch, into: &tiled)
                    }
                }
                assertBitIdentical(Tensor(shape: [c.topology.count], scalars: strided), want, "strided \(c)")
                assertBitIdentical(Tensor(shape: [c.topology.count], scalars: tiled), want, "tiled \(c)")
            }
        }
    }

    /// The sampled product's tiles: rows of 0 to 41 kept weights give full shared tiles, shared
    /// tiles with idle lanes (remainders over 8) and mixed tiles of pooled short remainders;
    /// every entry is computed by exactly one lane, and the products equal the dense GEMM's, also
    /// with the transposes passed in and over two k-blocks.
    func testSampledTilesCoverEveryEntryOnce() {
        let lengths = [0, 1, 7, 8, 9, 15, 16, 17, 24, 25, 33, 41, 3, 5]
        let inputs = 48
        var keep = [Float](repeating: 0, count: lengths.count * inputs)
        var rng = RNG(seed: 12)
        for (r, n) in lengths.enumerated() {
            for c in rng.permutation(inputs).prefix(n) { keep[r * inputs + c] = 1 }
        }
        let mask = Tensor(shape: [lengths.count, inputs], scalars: keep)
        let topology = SparseTopology(mask: mask), plan = topology.sampledTiles
        var covered = [Int](repeating: 0, count: topology.count)
        for tile in 0..<plan.count {
            let width = Int(plan.widths[tile])
            XCTAssertTrue(width >= 1 && width <= 16)
            let rows = (0..<width).map { Int(plan.rows[tile * 16 + $0]) }
            XCTAssertEqual(plan.shared[tile], Set(rows).count == 1, "tile \(tile)")
            for lane in 0..<width {
                let e = Int(plan.entries[tile * 16 + lane])
                covered[e] += 1
                XCTAssertTrue(Int(topology.rowStart[rows[lane]]) <= e && e < Int(topology.rowStart[rows[lane] + 1]))
            }
        }
        XCTAssertEqual(covered, [Int](repeating: 1, count: topology.count))
        XCTAssertTrue(plan.shared.contains(true) && plan.shared.contains(false) && plan.widths.contains { $0 < 16 && $0 > 8 })
        for batch in [64, 2100] {
            let x = Tensor.randn([batch, inputs], seed: 3), g = Tensor.randn([batch, lengths.count], seed: 4)
            let want = g.matmul(x, transA: true) * mask
            assertBitIdentical(Tensor.sampledLinearWeightGrad(x, g, topology, weightShape: mask.shape), want, "batch \(batch)")
            assertBitIdentical(Tensor.sampledLinearWeightGrad(x, g, topology, weightShape: mask.shape,
                                                             featureMajor: (topology.featureMajorInput(x), topology.featureMajorGradient(g))),
                               want, "batch \(batch), transposes passed in")
        }
    }

    /// A compact weight (its kept values only) gives the dense weight's products, and a compact
    /// weight gradient: the dense one's kept entries.
    func testCompactWeightsMatchDenseWeights() {
        for density in [0, 0.05, 0.2, 1] {
            let c = LinearCase(batch: 20, outputs: 33, inputs: 50, density: density)
            let compact = c.topology.compact(c.w)
            XCTAssertEqual(compact.shape, [c.topology.count])
            assertBitIdentical(c.x.sparseLinear(compact, c.topology), c.x.matmul(c.masked, transB: true), "forward \(c)")
            assertBitIdentical(Tensor.sparseLinearInputGrad(c.g, compact, c.topology), c.g.matmul(c.masked), "input grad \(c)")
            assertBitIdentical(Tensor.sparseLinearWeightGrad(c.x, c.g, c.topology, weightShape: compact.shape),
                               c.topology.compact(c.g.matmul(c.x, transA: true)), "weight grad \(c)")
            let v = ConvCase(x: [3, 4, 5, 5], w: [6, 4, 3, 3], stride: 1, padding: 1, density: density)
            let convCompact = v.topology.compact(v.w)
            assertBitIdentical(v.x.sparseConv2d(convCompact, v.topology, padding: 1), v.x.conv2d(v.masked, padding: 1), "conv \(v)")
            assertBitIdentical(Tensor.sparseConv2dInputGrad(v.g, convCompact, v.topology, inputShape: v.x.shape, padding: 1),
                               Tensor.conv2dInputGrad(v.g, v.masked, inputShape: v.x.shape, padding: 1), "conv input grad \(v)")
            assertBitIdentical(Tensor.sparseConv2dWeightGrad(v.x, v.g, v.topology, weightShape: convCompact.shape, padding: 1),
                               v.topology.compact(Tensor.conv2dWeightGrad(v.x, v.g, weightShape: v.w.shape, padding: 1)),
                               "conv weight grad \(v)")
        }
    }

    /// The forward product against an independent sum in Float64.
    func testForwardAgainstNaiveSum() {
        let c = LinearCase(batch: 19, outputs: 23, inputs: 31, density: 0.3)
        let y = c.x.sparseLinear(c.w, c.topology)
        var want = [Double](repeating: 0, count: 19 * 23)
        for b in 0..<19 {
            for o in 0..<23 {
                for i in 0..<31 where c.mask.scalars[o * 31 + i] != 0 {
                    want[b * 23 + o] += Double(c.x.scalars[b * 31 + i]) * Double(c.w.scalars[o * 31 + i])
                }
            }
        }
        for (got, expected) in zip(y.scalars, want) { XCTAssertEqual(Double(got), expected, accuracy: 1e-5 * (1 + abs(expected))) }
    }

    /// Large enough to run on two threads; the result must not change. The weight gradient both
    /// from the GEMM (this density is above the sampled product's limit) and sampled.
    func testBitIdenticalAcrossThreads() {
        let c = LinearCase(batch: 64, outputs: 300, inputs: 784, density: 0.2)
        func run(_ threads: Int) -> [Tensor] {
            let saved = Parallel.threads
            Parallel.threads = threads
            defer { Parallel.threads = saved }
            return [c.x.sparseLinear(c.w, c.topology), Tensor.sparseLinearInputGrad(c.g, c.w, c.topology),
                    Tensor.sparseLinearWeightGrad(c.x, c.g, c.topology, weightShape: c.w.shape),
                    Tensor.sampledLinearWeightGrad(c.x, c.g, c.topology, weightShape: c.w.shape)]
        }
        for (one, two) in zip(run(1), run(2)) { assertBitIdentical(one, two, "1 vs 2 threads") }
    }

    /// Convolutions: one sample and groups of samples (small planes), stride and padding, a
    /// patch over 1024 (two k-blocks), more output channels than 1024 rows of the transpose, and a
    /// plane over 1024 (two k-blocks in the weight gradient of every sample); with both strip
    /// widths of `rowsTimesDense`.
    func testConvolutionsMatchDenseBitForBit() {
        let cases: [(x: [Int], w: [Int], s: Int, p: Int)] = [
            ([1, 2, 5, 5], [3, 2, 3, 3], 1, 1), ([5, 3, 4, 4], [4, 3, 3, 3], 2, 1), ([3, 120, 3, 3], [5, 120, 3, 3], 1, 1),
            ([2, 2, 3, 3], [1030, 2, 1, 1], 1, 0), ([40, 4, 2, 2], [6, 4, 2, 2], 1, 0),
            // A plane over 1024: each sample's weight-gradient chain has two k-blocks.
            ([2, 2, 33, 33], [3, 2, 1, 1], 1, 0),
            // Without im2col (stride 1): two groups of samples side by side, the second short;
            // a non-square kernel padded past its height; padding of KW − 1 (an output row as
            // long as its segment); and padding of KW, which takes the im2col path.
            ([70, 2, 3, 3], [4, 2, 3, 3], 1, 1), ([3, 3, 6, 5], [5, 3, 1, 3], 1, 2),
            ([4, 2, 5, 7], [3, 2, 3, 3], 1, 2), ([2, 2, 4, 4], [3, 2, 2, 2], 1, 2),
        ]
        forEachStripWidth {
            for t in cases {
                for density in [0, 0.05, 0.5, 1] {
                    let c = ConvCase(x: t.x, w: t.w, stride: t.s, padding: t.p, density: density)
                    assertBitIdentical(c.x.sparseConv2d(c.w, c.topology, stride: t.s, padding: t.p),
                                       c.x.conv2d(c.masked, stride: t.s, padding: t.p), "forward \(c)")
                    assertBitIdentical(Tensor.sparseConv2dInputGrad(c.g, c.w, c.topology, inputShape: t.x, stride: t.s, padding: t.p),
                                       Tensor.conv2dInputGrad(c.g, c.masked, inputShape: t.x, stride: t.s, padding: t.p), "input grad \(c)")
                    assertBitIdentical(Tensor.sparseConv2dWeightGrad(c.x, c.g, c.topology, weightShape: t.w, stride: t.s, padding: t.p),
                                       Tensor.conv2dWeightGrad(c.x, c.g, weightShape: t.w, stride: t.s, padding: t.p) * c.mask,
                                       "weight grad \(c)")
                }
            }
        }
    }

    /// Planes 2, 4, 8 and 16 wide, whose rows move into and out of the padded planes as one
    /// vector each (`PaddedRows.transfer`): the forward pass and the input gradient against the
    /// dense im2col path (the rule runs these 3×3 layers by the sliding kernel).
    func testVectorRowPlanesMatchIm2colBitForBit() {
        for x in [[150, 3, 2, 2], [40, 3, 4, 4], [9, 2, 8, 8], [3, 2, 16, 16]] {
            for density in [0.05, 0.5, 1] {
                let c = ConvCase(x: x, w: [4, x[1], 3, 3], stride: 1, padding: 1, density: density)
                assertBitIdentical(c.x.sparseConv2d(c.w, c.topology, padding: 1), c.x.conv2d(c.masked, padding: 1, algorithm: .direct),
                                   "forward \(c)")
                assertBitIdentical(Tensor.sparseConv2dInputGrad(c.g, c.w, c.topology, inputShape: x, padding: 1),
                                   Tensor.conv2dInputGrad(c.g, c.masked, inputShape: x, padding: 1, algorithm: .direct), "input grad \(c)")
            }
        }
    }

    /// Groups of samples side by side on parallel threads, and one sample split across threads
    /// (output channels forward, input channels backward); the weight gradient sampled (density
    /// 0.05) and from the GEMM (0.3).
    func testConvolutionBitIdenticalAcrossThreads() {
        let cases = [ConvCase(x: [70, 16, 4, 4], w: [32, 16, 3, 3], stride: 1, padding: 1, density: 0.05),
                     ConvCase(x: [1, 32, 32, 32], w: [64, 32, 3, 3], stride: 1, padding: 1, density: 0.3)]
        for c in cases {
            func run(_ threads: Int) -> [Tensor] {
                let saved = Parallel.threads
                Parallel.threads = threads
                defer { Parallel.threads = saved }
                return [c.x.sparseConv2d(c.w, c.topology, padding: 1),
                        Tensor.sparseConv2dInputGrad(c.g, c.w, c.topology, inputShape: c.x.shape, padding: 1),
                        Tensor.sparseConv2dWeightGrad(c.x, c.g, c.topology, weightShape: c.w.shape, padding: 1)]
            }
            for (one, two) in zip(run(1), run(2)) { assertBitIdentical(one, two, "1 vs 2 threads, \(c)") }
        }
    }

    /// The weight gradient over the padded windows (`Conv+SparseWindows.swift`, the order of
    /// layers the dense path runs by Winograd): against a Float64 sum of the same terms and the
    /// dense im2col product, for groups of samples (the last one short), one sample, padding 0,
    /// a non-square kernel, padding of KW − 1, rows keeping 0 or 1 weights and columns none,
    /// densities from none to all; dense and compact weight shapes.
    func testWindowWeightGradientAgainstFloat64AndDense() {
        let cases: [(x: [Int], w: [Int], p: Int)] = [
            ([70, 2, 3, 3], [4, 2, 3, 3], 1), ([1, 3, 6, 5], [5, 3, 3, 3], 1), ([3, 2, 7, 6], [3, 2, 3, 3], 0),
            ([3, 3, 6, 5], [5, 3, 1, 3], 2), ([4, 2, 5, 7], [3, 2, 3, 3], 2), ([2, 9, 4, 4], [17, 9, 3, 3], 1),
            ([20, 3, 2, 2], [4, 3, 3, 3], 1), ([3, 2, 8, 8], [3, 2, 3, 3], 1),
        ]
        for t in cases {
            for density in [0, 0.05, 0.5, 1] {
                let c = ConvCase(x: t.x, w: t.w, stride: 1, padding: t.p, density: density)
                let geo = ConvGeometry.validated(input: t.x, weight: t.w, stride: 1, padding: t.p)
                guard let layout = PaddedRows(geo) else { return XCTFail("no padded layout for \(c)") }
                let got = Tensor.sparseConv2dWindowWeightGrad(c.x, c.g, c.topology, layout: layout, weightShape: t.w)
                let compact = Tensor.sparseConv2dWindowWeightGrad(c.x, c.g, c.topology, layout: layout, weightShape: [c.topology.count])
                XCTAssertEqual(compact.scalars.map(\.bitPattern), c.topology.compact(got).scalars.map(\.bitPattern), "compact \(c)")
                let (sums, magnitudes) = Self.weightGradient64(c, padding: t.p)
                let dense = Tensor.conv2dWeightGrad(c.x, c.g, weightShape: t.w, padding: t.p, algorithm: .direct)
                for i in 0..<got.count {
                    guard c.mask.scalars[i] != 0 else {
                        XCTAssertEqual(got.scalars[i], 0, "pruned entry \(i), \(c)")
                        continue
                    }
                    let tolerance = 1e-6 * magnitudes[i] + 1e-30
                    XCTAssertEqual(Double(got.scalars[i]), sums[i], accuracy: tolerance, "entry \(i) against Float64, \(c)")
                    XCTAssertEqual(got.scalars[i], dense.scalars[i], accuracy: Float(2 * tolerance), "entry \(i) against im2col, \(c)")
                }
            }
        }
    }

    /// `windowDots` takes six (AVX2) or eight (AVX-512) dot products per pass and the rest in one:
    /// 0 to 17 dot products, against Float64 sums and each other (the same chains, bit for bit,
    /// so both builds agree).
    func testWindowDotsAnyCountAndWidth() {
        var rng = RNG(seed: 11)
        let positions = 48, x = rng.normal(count: 200), g = rng.normal(count: positions)
        for count in 0...17 {
            let offsets = (0..<count).map { ($0 * 37) % 150 }
            var results: [[Float]] = []
            for widest in [6, 8] {
                var out = [Float](repeating: .nan, count: count)
                out.withUnsafeMutableBufferPointer { o in
                    SparseKernels.windowDots(g: g, x: x, offsets: offsets, count: count, positions: positions, into: o.baseAddress!,
                                             widest: widest)
                }
                for i in 0..<count {
                    let terms = (0..<positions).map { Double(g[$0]) * Double(x[offsets[i] + $0]) }
                    let scale = terms.map(abs).reduce(0, +)
                    XCTAssertEqual(Double(out[i]), terms.reduce(0, +), accuracy: 1e-6 * scale, "dot \(i) of \(count), \(widest) per pass")
                }
                results.append(out)
            }
            XCTAssertEqual(results[0].map(\.bitPattern), results[1].map(\.bitPattern), "6 against 8 per pass, \(count) dot products")
        }
    }

    /// `rowsTimesDenseByEntries` against its definition, one scalar chain per output element:
    /// rows keeping 0 to 20 entries in each of three k-blocks (sweeps of every width, empty
    /// blocks first and later), a row length off the 16-lane strip, strided operands.
    func testEntrySweepsFollowTheChains() {
        var rng = RNG(seed: 21)
        let depth = 2100, n = 53, ldd = 60, ldo = 57, rows = 40
        let blocks = SparseKernels.kBlocks(depth)
        XCTAssertEqual(blocks.count, 3)
        var start: [Int32] = [0], index: [Int32] = []
        for r in 0..<rows {
            for (b, block) in blocks.enumerated() {
                let count = (r * 7 + b * 5) % 21
                let picks = Set((0..<count).map { _ in block.lowerBound + rng.int(below: block.count) })
                index += picks.sorted().map(Int32.init)
            }
            start.append(Int32(index.count))
        }
        let values = rng.normal(count: index.count), dense = rng.normal(count: depth * ldd)
        var out = [Float](repeating: .nan, count: rows * ldo)
        start.withUnsafeBufferPointer { st in
            index.withUnsafeBufferPointer { ix in
                out.withUnsafeMutableBufferPointer { o in
                    SparseKernels.rowsTimesDenseByEntries(start: st.baseAddress!, index: ix.baseAddress!, values: values, rows: 0..<rows,
                                                          blocks: blocks, dense: dense, ldd: ldd, n: n, out: o.baseAddress!, ldo: ldo)
                }
            }
        }
        for r in 0..<rows {
            for j in 0..<n {
                var total: Float = 0
                for (b, block) in blocks.enumerated() {
                    var chain: Float = 0
                    for e in Int(start[r])..<Int(start[r + 1]) where block.contains(Int(index[e])) {
                        chain = chain.addingProduct(values[e], dense[Int(index[e]) * ldd + j])
                    }
                    total = b == 0 ? chain : chain + total
                }
                XCTAssertEqual(out[r * ldo + j].bitPattern, total.bitPattern, "row \(r), column \(j)")
            }
        }
    }

    /// Per weight, the Float64 sum of `gy[n, o, i, j] · x[n, c, i + u − p, j + v − p]` over the
    /// taps inside the input, and the sum of the terms' magnitudes (the rounding scale).
    static func weightGradient64(_ c: ConvCase, padding p: Int) -> (sums: [Double], magnitudes: [Double]) {
        let (n, ch, h, w) = (c.x.shape[0], c.x.shape[1], c.x.shape[2], c.x.shape[3])
        let (o, kh, kw) = (c.w.shape[0], c.w.shape[2], c.w.shape[3])
        let (oh, ow) = (c.g.shape[2], c.g.shape[3])
        var sums = [Double](repeating: 0, count: c.w.count), magnitudes = sums
        for b in 0..<n {
            for out in 0..<o {
                for k in 0..<ch * kh * kw {
                    let (cin, u, v) = (k / (kh * kw), k % (kh * kw) / kw, k % kw)
                    for i in 0..<oh {
                        for j in 0..<ow {
                            let (r, q) = (i + u - p, j + v - p)
                            guard r >= 0 && r < h && q >= 0 && q < w else { continue }
                            let term = Double(c.g.scalars[((b * o + out) * oh + i) * ow + j]) * Double(c.x.scalars[((b * ch + cin) * h + r) * w + q])
                            sums[out * ch * kh * kw + k] += term
                            magnitudes[out * ch * kh * kw + k] += abs(term)
                        }
                    }
                }
            }
        }
        return (sums, magnitudes)
    }

    /// A layer the dense path runs by Winograd F(4×4) takes the windows' weight gradient; the
    /// result is the same on one and two threads.
    func testWinogradLayerWeightGradientTakesTheWindowsOnAnyThreadCount() {
        let c = ConvCase(x: [2, 64, 32, 32], w: [64, 64, 3, 3], stride: 1, padding: 1, density: 0.1)
        let geo = ConvGeometry.validated(input: c.x.shape, weight: c.w.shape, stride: 1, padding: 1)
        XCTAssertEqual(ConvAlgorithm.chosen(for: geo), .winograd4x4)
        func run(_ threads: Int) -> Tensor {
            let saved = Parallel.threads
            Parallel.threads = threads
            defer { Parallel.threads = saved }
            return Tensor.sparseConv2dWeightGrad(c.x, c.g, c.topology, weightShape: c.w.shape, padding: 1)
        }
        let one = run(1)
        assertBitIdentical(one, Tensor.sparseConv2dWindowWeightGrad(c.x, c.g, c.topology, layout: PaddedRows(geo)!, weightShape: c.w.shape),
                           "the windows' gradient")
        assertBitIdentical(run(2), one, "1 vs 2 threads")
    }

    /// The topology's CSC arrays are the transpose of its CSR arrays.
    func testTopologyTransposeAndGather() {
        let c = LinearCase(batch: 1, outputs: 9, inputs: 13, density: 0.3)
        let s = c.topology
        XCTAssertEqual(s.count, Int(c.mask.sum().item))
        var fromColumns: [(Int, Int)] = []
        for col in 0..<s.columns {
            for q in Int(s.columnStart[col])..<Int(s.columnStart[col + 1]) {
                fromColumns.append((Int(s.cscRowIndex[q]), col))
                let e = Int(s.cscEntry[q])
                XCTAssertEqual(Int(s.columnIndex[e]), col)
                XCTAssertTrue(Int(s.rowStart[Int(s.cscRowIndex[q])]) <= e && e < Int(s.rowStart[Int(s.cscRowIndex[q]) + 1]))
            }
        }
        let kept = (0..<9 * 13).filter { c.mask.scalars[$0] != 0 }.map { ($0 / 13, $0 % 13) }
        XCTAssertEqual(fromColumns.sorted { $0 < $1 }.map { [$0.0, $0.1] }, kept.map { [$0.0, $0.1] })
        XCTAssertEqual(s.gather(c.w), kept.map { c.w.scalars[$0.0 * 13 + $0.1] })
        XCTAssertEqual(s.scatter(s.gather(c.w), shape: c.w.shape), c.masked)
    }

    /// A layer keeping weights in few of its rows or columns runs its products over those only
    /// (`UsedPart`), with the k-blocks of depths over 1024 falling between used features, and the
    /// batch operands' feature-major copies made by the products or passed in: bit for bit the
    /// dense products. (outputs, inputs, used rows, used columns): LeNet-300-100's fc1 at density
    /// 0.005 (few rows, half of the columns: those stay whole) and at most a quarter of its
    /// columns, rows over two k-blocks of the input gradient, columns over three of the forward,
    /// and a layer that keeps nothing.
    func testUsedPartProductsMatchDense() {
        let cases = [(300, 784, 17, 392), (300, 784, 66, 196), (1100, 40, 9, 40), (30, 2100, 30, 15), (3, 5, 0, 0)]
        for (outputs, inputs, usedRows, usedColumns) in cases {
            var rng = RNG(seed: UInt64(outputs * 31 + inputs))
            let rows = Array(rng.permutation(outputs).prefix(usedRows)), columns = Array(rng.permutation(inputs).prefix(usedColumns))
            var keep = [Float](repeating: 0, count: outputs * inputs)
            for k in 0..<max(usedRows, usedColumns) { keep[rows[k % usedRows] * inputs + columns[k % usedColumns]] = 1 }
            for r in rows {
                for c in columns where rng.uniform(count: 1)[0] < 0.1 { keep[r * inputs + c] = 1 }
            }
            let mask = Tensor(shape: [outputs, inputs], scalars: keep), topology = SparseTopology(mask: mask)
            let part = topology.usedPart
            XCTAssertEqual(part?.rowsReduced ?? false, 4 * usedRows <= outputs, "\(outputs)×\(inputs)")
            XCTAssertEqual(part?.columnsReduced ?? false, 4 * usedColumns <= inputs, "\(outputs)×\(inputs)")
            XCTAssertEqual(part?.topology.count, topology.count)
            for batch in [1, 20, 64] {
                let x = Tensor.randn([batch, inputs], rng: &rng), g = Tensor.randn([batch, outputs], rng: &rng)
                let w = Tensor.randn([outputs, inputs], rng: &rng), masked = w * mask
                let (xT, gT) = (topology.featureMajorInput(x), topology.featureMajorGradient(g))
                let name = "\(outputs)×\(inputs), batch \(batch)"
                for passed in [false, true] {
                    assertBitIdentical(x.sparseLinear(w, topology, featureMajor: passed ? xT : nil),
                                       x.matmul(masked, transB: true), "forward \(name)")
                    assertBitIdentical(Tensor.sparseLinearInputGrad(g, w, topology, featureMajor: passed ? gT : nil),
                                       g.matmul(masked), "input grad \(name)")
                    assertBitIdentical(Tensor.sampledLinearWeightGrad(x, g, topology, weightShape: w.shape,
                                                                      featureMajor: passed ? (xT, gT) : nil),
                                       g.matmul(x, transA: true) * mask, "weight grad \(name)")
                }
            }
        }
    }
}

/// Random operands of one masked layer. The mask keeps each weight with probability `density`,
/// except that row 0 keeps nothing, row 1 keeps exactly one weight, and column 0 keeps nothing.
/// Runs `body` with each strip width of `rowsTimesDense` in force (128 and 64 columns, as
/// `GEMM.wideTiles` picks them), in any build; the dense GEMM gives the same bits either way.
func forEachStripWidth(_ body: () -> Void) {
    let saved = GEMM.wideTiles
    defer { GEMM.wideTiles = saved }
    for wide in [true, false] {
        GEMM.wideTiles = wide
        body()
    }
}

struct LinearCase: CustomStringConvertible {
    let batch: Int, outputs: Int, inputs: Int, density: Double
    let x: Tensor, g: Tensor, w: Tensor, mask: Tensor, masked: Tensor, topology: SparseTopology

    init(batch: Int, outputs: Int, inputs: Int, density: Double) {
        (self.batch, self.outputs, self.inputs, self.density) = (batch, outputs, inputs, density)
        var rng = RNG(seed: UInt64(batch * 7919 + outputs * 104_729 + inputs) &+ UInt64(density * 1000))
        x = Tensor.randn([batch, inputs], rng: &rng)
        g = Tensor.randn([batch, outputs], rng: &rng)
        w = Tensor.randn([outputs, inputs], rng: &rng)
        var keep = rng.uniform(count: outputs * inputs).map { Float(Double($0) < density ? 1 : 0) }
        if density < 1 {
            for i in 0..<inputs where outputs > 0 { keep[i] = 0 }
            if outputs > 1 { for i in 0..<inputs { keep[inputs + i] = i == inputs - 1 ? 1 : 0 } }
            for o in 0..<outputs { keep[o * inputs] = 0 }
        }
        mask = Tensor(shape: [outputs, inputs], scalars: keep)
        masked = w * mask
        topology = SparseTopology(mask: mask)
    }

    var description: String { "batch \(batch), \(outputs)×\(inputs), density \(density)" }
}

/// Random operands of one masked convolution, the weight's mask drawn as in `LinearCase`.
struct ConvCase: CustomStringConvertible {
    let stride: Int, padding: Int, density: Double
    let x: Tensor, g: Tensor, w: Tensor, mask: Tensor, masked: Tensor, topology: SparseTopology

    init(x shape: [Int], w weightShape: [Int], stride: Int, padding: Int, density: Double) {
        (self.stride, self.padding, self.density) = (stride, padding, density)
        let outputs = weightShape[0], patch = weightShape.dropFirst().reduce(1, *)
        let flat = LinearCase(batch: 1, outputs: outputs, inputs: patch, density: density)
        x = Tensor.randn(shape, seed: UInt64(shape.reduce(0, +)))
        g = Tensor.randn(try! Shape.conv2d(input: shape, weight: weightShape, stride: stride, padding: padding), seed: 99)
        w = flat.w.reshaped(weightShape)
        mask = flat.mask.reshaped(weightShape)
        masked = w * mask
        topology = SparseTopology(mask: mask)
    }

    var description: String { "x \(x.shape), w \(w.shape), stride \(stride), padding \(padding), density \(density)" }
}

/// Equal bit patterns, except that a zero may stand for a zero of either sign.
func assertBitIdentical(_ got: Tensor, _ want: Tensor, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(got.shape, want.shape, message, file: file, line: line)
    for (i, (a, b)) in zip(got.scalars, want.scalars).enumerated() where a.bitPattern != b.bitPattern && !(a == 0 && b == 0) {
        XCTFail("\(message): element \(i) is \(a), dense gives \(b)", file: file, line: line)
        return
    }
}
