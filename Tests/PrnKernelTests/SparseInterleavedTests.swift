import XCTest
@testable import PrnKernel

/// The interleaved layout of small planes (`Conv+SparseInterleaved.swift`): the forward pass and
/// the input gradient against the dense im2col path and the side-by-side layout (`PaddedRows`),
/// bit for bit, on 1 and 2 threads.
final class SparseInterleavedTests: XCTestCase {
    /// 2 × 2, 4 × 4 and 8 × 8 planes; samples past the 8 × 8 transposes' blocks; several groups
    /// with a short last one (24 + 21 samples forward, 8 + 3 backward); padding 0 and 2, a non-square kernel, channel counts whose pixels
    /// are not a multiple of eight, and two k-blocks of the patch (forward) and of the output
    /// channels (input gradient); densities from none to all.
    func testMatchesIm2colAndSideBySideBitForBit() {
        let cases: [(x: [Int], w: [Int], p: Int)] = [
            ([150, 3, 2, 2], [4, 3, 3, 3], 1), ([40, 3, 4, 4], [5, 3, 3, 3], 1), ([9, 2, 8, 8], [4, 2, 3, 3], 1),
            ([70, 5, 3, 3], [3, 5, 2, 2], 0), ([20, 3, 5, 4], [2, 3, 1, 3], 2),
            ([45, 120, 4, 4], [6, 120, 3, 3], 1), ([11, 2, 4, 4], [1030, 2, 3, 3], 1),
        ]
        for t in cases {
            for density in [0, 0.05, 0.5, 1] {
                let c = ConvCase(x: t.x, w: t.w, stride: 1, padding: t.p, density: density)
                let geo = ConvGeometry.validated(input: t.x, weight: t.w, stride: 1, padding: t.p)
                guard let layout = InterleavedRows(geo, streaming: .input), let backward = InterleavedRows(geo, streaming: .output) else {
                    return XCTFail("no interleaved layout for \(c)")
                }
                let forward = Self.forward(c, layout), inputGrad = Self.inputGrad(c, backward)
                assertBitIdentical(forward, c.x.conv2d(c.masked, padding: t.p, algorithm: .direct), "forward \(c)")
                assertBitIdentical(inputGrad, Tensor.conv2dInputGrad(c.g, c.masked, inputShape: t.x, padding: t.p, algorithm: .direct),
                                   "input grad \(c)")
                if let sideBySide = PaddedRows(geo) {
                    assertBitIdentical(forward, Self.forward(c, sideBySide), "forward against PaddedRows \(c)")
                    assertBitIdentical(inputGrad, Self.inputGrad(c, sideBySide), "input grad against PaddedRows \(c)")
                }
                // The public entry points take this layout on these shapes.
                assertBitIdentical(c.x.sparseConv2d(c.w, c.topology, padding: t.p), forward, "sparseConv2d \(c)")
                assertBitIdentical(Tensor.sparseConv2dInputGrad(c.g, c.w, c.topology, inputShape: t.x, padding: t.p), inputGrad,
                                   "sparseConv2dInputGrad \(c)")
            }
        }
    }

