import XCTest
import PrnTestSupport
import PrnKernel
@testable import PrnAutograd

/// Every primitive's first derivative against central finite differences, and second
/// derivatives (through `createGraph`) against finite differences of gradients.
final class AutogradTests: XCTestCase {
    /// Values bounded away from 0 so that log, division, abs and relu are smooth within ±h.
    func awayFromZero(_ shape: [Int], seed: UInt64, low: Float = 0.3, high: Float = 1.5) -> Tensor {
        let magnitude = Tensor.rand(shape, low: low, high: high, seed: seed)
        let signs = Tensor.rand(shape, seed: seed &+ 1000).map { $0 < 0.5 ? -1 : 1 }
        return magnitude * signs
    }

    func positive(_ shape: [Int], seed: UInt64) -> Tensor { Tensor.rand(shape, low: 0.5, high: 2, seed: seed) }

    /// A fixed random weighting, so a scalar loss exercises every output element differently.
    func weights(_ shape: [Int], seed: UInt64 = 99) -> Variable { Variable(Tensor.randn(shape, seed: seed)) }

    func testArithmeticWithBroadcasting() {
        let a = awayFromZero([3, 4], seed: 1), b = awayFromZero([4], seed: 2), c = awayFromZero([3, 1], seed: 3)
        let w = weights([3, 4])
        GradCheck.check([a, b]) { v in ((v[0] + v[1]) * w).sum() }
        GradCheck.check([a, c]) { v in ((v[0] - v[1]) * w).sum() }
        GradCheck.check([a, b]) { v in ((v[0] * v[1]) * w).sum() }
        GradCheck.check([a, c]) { v in ((v[0] / v[1]) * w).sum() }
        GradCheck.check([a]) { v in ((-v[0] * 3 + 2) * w).sum() }
        GradCheck.check([a]) { v in ((2 * v[0] - 1) / 4 * w).sum() }
    }

    func testElementwiseFunctions() {
        let a = awayFromZero([2, 5], seed: 4), p = positive([2, 5], seed: 5)
        let w = weights([2, 5])
        GradCheck.check([a]) { v in (v[0].exp() * w).sum() }
        GradCheck.check([p]) { v in (v[0].log() * w).sum() }
        GradCheck.check([a]) { v in (v[0].relu() * w).sum() }
        GradCheck.check([a]) { v in (v[0].abs() * w).sum() }
        GradCheck.check([a]) { v in (v[0].pow(3) * w).sum() }
        GradCheck.check([p]) { v in (v[0].sqrt() * w).sum() }
        let gate = Tensor.randn([2, 5], seed: 6)
        GradCheck.check([a]) { v in (v[0].reluGated(by: gate) * w).sum() }
    }

    /// The ReLU gate `g · step(y)` in one pass has the bits of the product with the step tensor,
    /// also for the gradients that make a product special (±0, ±∞, NaN) and gates at 0, −0 and
    /// NaN; its gradient (with a recorded backward too) is the gated seed.
    func testReLUGateIsBitIdenticalToTheProductWithTheStep() {
        let special: [Float] = [0, -0.0, .infinity, -.infinity, .nan, 1.5, -2]
        let g = Tensor(shape: [7, 7], scalars: (0..<49).map { special[$0 % 7] })
        let y = Tensor(shape: [7, 7], scalars: (0..<49).map { [Float(0), -0.0, .nan, 3, -1, .infinity, 1e-30][$0 / 7] })
        XCTAssertEqual(Tensor.reluGated(g, by: y).scalars.map(\.bitPattern), (g * y.step()).scalars.map(\.bitPattern))
        let seed = Tensor.randn([7, 7], seed: 8)
        for createGraph in [false, true] {
            let v = Variable(Tensor.randn([7, 7], seed: 9), requiresGrad: true)
            let gated = grad(of: v.reluGated(by: y), wrt: [v], seed: Variable(seed), createGraph: createGraph)[0]
            XCTAssertEqual(gated.value.scalars.map(\.bitPattern), (seed * y.step()).scalars.map(\.bitPattern))
        }
    }

