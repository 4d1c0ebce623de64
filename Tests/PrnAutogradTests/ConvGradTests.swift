import XCTest
import PrnTestSupport
import PrnKernel
@testable import PrnAutograd

/// Gradients of the conv and pooling primitives against finite differences, and second-order
/// gradients (Hessian–vector products) through them.
final class ConvGradTests: XCTestCase {
    /// (input shape, weight shape, stride, padding): small, so finite differences stay fast.
    static let convCases: [(x: [Int], w: [Int], s: Int, p: Int)] = [
        ([2, 2, 5, 5], [3, 2, 3, 3], 1, 1),
        ([2, 2, 5, 5], [3, 2, 3, 3], 2, 0),
        ([2, 2, 6, 5], [3, 2, 3, 2], 2, 1),   // non-square input and kernel, last row unread
        ([1, 1, 4, 4], [2, 1, 2, 2], 1, 2),   // padding 2 around a 2×2 kernel
    ]

    /// `⟨out, r⟩` for a fixed random `r`, so every output element weighs in differently.
    static func probe(_ out: Variable, seed: UInt64) -> Variable {
        (out * Variable(Tensor.randn(out.shape, seed: seed))).sum()
    }

    static func outputShape(_ t: (x: [Int], w: [Int], s: Int, p: Int)) -> [Int] {
        try! Shape.conv2d(input: t.x, weight: t.w, stride: t.s, padding: t.p)
    }

    // MARK: Convolution and its adjoints, each with respect to both inputs

    func testConv2dGradients() {
        for (k, t) in Self.convCases.enumerated() {
            let x = Tensor.randn(t.x, seed: UInt64(k)), w = Tensor.randn(t.w, seed: UInt64(k + 50))
            GradCheck.check([x, w]) { v in Self.probe(v[0].conv2d(v[1], stride: t.s, padding: t.p), seed: 7) }
        }
    }

    func testConv2dInputGradGradients() {
        for (k, t) in Self.convCases.enumerated() {
            let gy = Tensor.randn(Self.outputShape(t), seed: UInt64(k)), w = Tensor.randn(t.w, seed: UInt64(k + 50))
            GradCheck.check([gy, w]) { v in
                Self.probe(Variable.conv2dInputGrad(v[0], v[1], inputShape: t.x, stride: t.s, padding: t.p), seed: 8)
            }
        }
    }

    func testConv2dWeightGradGradients() {
        for (k, t) in Self.convCases.enumerated() {
            let x = Tensor.randn(t.x, seed: UInt64(k)), gy = Tensor.randn(Self.outputShape(t), seed: UInt64(k + 50))
            GradCheck.check([x, gy]) { v in
                Self.probe(Variable.conv2dWeightGrad(v[0], v[1], weightShape: t.w, stride: t.s, padding: t.p), seed: 9)
            }
        }
    }

    // MARK: Pooling

    /// Distinct values 0.1 apart in random order: no window has a near-tie, so the argmax does not
    /// move under a finite-difference step.
    static func spacedInput(_ shape: [Int], seed: UInt64) -> Tensor {
        var rng = RNG(seed: seed)
        let order = rng.permutation(Shape.count(shape))
        return Tensor(shape: shape, scalars: order.map { Float($0) * 0.1 - 2 })
    }

    static let poolCases: [(k: Int, s: Int?, p: Int)] = [(2, nil, 0), (3, 2, 1), (3, 1, 1)]

    func testMaxPoolGradients() {
        let x = Self.spacedInput([2, 2, 5, 5], seed: 3)
        for (k, t) in Self.poolCases.enumerated() {
            GradCheck.check([x]) { v in Self.probe(v[0].maxPool2d(kernel: t.k, stride: t.s, padding: t.p), seed: UInt64(k)) }
        }
    }

    /// Max pooling's backward (scatter-add) and its backward (gather) are linear in their input;
    /// checked at a fixed argmax on arbitrary inputs.
    func testGatherAndScatterGradients() {
        let x = Self.spacedInput([2, 2, 5, 5], seed: 4)
        for (k, t) in Self.poolCases.enumerated() {
            let (values, argmax) = x.maxPool2d(kernel: t.k, stride: t.s, padding: t.p)
            GradCheck.check([Tensor.randn(x.shape, seed: UInt64(k))]) { v in
                Self.probe(v[0].gathered(at: argmax), seed: 11)
            }
            GradCheck.check([Tensor.randn(values.shape, seed: UInt64(k))]) { v in
                Self.probe(v[0].scatterAdded(at: argmax), seed: 12)
            }
        }
    }

    func testAvgPoolAndAdjointGradients() {
        let shape = [2, 2, 5, 5]
        for (k, t) in Self.poolCases.enumerated() {
            let pooled = try! Shape.pool2d(input: shape, kernel: t.k, stride: t.s, padding: t.p)
            GradCheck.check([Tensor.randn(shape, seed: UInt64(k))]) { v in
                Self.probe(v[0].avgPool2d(kernel: t.k, stride: t.s, padding: t.p), seed: 13)
            }
            GradCheck.check([Tensor.randn(pooled, seed: UInt64(k))]) { v in
                Self.probe(v[0].avgPool2dAdjoint(inputShape: shape, kernel: t.k, stride: t.s, padding: t.p), seed: 14)
            }
        }
    }

    // MARK: Double backward