    /// The weight gradient on planes at most 2 wide (its own order): against a Float64 sum of the
    /// same terms and the dense im2col product, in dense and compact form, for one group and
    /// several with a short last one (16 + 5 samples), padding 0 and 1, densities from none to all.
    func testWeightGradientAgainstFloat64AndDense() {
        let cases: [(x: [Int], w: [Int], p: Int)] = [
            ([40, 3, 2, 2], [5, 3, 3, 3], 1), ([21, 400, 2, 2], [3, 400, 3, 3], 1), ([24, 5, 3, 3], [4, 5, 2, 2], 0),
        ]
        for t in cases {
            for density in [0, 0.05, 0.5, 1] {
                let c = ConvCase(x: t.x, w: t.w, stride: 1, padding: t.p, density: density)
                let geo = ConvGeometry.validated(input: t.x, weight: t.w, stride: 1, padding: t.p)
                guard let layout = InterleavedRows(geo, streaming: .input), layout.takesWeightGradient else {
                    return XCTFail("no interleaved weight gradient for \(c)")
                }
                let got = Tensor.sparseConv2dInterleavedWeightGrad(c.x, c.g, c.topology, layout: layout, weightShape: t.w)
                let compact = Tensor.sparseConv2dInterleavedWeightGrad(c.x, c.g, c.topology, layout: layout,
                                                                       weightShape: [c.topology.count])
                XCTAssertEqual(compact.scalars.map(\.bitPattern), c.topology.compact(got).scalars.map(\.bitPattern), "compact \(c)")
                let (sums, magnitudes) = SparseTests.weightGradient64(c, padding: t.p)
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

    /// Groups on parallel threads (five of 16 samples forward, the last one short) and one group
    /// split across threads (output channels forward,
    /// input channels backward) give the bits of one thread.
    func testBitIdenticalAcrossThreads() {
        for (x, w) in [([70, 16, 4, 4], [32, 16, 3, 3]), ([100, 24, 2, 2], [40, 24, 3, 3]), ([70, 200, 4, 4], [8, 200, 3, 3]),
                       ([70, 800, 2, 2], [8, 800, 3, 3])] {
            let c = ConvCase(x: x, w: w, stride: 1, padding: 1, density: 0.1)
            let geo = ConvGeometry.validated(input: x, weight: w, stride: 1, padding: 1)
            let layout = InterleavedRows(geo, streaming: .input)!, backward = InterleavedRows(geo, streaming: .output)!
            func run(_ threads: Int) -> [Tensor] {
                let saved = Parallel.threads
                Parallel.threads = threads
                defer { Parallel.threads = saved }
                let products = [Self.forward(c, layout), Self.inputGrad(c, backward)]
                guard layout.takesWeightGradient else { return products }
                return products + [Tensor.sparseConv2dInterleavedWeightGrad(c.x, c.g, c.topology, layout: layout, weightShape: w)]
            }
            for (one, two) in zip(run(1), run(2)) { assertBitIdentical(one, two, "1 vs 2 threads, \(c)") }
        }
    }

    /// Planes wider than `InterleavedRows.widest`, output rows shorter than `shortestRun` and
    /// strides other than 1 keep the other paths.
    func testLayoutRule() {
        func layout(_ x: [Int], _ w: [Int], stride: Int = 1) -> InterleavedRows? {
            InterleavedRows(ConvGeometry.validated(input: x, weight: w, stride: stride, padding: 1), streaming: .input)
        }
        XCTAssertNotNil(layout([128, 256, 8, 8], [256, 256, 3, 3]))
        XCTAssertNotNil(layout([128, 512, 2, 2], [512, 512, 3, 3]))
        XCTAssertNil(layout([128, 64, 16, 16], [64, 64, 3, 3]))
        XCTAssertNil(layout([3, 3, 4, 4], [4, 3, 3, 3]))
        // Groups of whole multiples of eight samples whose padded input is about `groupBytes`.
        XCTAssertEqual(layout([128, 512, 4, 4], [512, 512, 3, 3])?.samples, 8)
        XCTAssertEqual(layout([128, 512, 2, 2], [512, 512, 3, 3])?.samples, 16)
        XCTAssertNil(layout([128, 16, 8, 8], [16, 16, 3, 3], stride: 2))
    }

    static func forward(_ c: ConvCase, _ layout: InterleavedRows) -> Tensor {
        Tensor.build(layout.geo.outputShape) { y in
            c.x.scalars.withUnsafeBufferPointer { x in
                c.topology.interleavedConv2d(x.baseAddress!, values: c.topology.gather(c.w), layout: layout, into: y.baseAddress!)
            }
        }
    }

    static func inputGrad(_ c: ConvCase, _ layout: InterleavedRows) -> Tensor {
        Tensor.build(c.x.shape) { dx in
            c.g.scalars.withUnsafeBufferPointer { g in
                c.topology.interleavedConv2dInputGrad(g.baseAddress!, values: c.topology.gather(c.w, order: .columns), layout: layout,
                                                      into: dx.baseAddress!)
            }
        }
    }

    static func forward(_ c: ConvCase, _ layout: PaddedRows) -> Tensor {
        Tensor.build(layout.geo.outputShape) { y in
            c.x.scalars.withUnsafeBufferPointer { x in
                c.topology.directConv2d(x.baseAddress!, values: c.topology.gather(c.w), layout: layout, into: y.baseAddress!)
            }
        }
    }

    static func inputGrad(_ c: ConvCase, _ layout: PaddedRows) -> Tensor {
        Tensor.build(c.x.shape) { dx in
            c.g.scalars.withUnsafeBufferPointer { g in
                c.topology.directConv2dInputGrad(g.baseAddress!, values: c.topology.gather(c.w, order: .columns), layout: layout,
                                                 into: dx.baseAddress!)
            }
        }
    }
}
