import XCTest
import PrnTestSupport
@testable import PrnKernel
@testable import PrnAutograd

/// The sparse linear primitives against central finite differences (first and second order) and
/// against the dense masked product they replace.
final class SparseGradTests: XCTestCase {
    static let batch = 3, outputs = 4, inputs = 5

    /// Keeps about half the weights; row 0 keeps none and row 1 exactly one.
    static let mask: Tensor = {
        var keep = Tensor.rand([outputs, inputs], seed: 5).scalars.map { Float($0 < 0.5 ? 1 : 0) }
        for i in 0..<inputs { keep[i] = 0; keep[inputs + i] = i == 2 ? 1 : 0 }
        return Tensor(shape: [outputs, inputs], scalars: keep)
    }()
    static let topology = SparseTopology(mask: mask)

    static func probe(_ out: Variable, seed: UInt64) -> Variable {
        (out * Variable(Tensor.randn(out.shape, seed: seed))).sum()
    }

    func testSparseLinearGradients() {
        let x = Tensor.randn([Self.batch, Self.inputs], seed: 1), w = Tensor.randn([Self.outputs, Self.inputs], seed: 2)
        GradCheck.check([x, w]) { v in Self.probe(v[0].sparseLinear(v[1], Self.topology), seed: 7) }
    }

    func testSparseLinearInputGradGradients() {
        let g = Tensor.randn([Self.batch, Self.outputs], seed: 3), w = Tensor.randn([Self.outputs, Self.inputs], seed: 4)
        GradCheck.check([g, w]) { v in Self.probe(Variable.sparseLinearInputGrad(v[0], v[1], Self.topology), seed: 8) }
    }

    func testSparseLinearWeightGradGradients() {
        let x = Tensor.randn([Self.batch, Self.inputs], seed: 5), g = Tensor.randn([Self.batch, Self.outputs], seed: 6)
        GradCheck.check([x, g]) { v in
            Self.probe(Variable.sparseLinearWeightGrad(v[0], v[1], Self.topology, weightShape: [Self.outputs, Self.inputs]), seed: 9)
        }
    }

    /// `sparseLinear(_:_:bias:relu:)`, one node, against `sparseLinear` then `addingChannelBias`
    /// bit for bit: the value, the gradients of all three inputs, and a Hessian–vector product
    /// through double backward; with and without ReLU, dense and compact weights, and a topology
    /// whose used rows are few enough for the one-pass placement (`UsedPart`: 2 of 12 rows) as
    /// well as one whose are not. An empty row's bias is −0, where `+0 + b` is +0 and `b` is not.
    /// Against finite differences too (first order, without the ReLU's kink).
    func testSparseLinearWithBiasIsTheComposition() {
        var few = [Float](repeating: 0, count: 12 * Self.inputs)
        for (r, c) in [(3, 0), (3, 2), (3, 4), (8, 1)] { few[r * Self.inputs + c] = 1 }
        let fewRows = SparseTopology(mask: Tensor(shape: [12, Self.inputs], scalars: few))
        XCTAssertEqual(fewRows.usedPart?.rowsReduced, true)
        XCTAssertNil(Self.topology.usedPart)
        for topology in [Self.topology, fewRows] {
            let rows = topology.rows
            var bias = Tensor.randn([rows], seed: 14)
            bias.scalars[0] = -0.0  // row 0 keeps no weight in both topologies
            let x = Tensor.randn([Self.batch, Self.inputs], seed: 15)
            let dense = Tensor.randn([rows, Self.inputs], seed: 16)
            for (w, relu) in [(dense, true), (dense, false), (topology.compact(dense), true)] {
                func fused(_ p: [Variable]) -> Variable { p[0].sparseLinear(p[1], topology, bias: p[2], relu: relu) }
                func composed(_ p: [Variable]) -> Variable { p[0].sparseLinear(p[1], topology).addingChannelBias(p[2], relu: relu) }
                let params = [x, w, bias]
                let leaves = params.map { Variable($0, requiresGrad: true) }
                let (a, b) = (fused(leaves), composed(leaves))
                XCTAssertEqual(a.value.shape, b.value.shape)
                XCTAssertEqual(a.value.scalars.map(\.bitPattern), b.value.scalars.map(\.bitPattern), "value, relu \(relu)")
                XCTAssertEqual(a.value.scalars[0].bitPattern, Float(0).bitPattern, "row 0 of sample 0: +0 + (−0)")
                let seed = Variable(Tensor.randn(a.shape, seed: 17))
                let (ga, gb) = (grad(of: a, wrt: leaves, seed: seed), grad(of: b, wrt: leaves, seed: seed))
                for k in 0..<3 {
                    XCTAssertEqual(ga[k].value.scalars.map(\.bitPattern), gb[k].value.scalars.map(\.bitPattern), "gradient \(k), relu \(relu)")
                }
                let directions = params.enumerated().map { Tensor.randn($1.shape, seed: UInt64(30 + $0)) }
                func loss(_ net: @escaping ([Variable]) -> Variable) -> ([Variable]) -> Variable {
                    { p in crossEntropy(net(p), labels: (0..<Self.batch).map { $0 % rows }) }
                }
                let hvFused = Self.hessianVectorProduct(params, directions, loss(fused))
                let hvComposed = Self.hessianVectorProduct(params, directions, loss(composed))
                for k in 0..<3 {
                    XCTAssertEqual(hvFused[k].scalars.map(\.bitPattern), hvComposed[k].scalars.map(\.bitPattern), "Hv \(k), relu \(relu)")
                }
                XCTAssertTrue(hvFused[1].abs().max().item > 0, "the weight's Hv block is not trivially zero")
                if !relu { GradCheck.check(params) { v in Self.probe(fused(v), seed: 18) } }
            }
        }
    }