    func testShapeOps() {
        let a = awayFromZero([2, 3, 4], seed: 6)
        GradCheck.check([a]) { v in (v[0].reshaped([6, 4]) * self.weights([6, 4])).sum() }
        GradCheck.check([a]) { v in (v[0].permuted([2, 0, 1]) * self.weights([4, 2, 3])).sum() }
        let b = awayFromZero([3, 1], seed: 7)
        GradCheck.check([b]) { v in (v[0].broadcast(to: [2, 3, 4]) * self.weights([2, 3, 4])).sum() }
        GradCheck.check([a]) { v in (v[0].sum(to: [3, 1]) * self.weights([3, 1])).sum() }
    }

    func testReductions() {
        let a = awayFromZero([3, 4, 2], seed: 8)
        GradCheck.check([a]) { v in (v[0].sum(axes: [1]) * self.weights([3, 2])).sum() }
        GradCheck.check([a]) { v in (v[0].sum(axes: [0, 2], keepDims: true) * self.weights([1, 4, 1])).sum() }
        GradCheck.check([a]) { v in (v[0].mean(axes: [-1]) * self.weights([3, 4])).sum() }
        GradCheck.check([a]) { v in v[0].mean() * 5 }
    }

    func testMatmulAllTransposes() {
        for transA in [false, true] {
            for transB in [false, true] {
                let a = Tensor.randn(transA ? [4, 3] : [3, 4], seed: 9)
                let b = Tensor.randn(transB ? [5, 4] : [4, 5], seed: 10)
                GradCheck.check([a, b]) { v in
                    (v[0].matmul(v[1], transA: transA, transB: transB) * self.weights([3, 5])).sum()
                }
            }
        }
    }

    func testSoftmaxAndCrossEntropy() {
        let logits = Tensor.randn([4, 5], seed: 11)
        GradCheck.check([logits]) { v in (v[0].logSoftmax() * self.weights([4, 5])).sum() }
        GradCheck.check([logits]) { v in (v[0].softmax() * self.weights([4, 5])).sum() }
        GradCheck.check([logits]) { v in crossEntropy(v[0], labels: [0, 3, 4, 1]) }
    }

    func testCrossEntropyMatchesClosedForm() {
        let logits = Tensor.randn([3, 4], seed: 12)
        let labels = [2, 0, 3]
        var expected = 0.0
        for row in 0..<3 {
            let xs = (0..<4).map { Double(logits.scalars[row * 4 + $0]) }
            let lse = Foundation.log(xs.map { Foundation.exp($0) }.reduce(0, +))
            expected += lse - xs[labels[row]]
        }
        XCTAssertEqual(Double(crossEntropy(Variable(logits), labels: labels).value.item), expected / 3, accuracy: 1e-5)
    }

    /// The one-node cross-entropy has the composed graph's bits: loss, and the logits' gradient
    /// for several upstream gradients, on shapes down to one sample and one class, with logits
    /// spread wide enough that some exponentials underflow, and with an infinite or a NaN logit
    /// (a NaN loss has the composition's sign, which the divergence message prints; a NaN
    /// gradient, never applied, only has to be NaN).
    func testCrossEntropyHasTheComposedBits() {
        func bits(_ t: Tensor) -> [UInt32] { t.scalars.map(\.bitPattern) }
        func gradientBits(_ t: Tensor) -> [UInt32] { t.scalars.map { $0.isNaN ? Float.nan.bitPattern : $0.bitPattern } }
        var rng = RNG(seed: 41)
        for (batch, classes, spread) in [(64, 10, Float(1)), (7, 3, 60), (1, 5, 4), (3, 1, 1), (1, 1, 1)] {
            var logits = Tensor.randn([batch, classes], std: spread, seed: UInt64(batch * classes))
            let labels = (0..<batch).map { _ in rng.int(below: classes) }
            for special in [nil, -Float.infinity, .infinity, .nan] {
                if let special { logits.scalars[0] = special }
                for upstream: Float in [1, 0.37, -2.5] {
                    let fusedLeaf = Variable(logits, requiresGrad: true), composedLeaf = Variable(logits, requiresGrad: true)
                    let fused = crossEntropy(fusedLeaf, labels: labels), composed = composedCrossEntropy(composedLeaf, labels: labels)
                    XCTAssertEqual(bits(fused.value), bits(composed.value), "loss, \(batch)×\(classes)")
                    let seed = Variable(Tensor(upstream))
                    XCTAssertEqual(gradientBits(grad(of: fused, wrt: [fusedLeaf], seed: seed)[0].value),
                                   gradientBits(grad(of: composed, wrt: [composedLeaf], seed: seed)[0].value),
                                   "gradient, \(batch)×\(classes), upstream \(upstream), first logit \(String(describing: special))")
                }
            }
        }
    }

