import XCTest
@testable import PrnKernel

/// Both gradients of the sliding convolution in one pass (`SlidingPlan.gradients`, which
/// `Tensor.conv2dGradients` runs where `fusesGradients` holds): each element is the chain of its
/// product apart, written out by scalar loops (`SlidingTests`' chains), on both register blocks
/// and 1 to 3 threads; elsewhere the two products apart.
final class SlidingGradientsTests: XCTestCase {
    /// SlidingTests' stride-1 shapes the pass can run (planes over 2×2: groups of one sample and
    /// of several, planes not of whole chunks), and ResNet-20's two sliding shapes at a small batch.
    static var cases: [ConvTests.Case] {
        SlidingTests.cases.filter { $0.s == 1 && ($0.h > 2 || $0.w > 2) } + [(6, 16, 32, 32, 16, 3, 3, 1, 1), (9, 32, 16, 16, 32, 3, 3, 1, 1)]
    }

    func testEveryElementIsItsChain() {
        let saved = (GEMM.wideTiles, Parallel.threads)
        defer { (GEMM.wideTiles, Parallel.threads) = saved }
        for (k, t) in Self.cases.enumerated() {
            let (x, w, gy) = ConvTests.operands(t, seed: UInt64(700 + k))
            let dx = SlidingTests.forwardChains(gy, SlidingTests.adjointWeight(w)).map(\.bitPattern)
            let dw = SlidingTests.weightGradientChains(x, gy, outChannels: t.o).map(\.bitPattern)
            let geo = ConvGeometry.validated(input: x.shape, weight: w.shape, stride: 1, padding: 1)
            for (wide, threads) in [(false, 1), (false, 2), (true, 1), (true, 3)] {
                (GEMM.wideTiles, Parallel.threads) = (wide, threads)
                let both = SlidingPlan.gradients(x, gy, w, geo)
                let label = "\(t), wide blocks: \(wide), \(threads) threads"
                XCTAssertEqual(both.input.shape, x.shape, label)
                XCTAssertEqual(both.weight.shape, w.shape, label)
                XCTAssertEqual(both.input.scalars.map(\.bitPattern), dx, "input gradient \(label)")
                XCTAssertEqual(both.weight.scalars.map(\.bitPattern), dw, "weight gradient \(label)")
            }
        }
    }

    /// The pass runs where a sample fills a weight-gradient group: ResNet-20's 16 → 16 on 32×32,
    /// and any plane at batch 1; not on its 32 → 32 on 16×16, stride 2 or the plane map.
    func testPassRunsWhereASampleFillsAGroup() {
        func fuses(_ input: [Int], _ out: Int, stride: Int = 1) -> Bool {
            SlidingPlan(ConvGeometry.validated(input: input, weight: [out, input[1], 3, 3], stride: stride, padding: 1)).fusesGradients
        }
        XCTAssertTrue(fuses([128, 16, 32, 32], 16))
        XCTAssertTrue(fuses([1, 32, 16, 16], 32))
        XCTAssertFalse(fuses([128, 32, 16, 16], 32))
        XCTAssertFalse(fuses([128, 16, 32, 32], 32, stride: 2))
        XCTAssertFalse(fuses([1, 16, 2, 2], 16))
    }

    /// Stride 2, plane maps, groups of several samples, an input gradient by im2col beside a
    /// sliding weight gradient, and the pass switched off: each result is its product's apart,
    /// bit for bit.
    func testElsewhereTheProductsApart() {
        let cases: [(ConvTests.Case, ConvAlgorithm?)] = [
            ((2, 16, 32, 32, 32, 3, 3, 2, 1), .sliding), ((33, 20, 2, 2, 13, 3, 3, 1, 1), .sliding),
            ((8, 3, 16, 16, 16, 3, 3, 1, 1), nil), ((2, 3, 7, 6, 4, 3, 3, 1, 1), nil), ((3, 16, 16, 16, 16, 3, 3, 1, 1), .direct),
            ((3, 16, 16, 16, 16, 3, 3, 1, 1), .winograd4x4), ((9, 32, 16, 16, 32, 3, 3, 1, 1), .sliding),
        ]
        for fusing in [true, false] {
            for (k, (t, algorithm)) in cases.enumerated() {
                let (x, w, gy) = ConvTests.operands(t, seed: UInt64(800 + k))
                let padding = t.p
                let both = Tensor.conv2dGradients(x, gy, w, stride: t.s, padding: padding, algorithm: algorithm, fusing: fusing)
                let dx = Tensor.conv2dInputGrad(gy, w, inputShape: x.shape, stride: t.s, padding: padding, algorithm: algorithm)
                let dw = Tensor.conv2dWeightGrad(x, gy, weightShape: w.shape, stride: t.s, padding: padding, algorithm: algorithm)
                XCTAssertEqual(both.input.scalars.map(\.bitPattern), dx.scalars.map(\.bitPattern), "\(t) \(String(describing: algorithm))")
                XCTAssertEqual(both.weight.scalars.map(\.bitPattern), dw.scalars.map(\.bitPattern), "\(t) \(String(describing: algorithm))")
            }
        }
        // Switched off, the pass's own shapes run apart too: the same bits.
        let (x, w, gy) = ConvTests.operands((4, 16, 32, 32, 16, 3, 3, 1, 1), seed: 810)
        let fused = Tensor.conv2dGradients(x, gy, w, stride: 1, padding: 1)
        let apart = Tensor.conv2dGradients(x, gy, w, stride: 1, padding: 1, algorithm: nil, fusing: false)
        XCTAssertEqual(fused.input.scalars.map(\.bitPattern), apart.input.scalars.map(\.bitPattern))
        XCTAssertEqual(fused.weight.scalars.map(\.bitPattern), apart.weight.scalars.map(\.bitPattern))
    }

    /// An empty batch: an empty input gradient and a weight gradient of zeros.
    func testEmptyBatchGivesZeros() {
        let x = Tensor.randn([0, 16, 8, 8], seed: 1), w = Tensor.randn([16, 16, 3, 3], seed: 2)
        let both = Tensor.conv2dGradients(x, x, w, stride: 1, padding: 1, algorithm: .sliding)
        XCTAssertEqual(both.input.shape, [0, 16, 8, 8])
        XCTAssertEqual(both.weight.scalars, [Float](repeating: 0, count: w.count))
    }
}