    /// A compact weight (its kept values only, as training binds it) against finite differences,
    /// through all three ops; the weight gradient comes compact.
    func testCompactWeightGradients() {
        let x = Tensor.randn([Self.batch, Self.inputs], seed: 1), g = Tensor.randn([Self.batch, Self.outputs], seed: 3)
        let w = Self.topology.compact(Tensor.randn([Self.outputs, Self.inputs], seed: 2))
        GradCheck.check([x, w]) { v in Self.probe(v[0].sparseLinear(v[1], Self.topology), seed: 7) }
        GradCheck.check([g, w]) { v in Self.probe(Variable.sparseLinearInputGrad(v[0], v[1], Self.topology), seed: 8) }
        GradCheck.check([x, g]) { v in
            Self.probe(Variable.sparseLinearWeightGrad(v[0], v[1], Self.topology, weightShape: w.shape), seed: 9)
        }
        let convX = Tensor.randn(Self.convInput, seed: 4)
        let convW = Self.convTopology.compact(Tensor.randn([3, 2, 3, 3], seed: 5))
        GradCheck.check([convX, convW]) { v in Self.probe(v[0].sparseConv2d(v[1], Self.convTopology, stride: 2, padding: 1), seed: 10) }
    }

    /// A two-layer net with a curved activation, `ce(softplus(x·P(w1)ᵀ)·P(w2)ᵀ)`: the
    /// Hessian–vector product by double backward through the sparse ops, against central
    /// differences of the gradient, and against the same product through the dense masked path.
    func testHessianVectorProductMatchesFiniteDifferencesAndDensePath() {
        let mask2 = Tensor(shape: [3, Self.outputs], scalars: [1, 0, 1, 1, 0, 0, 0, 0, 1, 1, 0, 1])
        let topology2 = SparseTopology(mask: mask2)
        let labels = [0, 2, 1]
        func sparseNet(_ p: [Variable]) -> Variable {
            let h = (p[0].sparseLinear(p[1], Self.topology).exp() + 1).log()
            return crossEntropy(h.sparseLinear(p[2], topology2), labels: labels)
        }
        func denseNet(_ p: [Variable]) -> Variable {
            let h = (p[0].matmul(p[1] * Variable(Self.mask), transB: true).exp() + 1).log()
            return crossEntropy(h.matmul(p[2] * Variable(mask2), transB: true), labels: labels)
        }
        let params = [Tensor.randn([Self.batch, Self.inputs], seed: 11), Tensor.randn([Self.outputs, Self.inputs], seed: 12),
                      Tensor.randn([3, Self.outputs], seed: 13)]
        let directions = params.enumerated().map { Tensor.randn($1.shape, seed: UInt64(20 + $0)) }
        let hv = Self.hessianVectorProduct(params, directions, sparseNet)
        let dense = Self.hessianVectorProduct(params, directions, denseNet)
        let h: Float = 1e-3
        let plus = Self.gradient(at: params, directions, t: h, sparseNet)
        let minus = Self.gradient(at: params, directions, t: -h, sparseNet)
        for k in 0..<params.count {
            assertClose(hv[k], (plus[k] - minus[k]) * (1 / (2 * h)), rtol: 2e-2, atol: 2e-3, "Hv wrt parameter \(k)")
            assertClose(hv[k], dense[k], rtol: 1e-5, atol: 1e-6, "Hv sparse vs dense, parameter \(k)")
        }
        XCTAssertTrue(hv.allSatisfy { $0.abs().max().item > 1e-2 }, "every block of Hv should be non-trivial")
        // Off the kept positions the sparse gradients are exactly zero.
        for (k, m) in [(1, Self.mask), (2, mask2)] {
            XCTAssertTrue(zip(hv[k].scalars, m.scalars).allSatisfy { $1 != 0 || $0 == 0 }, "Hv off the mask, parameter \(k)")
        }
    }