    /// Recorded backward (`createGraph`) runs the composition: the same gradient bits, and the
    /// second derivative against finite differences.
    func testCrossEntropySecondDerivative() {
        let logits = Tensor.randn([4, 5], seed: 42), labels = [0, 3, 4, 1]
        let leaf = Variable(logits, requiresGrad: true)
        let recorded = grad(of: crossEntropy(leaf, labels: labels), wrt: [leaf], createGraph: true)[0]
        XCTAssertTrue(recorded.requiresGrad)
        XCTAssertEqual(recorded.value.scalars.map(\.bitPattern),
                       grad(of: crossEntropy(leaf, labels: labels), wrt: [leaf])[0].value.scalars.map(\.bitPattern))
        checkSecondOrder(logits) { x in crossEntropy(x, labels: labels) }
    }

    func testFanOutAccumulates() {
        // y = x·x + x: dy/dx = 2x + 1, so reuse of a node must add, not overwrite.
        let x = awayFromZero([5], seed: 13)
        GradCheck.check([x]) { v in (v[0] * v[0] + v[0]).sum() }
    }

    func testUnrelatedInputGetsZeros() {
        let x = Variable(Tensor.ones([2]), requiresGrad: true), y = Variable(Tensor.ones([3]), requiresGrad: true)
        let g = grad(of: (x * x).sum(), wrt: [y])
        XCTAssertEqual(g[0].value, Tensor.zeros([3]))
    }

    func testPlainStepBuildsNoSecondOrderGraph() {
        let x = Variable(Tensor.randn([4], seed: 14), requiresGrad: true)
        let g = grad(of: (x * x).sum(), wrt: [x])
        XCTAssertFalse(g[0].requiresGrad, "without createGraph, gradients are constants")
        let h = grad(of: (x * x).sum(), wrt: [x], createGraph: true)
        XCTAssertTrue(h[0].requiresGrad)
    }

    func testDeepChainDoesNotOverflowTheStack() {
        let x = Variable(Tensor.ones([1]), requiresGrad: true)
        var y = x
        for _ in 0..<100_000 { y = y * 1.0 }
        XCTAssertEqual(grad(of: y.sum(), wrt: [x])[0].value.item, 1)
    }

    // MARK: Second order

    /// The gradient of ⟨v, ∇f(x)⟩ is the Hessian–vector product H·v; check it against finite
    /// differences of that directional derivative, for each primitive with a nonzero second
    /// derivative.
    func checkSecondOrder(_ x: Tensor, _ f: @escaping (Variable) -> Variable, file: StaticString = #filePath, line: UInt = #line) {
        let v = Variable(Tensor.randn(x.shape, seed: 77))
        GradCheck.check([x], file: file, line: line) { leaves in
            let g = grad(of: f(leaves[0]), wrt: [leaves[0]], createGraph: true)[0]
            return (g * v).sum()
        }
    }

