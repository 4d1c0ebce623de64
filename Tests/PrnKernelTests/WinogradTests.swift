import XCTest
@testable import PrnKernel

/// Winograd F(2×2, 3×3) convolutions against the direct loops in Double (all three products),
/// thread-count bit-identity, and the fixed rule that picks the algorithm.
final class WinogradTests: XCTestCase {
    /// 3×3, stride 1, padding 1: odd and even planes (tiles hanging over the edge), one sample,
    /// several samples per group, several groups with a short last one, 1×1 and 1×n planes.
    static let cases: [ConvTests.Case] = [
        (1, 1, 4, 4, 1, 3, 3, 1, 1),
        (2, 3, 7, 6, 4, 3, 3, 1, 1),
        (1, 5, 5, 9, 3, 3, 3, 1, 1),
        (3, 2, 1, 1, 2, 3, 3, 1, 1),
        (2, 2, 1, 6, 3, 3, 3, 1, 1),
        (5, 4, 24, 24, 3, 3, 3, 1, 1),   // 144 tiles per sample: groups of 4, the last of 1
        (70, 2, 4, 4, 3, 3, 3, 1, 1),    // 4 tiles per sample: groups of 128 > batch
    ]

    func testAllThreeProductsMatchDirectLoops() {
        for (k, t) in Self.cases.enumerated() {
            let (x, w, gy) = ConvTests.operands(t, seed: UInt64(100 + k))
            let (dx, dw) = ConvTests.naiveAdjoints(x, w, gy, stride: 1, padding: 1)
            ConvTests.assertClose(x.conv2d(w, stride: 1, padding: 1, algorithm: .winograd),
                                  ConvTests.naiveConv(x, w, stride: 1, padding: 1), "forward \(t)")
            ConvTests.assertClose(Tensor.conv2dInputGrad(gy, w, inputShape: x.shape, stride: 1, padding: 1, algorithm: .winograd),
                                  dx, "input gradient \(t)")
            ConvTests.assertClose(Tensor.conv2dWeightGrad(x, gy, weightShape: w.shape, stride: 1, padding: 1, algorithm: .winograd),
                                  dw, "weight gradient \(t)")
        }
    }

    /// The three products are adjoint to each other: ⟨conv(x, w), gy⟩ = ⟨x, A(gy, w)⟩ =
    /// ⟨w, B(x, gy)⟩, summed in Double, at a size where the rule itself picks Winograd.
    func testDefaultRuleTakesWinogradAndKeepsTheAdjointIdentities() {
        let x = Tensor.randn([32, 64, 8, 8], seed: 1), w = Tensor.randn([64, 64, 3, 3], std: 0.05, seed: 2)
        let gy = Tensor.randn([32, 64, 8, 8], seed: 3)
        let geo = ConvGeometry.validated(input: x.shape, weight: w.shape, stride: 1, padding: 1)
        XCTAssertEqual(geo.uses(nil), .winograd)
        let y = x.conv2d(w, stride: 1, padding: 1)
        XCTAssertNotEqual(y.scalars, x.conv2d(w, stride: 1, padding: 1, algorithm: .direct).scalars,
                          "the default should be Winograd here, whose bits differ from direct")
        func dot(_ a: Tensor, _ b: Tensor) -> Double { zip(a.scalars, b.scalars).reduce(0) { $0 + Double($1.0) * Double($1.1) } }
        let forward = dot(y, gy)
        let input = dot(x, Tensor.conv2dInputGrad(gy, w, inputShape: x.shape, stride: 1, padding: 1))
        let weight = dot(w, Tensor.conv2dWeightGrad(x, gy, weightShape: w.shape, stride: 1, padding: 1))
        XCTAssertEqual(input, forward, accuracy: 1e-4 * abs(forward) + 1e-2)
        XCTAssertEqual(weight, forward, accuracy: 1e-4 * abs(forward) + 1e-2)
    }

    /// An empty batch: no tiles, so every product is zero (and the weight gradient is not left
    /// uninitialized).
    func testEmptyBatchGivesZeros() {
        let x = Tensor.randn([0, 64, 8, 8], seed: 1), w = Tensor.randn([64, 64, 3, 3], seed: 2)
        XCTAssertEqual(x.conv2d(w, stride: 1, padding: 1).shape, [0, 64, 8, 8])
        let dw = Tensor.conv2dWeightGrad(x, x, weightShape: w.shape, stride: 1, padding: 1, algorithm: .winograd)
        XCTAssertEqual(dw.scalars, [Float](repeating: 0, count: w.count))
    }

    func testRuleIsDirectOutsideItsShapes() {
        func uses(_ x: [Int], _ w: [Int], stride: Int = 1, padding: Int = 1) -> ConvAlgorithm {
            ConvGeometry.validated(input: x, weight: w, stride: stride, padding: padding).uses(nil)
        }
        XCTAssertEqual(uses([32, 64, 8, 8], [64, 64, 3, 3]), .winograd)       // 32 · 16 = 512 tiles
        XCTAssertEqual(uses([2, 64, 32, 32], [64, 64, 3, 3]), .winograd)      // 2 · 256 tiles
        XCTAssertEqual(uses([31, 64, 8, 8], [64, 64, 3, 3]), .direct)         // too few tiles to amortize U
        XCTAssertEqual(uses([1, 64, 32, 32], [64, 64, 3, 3]), .direct)        // batch 1 (SynFlow)
        XCTAssertEqual(uses([32, 32, 8, 8], [64, 32, 3, 3]), .direct)         // few input channels
        XCTAssertEqual(uses([32, 64, 8, 8], [32, 64, 3, 3]), .direct)         // few output channels
        XCTAssertEqual(uses([128, 64, 2, 2], [64, 64, 3, 3]), .direct)        // 2×2 planes
        XCTAssertEqual(uses([32, 64, 8, 8], [64, 64, 3, 3], stride: 2), .direct)
        XCTAssertEqual(uses([32, 64, 8, 8], [64, 64, 3, 3], padding: 0), .direct)
        XCTAssertEqual(uses([32, 64, 8, 8], [64, 64, 5, 5], padding: 2), .direct)
    }

    func testThreadCountDoesNotChangeBits() {
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        for t: ConvTests.Case in [(5, 4, 24, 24, 3, 3, 3, 1, 1), (70, 2, 4, 4, 3, 3, 3, 1, 1), (3, 3, 9, 7, 2, 3, 3, 1, 1)] {
            let (x, w, gy) = ConvTests.operands(t, seed: 7)
            func run() -> [Tensor] {
                [x.conv2d(w, stride: 1, padding: 1, algorithm: .winograd),
                 Tensor.conv2dInputGrad(gy, w, inputShape: x.shape, stride: 1, padding: 1, algorithm: .winograd),
                 Tensor.conv2dWeightGrad(x, gy, weightShape: w.shape, stride: 1, padding: 1, algorithm: .winograd)]
            }
            Parallel.threads = 1
            let one = run()
            Parallel.threads = 2
            let two = run()
            for (i, (a, b)) in zip(one, two).enumerated() {
                XCTAssertEqual(a.scalars.map(\.bitPattern), b.scalars.map(\.bitPattern), "product \(i) of \(t)")
            }
        }
    }
}
