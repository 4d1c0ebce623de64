import XCTest
import PrnTestSupport
@testable import PrnKernel

/// Elementwise ops, broadcasting, reductions, layout and softmax against numpy.
final class TensorOpsTests: XCTestCase {
    let numpy = NumpyChecks()

    override func setUpWithError() throws { try Python.require(["numpy"]) }

    override func tearDownWithError() throws { try numpy.verify() }

    func assertMatchesNumpy(_ t: Tensor, _ expression: String, _ arrays: [String: Tensor], rtol: Double = 1e-5, atol: Double = 1e-6,
                            file: StaticString = #filePath, line: UInt = #line) {
        numpy.expect(t, expression, arrays, rtol: rtol, atol: atol, file: file, line: line)
    }

    func testBroadcastingBinaryOps() throws {
        let shapes: [([Int], [Int])] = [([3, 4], [3, 4]), ([3, 4], [4]), ([3, 1], [1, 4]), ([2, 3, 4], [3, 1]),
                                        ([1], [2, 3]), ([], [2, 2]), ([2, 1, 3], [4, 1]), ([5, 1, 1, 2], [3, 2])]
        for (i, (sa, sb)) in shapes.enumerated() {
            let a = Tensor.randn(sa, seed: UInt64(i)), b = Tensor.rand(sb, low: 0.5, high: 2, seed: UInt64(100 + i))
            let env = ["a": a, "b": b]
            assertMatchesNumpy(a + b, "a + b", env)
            assertMatchesNumpy(a - b, "a - b", env)
            assertMatchesNumpy(a * b, "a * b", env)
            assertMatchesNumpy(a / b, "a / b", env)
            assertMatchesNumpy(b - a, "b - a", env)
        }
    }

    func testBroadcastToAndSumTo() throws {
        let a = Tensor.randn([3, 1, 2], seed: 1)
        let wide = a.broadcast(to: [4, 3, 5, 2])
        assertMatchesNumpy(wide, "np.broadcast_to(a, (4, 3, 5, 2))", ["a": a])
        assertMatchesNumpy(wide.sum(to: [3, 1, 2]), "np.broadcast_to(a, (4, 3, 5, 2)).sum(axis=(0, 2)).reshape(3, 1, 2)", ["a": a], rtol: 1e-5)
    }

    /// A bias's broadcast and its gradient (leading axes summed away) take row-wise fast paths;
    /// they must give the general paths' numbers bit for bit, since results may not depend on
    /// which path ran.
    func testRowBroadcastAndLeadingSumMatchTheGeneralPaths() throws {
        for (shape, target) in [([64, 300], [300]), ([7, 5], [1, 5]), ([2, 3, 4], [4]), ([2, 3, 4], [3, 4]), ([0, 3], [3])] {
            let a = Tensor.randn(shape, seed: 3) * 1000, b = Tensor.randn(target, seed: 4)
            XCTAssertEqual((a + b).scalars.map(\.bitPattern), (a + b.broadcast(to: shape)).scalars.map(\.bitPattern), "\(shape) + \(target)")
            let leading = Array(0..<(shape.count - target.count + (target.first == 1 ? 1 : 0)))
            XCTAssertEqual(a.sum(to: target).scalars.map(\.bitPattern), a.sum(axes: leading).scalars.map(\.bitPattern),
                           "\(shape) summed to \(target)")
        }
        assertMatchesNumpy(Tensor.randn([9, 6], seed: 5).sum(to: [6]), "a.sum(axis=0)", ["a": Tensor.randn([9, 6], seed: 5)], rtol: 1e-5)
    }

    func testUnaryFunctions() throws {
        let a = Tensor.randn([4, 5], seed: 2), p = Tensor.rand([4, 5], low: 0.1, high: 3, seed: 3)
        assertMatchesNumpy(a.exp(), "np.exp(a)", ["a": a])
        assertMatchesNumpy(p.log(), "np.log(p)", ["p": p])
        assertMatchesNumpy(p.sqrt(), "np.sqrt(p)", ["p": p])
        assertMatchesNumpy(a.relu(), "np.maximum(a, 0)", ["a": a])
        assertMatchesNumpy(a.abs(), "np.abs(a)", ["a": a])
        assertMatchesNumpy(p.pow(1.5), "p ** 1.5", ["p": p])
        assertMatchesNumpy(a.pow(2), "a ** 2", ["a": a])
        assertMatchesNumpy(-a * 2 + 1, "-a * 2 + 1", ["a": a])
    }