    /// Hessian–vector product of `f` at `params` along `directions`, by double backward:
    /// `∇_p ⟨stopgrad(v), ∇_p f⟩`.
    static func hessianVectorProduct(_ params: [Tensor], _ directions: [Tensor],
                                     _ f: ([Variable]) -> Variable) -> [Tensor] {
        let leaves = params.map { Variable($0, requiresGrad: true) }
        let g = grad(of: f(leaves), wrt: leaves, createGraph: true)
        let inner = zip(g, directions).map { ($0 * Variable($1)).sum() }.reduce(Variable(Tensor(0)), +)
        return grad(of: inner, wrt: leaves).map(\.value)
    }

    /// The gradient of `f` at `params + t·directions`.
    static func gradient(at params: [Tensor], _ directions: [Tensor], t: Float,
                         _ f: ([Variable]) -> Variable) -> [Tensor] {
        let leaves = zip(params, directions).map { Variable($0 + $1 * t, requiresGrad: true) }
        return grad(of: f(leaves), wrt: leaves).map(\.value)
    }

    /// For `L = ‖conv(x, w)‖²` the Hessian–vector product has a closed form in the kernel ops
    /// (`y = conv(x, w)`, `ẏ = conv(vx, w) + conv(x, vw)`, `A` = input grad, `B` = weight grad):
    ///
    ///     Hv_x = 2·A(ẏ, w) + 2·A(y, vw)        Hv_w = 2·B(vx, y) + 2·B(x, ẏ)
    ///
    /// The mixed terms are exactly the cross-derivatives the backward rules must supply.
    func testConvHessianVectorProductMatchesClosedForm() {
        for t in Self.convCases {
            let x = Tensor.randn(t.x, seed: 1), w = Tensor.randn(t.w, seed: 2)
            let vx = Tensor.randn(t.x, seed: 3), vw = Tensor.randn(t.w, seed: 4)
            let (s, p) = (t.s, t.p)
            let hv = Self.hessianVectorProduct([x, w], [vx, vw]) { v in
                v[0].conv2d(v[1], stride: s, padding: p).pow(2).sum()
            }
            let y = x.conv2d(w, stride: s, padding: p)
            let dy = vx.conv2d(w, stride: s, padding: p) + x.conv2d(vw, stride: s, padding: p)
            let hx = (Tensor.conv2dInputGrad(dy, w, inputShape: t.x, stride: s, padding: p)
                + Tensor.conv2dInputGrad(y, vw, inputShape: t.x, stride: s, padding: p)) * 2
            let hw = (Tensor.conv2dWeightGrad(vx, y, weightShape: t.w, stride: s, padding: p)
                + Tensor.conv2dWeightGrad(x, dy, weightShape: t.w, stride: s, padding: p)) * 2
            assertClose(hv[0], hx, rtol: 1e-4, atol: 1e-4, "Hv wrt x, \(t)")
            assertClose(hv[1], hw, rtol: 1e-4, atol: 1e-4, "Hv wrt w, \(t)")
        }
    }

    /// A small conv net (conv → softplus → avg pool → conv → softplus → max pool → linear →
    /// cross-entropy): the Hessian–vector product with respect to the input and all weights, by
    /// double backward, against central differences of the gradient along the same direction.
    func testConvNetHessianVectorProductMatchesFiniteDifferences() {
        let labels = [1, 3]
        let pooledShape: [Int] = [2, 4, 2, 2]
        /// The pre-pool activations ride along so the test can confirm that no argmax moves.
        func net(_ p: [Variable], prePool: inout Tensor) -> Variable {
            func softplus(_ z: Variable) -> Variable { (z.exp() + 1).log() }
            let h1 = softplus(p[0].conv2d(p[1], stride: 2, padding: 1))    // [2, 3, 4, 4]
                .avgPool2d(kernel: 2, stride: 1)                             // [2, 3, 3, 3]
            let h2 = softplus(h1.conv2d(p[2], stride: 1, padding: 1))        // [2, 4, 3, 3]
            prePool = h2.value
            let features = h2.maxPool2d(kernel: 2, stride: 1).reshaped([2, Shape.count(pooledShape) / 2])
            return crossEntropy(features.matmul(p[3]), labels: labels)
        }
        let params = [Tensor.randn([2, 2, 8, 8], seed: 21), Tensor.randn([3, 2, 3, 3], std: 0.5, seed: 22),
                      Tensor.randn([4, 3, 3, 3], std: 0.5, seed: 23), Tensor.randn([16, 5], std: 0.5, seed: 24)]
        let directions = params.enumerated().map { Tensor.randn($1.shape, seed: UInt64(30 + $0)) }
        var scratch = Tensor(0)
        let hv = Self.hessianVectorProduct(params, directions) { net($0, prePool: &scratch) }

        let h: Float = 1e-3
        var argmaxes: [PoolArgmax] = []
        let plus = Self.gradient(at: params, directions, t: h) { p in
            defer { argmaxes.append(scratch.maxPool2d(kernel: 2, stride: 1).argmax) }
            return net(p, prePool: &scratch)
        }
        let minus = Self.gradient(at: params, directions, t: -h) { p in
            defer { argmaxes.append(scratch.maxPool2d(kernel: 2, stride: 1).argmax) }
            return net(p, prePool: &scratch)
        }
        XCTAssertEqual(argmaxes[0], argmaxes[1], "a max-pool argmax moved; pick another seed")
        for (k, (a, b)) in zip(plus, minus).enumerated() {
            let numeric = (a - b) * (1 / (2 * h))
            assertClose(hv[k], numeric, rtol: 2e-2, atol: 2e-3, "Hv wrt parameter \(k)")
        }
        let magnitude = hv.map { $0.abs().max().item }
        XCTAssertTrue(magnitude.allSatisfy { $0 > 1e-2 }, "every block of Hv should be non-trivial: \(magnitude)")
    }
}
