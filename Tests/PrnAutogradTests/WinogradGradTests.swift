import XCTest
import PrnTestSupport
import PrnKernel
@testable import PrnAutograd

/// Gradients through convolutions that run by Winograd or the sliding kernel (3×3, padding 1; the
/// fixed rule's choice: F(4×4) for 2 samples of 64 channels on 32×32 planes, F(2×2) for 64 samples
/// of 256 channels on 3×3 planes, sliding for 8 samples of 16 channels, or of a first layer's 3, on
/// 16×16 planes, its plane map for 48 samples of 40 → 24 channels on 2×2 planes, and its stride 2
/// for 32 samples of 8 → 16 channels on 16×16 planes, its input gradient by parity classes),
/// against central differences: the directional derivative, and the Hessian–vector product by
/// double backward.
final class WinogradGradTests: XCTestCase {
    /// `⟨r, softplus(conv(x, w))⟩`: curved, so the Hessian has nonzero blocks in x and w.
    static func loss(stride: Int) -> ([Variable]) -> Variable {
        { p in
            let z = p[0].conv2d(p[1], stride: stride, padding: 1)
            return ((z.exp() + 1).log() * Variable(Tensor.randn(z.shape, seed: 9))).sum()
        }
    }

    /// Parameters (x, w), directions, and the algorithm the rule picks for them.
    static let layers: [(params: [Tensor], directions: [Tensor], algorithm: ConvAlgorithm, stride: Int)] = [
        ([Tensor.randn([2, 64, 32, 32], seed: 1), Tensor.randn([64, 64, 3, 3], std: 0.05, seed: 2)],
         [Tensor.randn([2, 64, 32, 32], seed: 3), Tensor.randn([64, 64, 3, 3], std: 0.05, seed: 4)], .winograd4x4, 1),
        ([Tensor.randn([64, 256, 3, 3], seed: 5), Tensor.randn([256, 256, 3, 3], std: 0.03, seed: 6)],
         [Tensor.randn([64, 256, 3, 3], seed: 7), Tensor.randn([256, 256, 3, 3], std: 0.03, seed: 8)], .winograd2x2, 1),
        ([Tensor.randn([48, 40, 2, 2], seed: 19), Tensor.randn([24, 40, 3, 3], std: 0.1, seed: 20)],
         [Tensor.randn([48, 40, 2, 2], seed: 21), Tensor.randn([24, 40, 3, 3], std: 0.1, seed: 22)], .sliding, 1),
        ([Tensor.randn([8, 16, 16, 16], seed: 11), Tensor.randn([16, 16, 3, 3], std: 0.1, seed: 12)],
         [Tensor.randn([8, 16, 16, 16], seed: 13), Tensor.randn([16, 16, 3, 3], std: 0.1, seed: 14)], .sliding, 1),
        ([Tensor.randn([8, 3, 16, 16], seed: 15), Tensor.randn([16, 3, 3, 3], std: 0.3, seed: 16)],
         [Tensor.randn([8, 3, 16, 16], seed: 17), Tensor.randn([16, 3, 3, 3], std: 0.3, seed: 18)], .sliding, 1),
        ([Tensor.randn([32, 8, 16, 16], seed: 23), Tensor.randn([16, 8, 3, 3], std: 0.2, seed: 24)],
         [Tensor.randn([32, 8, 16, 16], seed: 25), Tensor.randn([16, 8, 3, 3], std: 0.2, seed: 26)], .sliding, 2),
    ]

    func testRuleTakesWinogradForTheseLayers() {
        for layer in Self.layers {
            let x = layer.params[0], w = layer.params[1]
            XCTAssertEqual(ConvAlgorithm.chosen(input: x.shape, weight: w.shape, stride: layer.stride, padding: 1), layer.algorithm)
            XCTAssertEqual(x.conv2d(w, stride: layer.stride, padding: 1).scalars,
                           x.conv2d(w, stride: layer.stride, padding: 1, algorithm: layer.algorithm).scalars)
        }
    }

    func testDirectionalDerivativeMatchesFiniteDifferences() {
        for layer in Self.layers {
            let leaves = layer.params.map { Variable($0, requiresGrad: true) }
            let loss = Self.loss(stride: layer.stride)
            let g = grad(of: loss(leaves), wrt: leaves)
            let analytic = zip(g, layer.directions).reduce(0.0) { sum, pair in
                sum + zip(pair.0.value.scalars, pair.1.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            }
            let h: Float = 1e-2
            func at(_ t: Float) -> Double {
                Double(loss(zip(layer.params, layer.directions).map { Variable($0 + $1 * t) }).value.item)
            }
            let numeric = (at(h) - at(-h)) / Double(2 * h)
            XCTAssertEqual(analytic, numeric, accuracy: 2e-2 * abs(numeric) + 1e-2, "\(layer.algorithm)")
            XCTAssertGreaterThan(abs(numeric), 1, "the direction should move the loss")
        }
    }

    /// Without a recorded graph the backward asks for both gradients at once
    /// (`Tensor.conv2dGradients`, one pass on the sliding layers): the same bits as the recorded
    /// ops give.
    func testGradientsWithoutGraphHaveTheGraphsBits() {
        for layer in Self.layers {
            let leaves = layer.params.map { Variable($0, requiresGrad: true) }
            let loss = Self.loss(stride: layer.stride)
            let plain = grad(of: loss(leaves), wrt: leaves)
            let recorded = grad(of: loss(leaves), wrt: leaves, createGraph: true)
            for (a, b) in zip(plain, recorded) {
                XCTAssertEqual(a.value.scalars.map(\.bitPattern), b.value.scalars.map(\.bitPattern), "\(layer.algorithm)")
            }
        }
    }

    /// F(4×4)'s rounding in the gradient, about 1e-5 of its largest element (≈ 20 in the weight
    /// block of the first layer), is divided by 2h = 0.02 in the differences: up to about 0.04 in
    /// an element of Hv's weight block (≈ 0.6), so elements are compared with an absolute
    /// tolerance of 0.1, and vᵀHv, where that noise averages out, to 1%.
    func testHessianVectorProductMatchesFiniteDifferencesOfTheGradient() {
        for layer in Self.layers {
            let loss = Self.loss(stride: layer.stride)
            let hv = ConvGradTests.hessianVectorProduct(layer.params, layer.directions, loss)
            let h: Float = 1e-2
            let plus = ConvGradTests.gradient(at: layer.params, layer.directions, t: h, loss)
            let minus = ConvGradTests.gradient(at: layer.params, layer.directions, t: -h, loss)
            var analytic = 0.0, numeric = 0.0
            for (k, (a, b)) in zip(plus, minus).enumerated() {
                let difference = (a - b) * (1 / (2 * h))
                assertClose(hv[k], difference, rtol: 2e-2, atol: 0.1, "Hv wrt parameter \(k), \(layer.algorithm)")
                XCTAssertGreaterThan(hv[k].abs().max().item, 0.5, "block \(k) of Hv should be non-trivial")
                for (v, (e, d)) in zip(layer.directions[k].scalars, zip(hv[k].scalars, difference.scalars)) {
                    analytic += Double(v) * Double(e)
                    numeric += Double(v) * Double(d)
                }
            }
            XCTAssertEqual(analytic, numeric, accuracy: 1e-2 * abs(numeric), "\(layer.algorithm)")
        }
    }
}
