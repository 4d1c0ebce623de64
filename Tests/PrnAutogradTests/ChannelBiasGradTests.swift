import XCTest
import PrnTestSupport
import PrnKernel
@testable import PrnAutograd

/// The fused channel bias (+ ReLU): finite differences of first and second derivatives, and bit
/// identity with the broadcast `+` and `relu()` it replaces.
final class ChannelBiasGradTests: XCTestCase {
    /// Values at least 0.05 away from the ReLU's kink after adding the bias, so finite steps do
    /// not cross it.
    static func input(_ shape: [Int], bias: Tensor, seed: UInt64) -> Tensor {
        let plane = shape.dropFirst(2).reduce(1, *), channels = shape[1]
        let raw = Tensor.randn(shape, seed: seed)
        return Tensor(shape: shape, scalars: raw.scalars.enumerated().map { i, z in
            let b = bias.scalars[(i / plane) % channels]
            let v = z + (z >= 0 ? 0.05 : -0.05)
            return v - b
        })
    }

    /// A linear layer's `[N, C]` (one-scalar planes, run as rows: a feature tail, then sixteen
    /// features per vector and a tail) and a convolution's `[N, C, H, W]`.
    static let shapes: [[Int]] = [[3, 4], [5, 37], [2, 3, 4, 5]]

    func testGradientsMatchFiniteDifferences() {
        for (k, shape) in Self.shapes.enumerated() {
            let bias = Tensor.randn([shape[1]], seed: UInt64(k))
            let x = Self.input(shape, bias: bias, seed: UInt64(k + 10))
            for relu in [false, true] {
                GradCheck.check([x, bias], h: 1e-2) { v in
                    ConvGradTests.probe(v[0].addingChannelBias(v[1], relu: relu), seed: 3)
                }
            }
        }
    }

    /// With a squared loss the Hessian is non-zero; double backward against central differences.
    func testHessianVectorProductMatchesFiniteDifferences() {
        let shape = [2, 3, 4, 5]
        let bias = Tensor.randn([3], seed: 1)
        let params = [Self.input(shape, bias: bias, seed: 2), bias]
        let directions = [Tensor.randn(shape, seed: 3), Tensor.randn([3], seed: 4)]
        let r = Variable(Tensor.randn(shape, seed: 5))
        let f = { (v: [Variable]) -> Variable in
            let y = v[0].addingChannelBias(v[1], relu: true)
            return (y * y * r).sum()
        }
        let hv = ConvGradTests.hessianVectorProduct(params, directions, f)
        let h: Float = 1e-3
        let plus = ConvGradTests.gradient(at: params, directions, t: h, f)
        let minus = ConvGradTests.gradient(at: params, directions, t: -h, f)
        for i in 0..<2 {
            assertClose(hv[i], (plus[i] - minus[i]) * (1 / (2 * h)), rtol: 2e-2, atol: 2e-3, "Hv wrt input \(i)")
        }
        XCTAssertGreaterThan(hv[1].abs().max().item, 1e-2)
    }

    /// Output and input gradient (with and without a recorded backward) equal those of
    /// `x + b.reshaped([1, C, 1, …])` and then `relu()`, bit for bit; the bias gradient is the
    /// input gradient summed by `channelSums`, batch norm's order, also bit for bit, and for
    /// `[N, C]` that of the broadcast `x + b` (`sum(to:)`), which `Linear` had before it fused.
    func testBitIdenticalToBroadcastAddThenReLU() {
        for (k, shape) in Self.shapes.enumerated() {
            let bias = Tensor.randn([shape[1]], seed: UInt64(k + 20)), x = Tensor.randn(shape, seed: UInt64(k + 30))
            let seedGradient = Tensor.randn(shape, seed: UInt64(k + 40))
            let perChannel = [1, shape[1]] + [Int](repeating: 1, count: shape.count - 2)
            for relu in [false, true] {
                for createGraph in [false, true] {
                    func run(fused: Bool) -> [Tensor] {
                        let v = [x, bias].map { Variable($0, requiresGrad: true) }
                        let sum = v[0] + v[1].reshaped(perChannel)
                        let y = fused ? v[0].addingChannelBias(v[1], relu: relu) : (relu ? sum.relu() : sum)
                        let gradients = grad(of: y, wrt: v, seed: Variable(seedGradient), createGraph: createGraph).map(\.value)
                        return [y.value, gradients[0], fused ? gradients[1] : gradients[0].channelSums()]
                    }
                    let fused = run(fused: true)
                    for (i, (a, b)) in zip(fused, run(fused: false)).enumerated() {
                        XCTAssertEqual(a.scalars.map(\.bitPattern), b.scalars.map(\.bitPattern),
                                       "result \(i) of \(shape), relu \(relu), createGraph \(createGraph)")
                    }
                    if shape.count == 2 {
                        let v = [x, bias].map { Variable($0, requiresGrad: true) }
                        let y = relu ? (v[0] + v[1]).relu() : v[0] + v[1]
                        let broadcast = grad(of: y, wrt: v, seed: Variable(seedGradient), createGraph: createGraph).map(\.value)
                        XCTAssertEqual(fused[2].scalars.map(\.bitPattern), broadcast[1].scalars.map(\.bitPattern),
                                       "bias gradient of \(shape) against sum(to:), relu \(relu)")
                    }
                }
            }
        }
    }
}