    func testReductions() throws {
        let a = Tensor.randn([3, 4, 5], seed: 4)
        let env = ["a": a]
        assertMatchesNumpy(a.sum(), "a.sum()", env, rtol: 1e-5, atol: 1e-5)
        assertMatchesNumpy(a.sum(axes: [1]), "a.sum(axis=1)", env, atol: 1e-5)
        assertMatchesNumpy(a.sum(axes: [0, 2], keepDims: true), "a.sum(axis=(0, 2), keepdims=True)", env, atol: 1e-5)
        assertMatchesNumpy(a.sum(axes: [-1]), "a.sum(axis=-1)", env, atol: 1e-5)
        assertMatchesNumpy(a.mean(axes: [0]), "a.mean(axis=0)", env, atol: 1e-6)
        assertMatchesNumpy(a.max(axes: [2]), "a.max(axis=2)", env)
        assertMatchesNumpy(a.max(axes: [0, 1], keepDims: true), "a.max(axis=(0, 1), keepdims=True)", env)
        let rows = Tensor.randn([6, 7], seed: 5)
        let reference = try Numpy.evaluate("np.argmax(a, axis=1)", ["a": rows])
        XCTAssertEqual(rows.argmaxLastAxis(), reference.values.map { Int($0) })
    }

    func testPermuteAndTranspose() throws {
        let a = Tensor.randn([2, 3, 4, 5], seed: 6)
        assertMatchesNumpy(a.permuted([3, 1, 0, 2]), "a.transpose(3, 1, 0, 2)", ["a": a])
        // Blocks of 8 × 8 move through registers; the edges around them element by element.
        for shape in [[3, 7], [8, 8], [16, 16], [35, 50], [64, 784]] {
            let m = Tensor.randn(shape, seed: 7)
            assertMatchesNumpy(m.transposed(), "m.T", ["m": m])
        }
    }

    func testSoftmax() throws {
        // Large logits check stability: a naive exp would overflow.
        let a = Tensor.randn([4, 6], seed: 8) * 40
        assertMatchesNumpy(a.logSoftmaxLastAxis(),
                               "(a - a.max(axis=1, keepdims=True)) - np.log(np.exp(a - a.max(axis=1, keepdims=True)).sum(axis=1, keepdims=True))",
                               ["a": a], rtol: 1e-5, atol: 1e-4)
        let s = a.softmaxLastAxis().sum(axes: [1])
        for v in s.scalars { XCTAssertEqual(v, 1, accuracy: 1e-5) }
    }

    func testMatmulMatchesNumpy() throws {
        let a = Tensor.randn([17, 9], seed: 9), b = Tensor.randn([9, 13], seed: 10)
        assertMatchesNumpy(a.matmul(b), "a @ b", ["a": a, "b": b], rtol: 1e-4, atol: 1e-4)
        let c = Tensor.randn([13, 9], seed: 11)
        assertMatchesNumpy(a.matmul(c, transB: true), "a @ c.T", ["a": a, "c": c], rtol: 1e-4, atol: 1e-4)
        assertMatchesNumpy(a.matmul(a, transA: true), "a.T @ a", ["a": a], rtol: 1e-4, atol: 1e-4)
    }

}

/// Shape checks and printing, which need no reference.
final class TensorShapeTests: XCTestCase {
    func testShapeValidatorsThrowInsteadOfTrapping() {
        XCTAssertThrowsError(try Shape.broadcast([3, 4], [5]))
        XCTAssertThrowsError(try Shape.matmul([3, 4], [5, 6]))
        XCTAssertThrowsError(try Shape.matmul([3], [3, 6]))
        XCTAssertThrowsError(try Shape.checkedCount([Int.max / 2, 4]))
        XCTAssertThrowsError(try Shape.checkedCount([-1, 4]))
        XCTAssertThrowsError(try Shape.axes([3], rank: 3))
        XCTAssertEqual(try Shape.axes([-1], rank: 3), [2])
        XCTAssertEqual(try Shape.broadcast([2, 1, 3], [4, 1]), [2, 4, 3])
    }

    func testFormatting() {
        XCTAssertEqual(Tensor(shape: [2, 2], scalars: [1, 2, 3, 4.5]).description, "[[1., 2.],\n [3., 4.5]]")
        XCTAssertEqual(Tensor.arange(10).description, "[0., 1., 2., …, 7., 8., 9.]")
        XCTAssertEqual(Tensor(2.5).description, "2.5")
    }
}