    func testSecondDerivativesOfPrimitives() {
        let a = awayFromZero([2, 3], seed: 15), p = positive([2, 3], seed: 16)
        let w = weights([2, 3])
        checkSecondOrder(a) { x in (x * x * w).sum() }
        checkSecondOrder(a) { x in (x.exp() * w).sum() }
        checkSecondOrder(p) { x in (x.log() * w).sum() }
        checkSecondOrder(p) { x in ((Variable(Tensor(1)) / x) * w).sum() }
        checkSecondOrder(a) { x in (x.pow(3) * w).sum() }
        checkSecondOrder(a) { x in ((x * x).reluGated(by: Tensor.randn([2, 3], seed: 17)) * w).sum() }
        checkSecondOrder(a) { x in (x.logSoftmax() * w).sum() }
        checkSecondOrder(a) { x in (x.matmul(x, transB: true) * self.weights([2, 2])).sum() }
        checkSecondOrder(a) { x in (x.sum(axes: [1]) * x.mean(axes: [1])).sum() }
        checkSecondOrder(a) { x in (x.broadcast(to: [4, 2, 3]).permuted([2, 0, 1]).pow(2) * self.weights([3, 4, 2])).sum() }
    }

    /// GraSP's quantity: the Hessian of an MLP's cross-entropy times a vector, from double
    /// backward, against (∇L(w + h·v) − ∇L(w − h·v)) / 2h computed in Float64 bookkeeping.
    func testHessianVectorProductOfMLP() {
        let x = Variable(Tensor.randn([6, 5], seed: 20))
        let labels = [0, 1, 2, 1, 0, 2]
        let w1 = Tensor.randn([5, 4], std: 0.7, seed: 21), b1 = Tensor.randn([4], std: 0.1, seed: 22)
        let w2 = Tensor.randn([4, 3], std: 0.7, seed: 23)
        let params = [w1, b1, w2]
        let direction = params.enumerated().map { Tensor.randn($1.shape, seed: 30 + UInt64($0)) }

        func loss(_ p: [Variable]) -> Variable {
            // tanh-free smooth MLP: relu is piecewise linear, so use exp-based softplus for
            // a nonzero curvature in the hidden layer too.
            let h = (x.matmul(p[0]) + p[1])
            let softplus = (h.exp() + 1).log()
            return crossEntropy(softplus.matmul(p[2]), labels: labels)
        }

        let leaves = params.map { Variable($0, requiresGrad: true) }
        let g = grad(of: loss(leaves), wrt: leaves, createGraph: true)
        let dot = zip(g, direction).map { ($0 * Variable($1)).sum() }.reduce(Variable(Tensor(0)), +)
        let hv = grad(of: dot, wrt: leaves)

        func gradient(shiftedBy h: Float) -> [Tensor] {
            let shifted = zip(params, direction).map { Variable($0 + $1 * h, requiresGrad: true) }
            return grad(of: loss(shifted), wrt: shifted).map(\.value)
        }
        let h: Float = 1e-2
        let plus = gradient(shiftedBy: h), minus = gradient(shiftedBy: -h)
        for k in 0..<params.count {
            let numeric = zip(plus[k].scalars, minus[k].scalars).map { (Double($0) - Double($1)) / (2 * Double(h)) }
            assertClose(hv[k].value.scalars.map(Double.init), numeric, rtol: 2e-2, atol: 2e-3, "H·v block \(k)")
        }
        // And the product is not trivially zero.
        XCTAssertGreaterThan(hv[0].value.abs().sum().item, 1e-3)
    }

    /// `retainGraph: false` gives the same gradients and cuts the graph as it goes, so an
    /// activation nothing else holds is freed; by default the graph stays whole.
    func testReleasingTheGraphGivesTheSameGradientsAndFreesActivations() {
        let x = Variable(Tensor.randn([4, 3], seed: 1)), w = Variable(Tensor.randn([3, 5], seed: 2), requiresGrad: true)
        weak var hidden: Variable?
        func loss() -> Variable {
            let h = x.matmul(w).relu()
            hidden = h
            return (h * h).sum()
        }
        let retained = loss()
        let kept = grad(of: retained, wrt: [w])
        XCTAssertNotNil(hidden, "the graph is kept by default")
        let released = loss()
        let freed = grad(of: released, wrt: [w], retainGraph: false)
        XCTAssertNil(hidden, "the hidden activation outlived the backward pass")
        XCTAssertEqual(kept[0].value.scalars.map(\.bitPattern), freed[0].value.scalars.map(\.bitPattern))
        XCTAssertGreaterThan(freed[0].value.abs().sum().item, 0)
    }
}

import Foundation