    // MARK: Convolution

    /// Weight [3, 2, 3, 3] with about half its weights kept; output channel 0 keeps none.
    static let convMask: Tensor = {
        var keep = Tensor.rand([3, 2, 3, 3], seed: 6).scalars.map { Float($0 < 0.5 ? 1 : 0) }
        for i in 0..<18 { keep[i] = 0 }
        return Tensor(shape: [3, 2, 3, 3], scalars: keep)
    }()
    static let convTopology = SparseTopology(mask: convMask)
    static let convInput = [2, 2, 5, 5], convOutput = [2, 3, 3, 3]   // stride 2, padding 1

    func testSparseConvGradients() {
        let x = Tensor.randn(Self.convInput, seed: 1), w = Tensor.randn([3, 2, 3, 3], seed: 2)
        GradCheck.check([x, w]) { v in Self.probe(v[0].sparseConv2d(v[1], Self.convTopology, stride: 2, padding: 1), seed: 7) }
    }

    func testSparseConvInputGradGradients() {
        let g = Tensor.randn(Self.convOutput, seed: 3), w = Tensor.randn([3, 2, 3, 3], seed: 4)
        GradCheck.check([g, w]) { v in
            Self.probe(Variable.sparseConv2dInputGrad(v[0], v[1], Self.convTopology, inputShape: Self.convInput,
                                                      stride: 2, padding: 1), seed: 8)
        }
    }

    func testSparseConvWeightGradGradients() {
        let x = Tensor.randn(Self.convInput, seed: 5), g = Tensor.randn(Self.convOutput, seed: 6)
        GradCheck.check([x, g]) { v in
            Self.probe(Variable.sparseConv2dWeightGrad(v[0], v[1], Self.convTopology, weightShape: [3, 2, 3, 3],
                                                       stride: 2, padding: 1), seed: 9)
        }
    }

    /// `ce(softplus(conv(x, P(w))) · v)`: double backward against finite differences and the
    /// dense masked path.
    func testConvHessianVectorProduct() {
        func net(_ p: [Variable], sparse: Bool) -> Variable {
            let z = sparse ? p[0].sparseConv2d(p[1], Self.convTopology, stride: 2, padding: 1)
                           : p[0].conv2d(p[1] * Variable(Self.convMask), stride: 2, padding: 1)
            return crossEntropy((z.exp() + 1).log().reshaped([2, 27]).matmul(p[2]), labels: [1, 2])
        }
        let params = [Tensor.randn(Self.convInput, seed: 31), Tensor.randn([3, 2, 3, 3], std: 0.5, seed: 32),
                      Tensor.randn([27, 4], std: 0.5, seed: 33)]
        let directions = params.enumerated().map { Tensor.randn($1.shape, seed: UInt64(40 + $0)) }
        let hv = Self.hessianVectorProduct(params, directions) { net($0, sparse: true) }
        let dense = Self.hessianVectorProduct(params, directions) { net($0, sparse: false) }
        let h: Float = 1e-3
        let plus = Self.gradient(at: params, directions, t: h) { net($0, sparse: true) }
        let minus = Self.gradient(at: params, directions, t: -h) { net($0, sparse: true) }
        for k in 0..<params.count {
            assertClose(hv[k], (plus[k] - minus[k]) * (1 / (2 * h)), rtol: 2e-2, atol: 2e-3, "Hv wrt parameter \(k)")
            assertClose(hv[k], dense[k], rtol: 1e-5, atol: 1e-6, "Hv sparse vs dense, parameter \(k)")
        }
        XCTAssertTrue(hv.allSatisfy { $0.abs().max().item > 1e-2 }, "every block of Hv should be non-trivial")
    }

    /// A compact weight expanded to its dense form (what a layer bound compact runs a dense
    /// product on): the values land at the kept positions among exact zeros, its gradient and
    /// the Hessian–vector product of a net through it match finite differences and the dense
    /// masked weight (`w ⊙ mask`), and gathering inverts expanding.
    func testExpandedCompactWeight() {
        let dense = Tensor.randn([3, 2, 3, 3], std: 0.5, seed: 50)
        let compact = Self.convTopology.compact(dense)
        let expanded = Variable(compact).sparseExpanded(Self.convTopology).value
        XCTAssertEqual(expanded.shape, [3, 2, 3, 3])
        for i in 0..<dense.count {
            XCTAssertEqual(expanded.scalars[i].bitPattern, Self.convMask.scalars[i] == 0 ? Float(0).bitPattern : dense.scalars[i].bitPattern, "entry \(i)")
        }
        XCTAssertEqual(Variable(expanded).sparseGathered(Self.convTopology).value.scalars.map(\.bitPattern), compact.scalars.map(\.bitPattern))
        GradCheck.check([Tensor.randn(Self.convInput, seed: 51), compact]) { v in
            Self.probe(v[0].conv2d(v[1].sparseExpanded(Self.convTopology), stride: 2, padding: 1), seed: 52)
        }
        GradCheck.check([expanded]) { v in Self.probe(v[0].sparseGathered(Self.convTopology), seed: 53) }
        func net(_ p: [Variable], compact: Bool) -> Variable {
            let w = compact ? p[1].sparseExpanded(Self.convTopology) : p[1] * Variable(Self.convMask)
            let z = p[0].conv2d(w, stride: 2, padding: 1)
            return crossEntropy((z.exp() + 1).log().reshaped([2, 27]).matmul(p[2]), labels: [1, 2])
        }
        let x = Tensor.randn(Self.convInput, seed: 54), head = Tensor.randn([27, 4], std: 0.5, seed: 55)
        let directions = [Tensor.randn(Self.convInput, seed: 56), Tensor.randn([Self.convTopology.count], seed: 57),
                          Tensor.randn([27, 4], seed: 58)]
        let hv = Self.hessianVectorProduct([x, compact, head], directions) { net($0, compact: true) }
        let h: Float = 1e-3
        let plus = Self.gradient(at: [x, compact, head], directions, t: h) { net($0, compact: true) }
        let minus = Self.gradient(at: [x, compact, head], directions, t: -h) { net($0, compact: true) }
        let denseDirections = [directions[0], Variable(directions[1]).sparseExpanded(Self.convTopology).value, directions[2]]
        let viaDense = Self.hessianVectorProduct([x, dense, head], denseDirections) { net($0, compact: false) }
        for k in 0..<3 {
            assertClose(hv[k], (plus[k] - minus[k]) * (1 / (2 * h)), rtol: 2e-2, atol: 2e-3, "Hv wrt parameter \(k)")
            let reference = k == 1 ? Self.convTopology.compact(viaDense[1]) : viaDense[k]
            assertClose(hv[k], reference, rtol: 1e-5, atol: 1e-6, "Hv compact vs dense masked, parameter \(k)")
        }
        XCTAssertTrue(hv.allSatisfy { $0.abs().max().item > 1e-2 }, "every block of Hv should be non-trivial")
    }

    /// `∇_p ⟨stopgrad(v), ∇_p f⟩`.
    static func hessianVectorProduct(_ params: [Tensor], _ directions: [Tensor], _ f: ([Variable]) -> Variable) -> [Tensor] {
        let leaves = params.map { Variable($0, requiresGrad: true) }
        let g = grad(of: f(leaves), wrt: leaves, createGraph: true)
        let inner = zip(g, directions).map { ($0 * Variable($1)).sum() }.reduce(Variable(Tensor(0)), +)
        return grad(of: inner, wrt: leaves).map(\.value)
    }

    static func gradient(at params: [Tensor], _ directions: [Tensor], t: Float, _ f: ([Variable]) -> Variable) -> [Tensor] {
        let leaves = zip(params, directions).map { Variable($0 + $1 * t, requiresGrad: true) }
        return grad(of: f(leaves), wrt: leaves).map(\.value)
    }
}
