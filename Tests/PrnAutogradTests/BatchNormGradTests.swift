import XCTest
import PrnTestSupport
@testable import PrnKernel
@testable import PrnAutograd

/// The fused batch-norm primitive: first and second derivatives against finite differences, and
/// its kernels bit for bit against the composition of plain ops they replace, on 1 and 2 threads.
final class BatchNormGradTests: XCTestCase {
    static let epsilon: Float = 1e-5

    /// Inputs of rank 2 and 4, with channel means and spreads that differ.
    static func input(_ shape: [Int], seed: UInt64) -> Tensor {
        let channels = shape[1], plane = shape.dropFirst(2).reduce(1, *)
        let noise = Tensor.randn(shape, seed: seed)
        return Tensor(shape: shape, scalars: noise.scalars.enumerated().map { i, z in
            let c = (i / plane) % channels
            return z * (0.5 + Float(c)) + Float(c) - 1
        })
    }

    static func scale(_ channels: Int, seed: UInt64) -> Tensor { Tensor.rand([channels], low: 0.5, high: 1.5, seed: seed) }
    static func shift(_ channels: Int, seed: UInt64) -> Tensor { Tensor.randn([channels], std: 0.3, seed: seed) }
    static func variance(_ channels: Int, seed: UInt64) -> Tensor { Tensor.rand([channels], low: 0.5, high: 2, seed: seed) }

    /// `⟨y, r⟩ + ⟨y², s⟩` for fixed random `r`, `s`: every output weighs in, and the square makes
    /// the second derivative of the loss itself non-zero.
    static func loss(_ y: Variable, seed: UInt64) -> Variable {
        (y * Variable(Tensor.randn(y.shape, seed: seed))).sum()
            + (y * y * Variable(Tensor.rand(y.shape, low: 0.1, high: 0.5, seed: seed + 1))).sum()
    }

    static let shapes: [[Int]] = [[6, 3], [3, 2, 3, 4]]

    /// Channel sums (eight lanes, planes whose size is and is not a multiple of 8) against
    /// sums in Double, and their gradient.
    func testChannelSumsMatchDoubleSums() {
        for shape in [[5, 3], [4, 3, 5, 7], [2, 2, 4, 4]] {
            let x = Tensor.randn(shape, seed: 1)
            let channels = shape[1], plane = shape.dropFirst(2).reduce(1, *)
            var reference = [Double](repeating: 0, count: channels)
            for (i, v) in x.scalars.enumerated() { reference[(i / plane) % channels] += Double(v) }
            assertClose(x.channelSums().scalars.map(Double.init), reference, rtol: 1e-5, atol: 1e-5, "\(shape)")
            let perChannel = [1, channels] + [Int](repeating: 1, count: shape.count - 2)
            GradCheck.check([x]) { v in (v[0].channelSum() * Variable(Tensor.randn(perChannel, seed: 2))).sum() }
        }
    }

    func testTrainingGradientsMatchFiniteDifferences() {
        for (k, shape) in Self.shapes.enumerated() {
            let c = shape[1], seed = UInt64(10 * k)
            GradCheck.check([Self.input(shape, seed: seed), Self.scale(c, seed: seed + 1), Self.shift(c, seed: seed + 2)],
                            rtol: 3e-2, atol: 3e-3) { v in
                Self.loss(v[0].batchNorm(scale: v[1], shift: v[2], epsilon: Self.epsilon).output, seed: 5)
            }
        }
    }

    func testEvalGradientsMatchFiniteDifferences() {
        for (k, shape) in Self.shapes.enumerated() {
            let c = shape[1], seed = UInt64(10 * k)
            let mean = Tensor.randn([c], std: 0.3, seed: seed + 3), variance = Self.variance(c, seed: seed + 4)
            GradCheck.check([Self.input(shape, seed: seed), Self.scale(c, seed: seed + 1), Self.shift(c, seed: seed + 2)],
                            rtol: 3e-2, atol: 3e-3) { v in
                Self.loss(v[0].batchNorm(scale: v[1], shift: v[2], mean: mean, variance: variance, epsilon: Self.epsilon), seed: 6)
            }
        }
    }

    /// Double backward (GraSP's path) against central differences of the gradient along a
    /// direction, for x, γ and β together, with batch and with fixed statistics.
    func testHessianVectorProductsMatchFiniteDifferences() {
        for (k, shape) in Self.shapes.enumerated() {
            let c = shape[1], seed = UInt64(10 * k)
            let mean = Tensor.randn([c], std: 0.3, seed: seed + 3), variance = Self.variance(c, seed: seed + 4)
            let params = [Self.input(shape, seed: seed), Self.scale(c, seed: seed + 1), Self.shift(c, seed: seed + 2)]
            let directions = params.enumerated().map { Tensor.randn($1.shape, seed: seed + 20 + UInt64($0)) }
            let functions: [(String, ([Variable]) -> Variable)] = [
                ("batch statistics", { v in Self.loss(v[0].batchNorm(scale: v[1], shift: v[2], epsilon: Self.epsilon).output, seed: 7) }),
                ("fixed statistics", { v in
                    Self.loss(v[0].batchNorm(scale: v[1], shift: v[2], mean: mean, variance: variance, epsilon: Self.epsilon), seed: 8)
                }),
            ]
            for (name, f) in functions {
                let hv = ConvGradTests.hessianVectorProduct(params, directions, f)
                let h: Float = 1e-3
                let plus = ConvGradTests.gradient(at: params, directions, t: h, f)
                let minus = ConvGradTests.gradient(at: params, directions, t: -h, f)
                for (i, (a, b)) in zip(plus, minus).enumerated() {
                    assertClose(hv[i], (a - b) * (1 / (2 * h)), rtol: 3e-2, atol: 3e-3, "\(name), \(shape), Hv wrt input \(i)")
                }
                XCTAssertGreaterThan(hv[0].abs().max().item, 1e-2, "\(name): Hv wrt x should be non-trivial")
            }
        }
    }

    /// The forward is the composition `((x − μ)·(σ² + ε)^(−1/2))·γ + β` of plain tensor ops, the
    /// backward without a graph (kernels) equals the backward with one (plain ops), and both
    /// are the same on 1 and 2 threads — for a tensor large enough that every pass splits.
    func testFusedKernelsAreBitIdenticalToTheCompositionOnOneAndTwoThreads() {
        let shape = [8, 4, 48, 48], channels = 4
        let x = Self.input(shape, seed: 1), gamma = Self.scale(channels, seed: 2), beta = Self.shift(channels, seed: 3)
        let seedGradient = Tensor.randn(shape, seed: 4)
        let runningMean = Tensor.randn([channels], seed: 5), runningVariance = Self.variance(channels, seed: 6)
        XCTAssertGreaterThanOrEqual(x.count, 2 * Tensor.elementwiseGrain, "too small to split a reduction")
        let perChannel = [1, channels, 1, 1]

        func run(threads: Int, batchStatistics: Bool) -> [Tensor] {
            let saved = Parallel.threads
            Parallel.threads = threads
            defer { Parallel.threads = saved }
            var results: [Tensor] = []
            for createGraph in [false, true] {
                let leaves = [x, gamma, beta].map { Variable($0, requiresGrad: true) }
                let y = batchStatistics
                    ? leaves[0].batchNorm(scale: leaves[1], shift: leaves[2], epsilon: Self.epsilon).output
                    : leaves[0].batchNorm(scale: leaves[1], shift: leaves[2], mean: runningMean,
                                          variance: runningVariance, epsilon: Self.epsilon)
                if !createGraph { results.append(y.value) }
                results += grad(of: y, wrt: leaves, seed: Variable(seedGradient), createGraph: createGraph).map(\.value)
            }
            // The reference forward, from plain tensor ops and channel sums.
            let invN = 1 / Float(shape[0] * shape[2] * shape[3])
            let mean = batchStatistics ? (x.channelSums() * invN).reshaped(perChannel) : runningMean.reshaped(perChannel)
            let centered = x - mean
            let variance = batchStatistics ? ((centered * centered).channelSums() * invN).reshaped(perChannel)
                                           : runningVariance.reshaped(perChannel)
            results.append(centered * (variance + Self.epsilon).pow(-0.5) * gamma.reshaped(perChannel) + beta.reshaped(perChannel))
            return results
        }

        for batchStatistics in [true, false] {
            let one = run(threads: 1, batchStatistics: batchStatistics), two = run(threads: 2, batchStatistics: batchStatistics)
            let names = ["y", "dx", "dγ", "dβ", "dx (graph)", "dγ (graph)", "dβ (graph)", "y (composed)"]
            for (name, (a, b)) in zip(names, zip(one, two)) {
                XCTAssertEqual(a.scalars.map(\.bitPattern), b.scalars.map(\.bitPattern), "\(name) differs between 1 and 2 threads (batch statistics: \(batchStatistics))")
            }
            for (fused, composed) in [(0, 7), (1, 4), (2, 5), (3, 6)] {
                XCTAssertEqual(one[fused].scalars.map(\.bitPattern), one[composed].scalars.map(\.bitPattern),
                               "\(names[fused]) vs \(names[composed]) (batch statistics: \(batchStatistics))")
            }
        }
    }

    /// The fused ReLU's gate as bits (planes of a multiple of 16 scalars, with a residual or
    /// not, batch or fixed statistics) has bit `i` set exactly where `y[i] > 0`, on 1 and 2
    /// threads; planes of other sizes keep the output as the gate.
    func testReLUGateBitsAreThePositiveOutputs() {
        let shape = [8, 4, 48, 48], channels = 4
        XCTAssertGreaterThanOrEqual(Shape.count(shape), 2 * Tensor.elementwiseGrain, "too small to split a pass")
        let x = Self.input(shape, seed: 41), gamma = Self.scale(channels, seed: 42), beta = Self.shift(channels, seed: 43)
        let residual = Tensor.randn(shape, seed: 44)
        let mean = Tensor.randn([channels], std: 0.3, seed: 45), invStd = Self.variance(channels, seed: 46)
        for threads in [1, 2] {
            let saved = Parallel.threads
            Parallel.threads = threads
            defer { Parallel.threads = saved }
            for r: Tensor? in [nil, residual] {
                let batch = x.batchNormalized(scale: gamma, shift: beta, epsilon: Self.epsilon, relu: true, adding: r)
                let fixed = x.batchNormalized(mean: mean, invStd: invStd, scale: gamma, shift: beta, relu: true, adding: r)
                let outputs: [(Tensor, ReLUGate?)] = [(batch.output, batch.gate), (fixed.output, fixed.gate)]
                for (y, gate) in outputs {
                    guard case .bits(let bits)? = gate else { return XCTFail("planes of 48 × 48 should give bits") }
                    let set = (0..<y.count).map { bits[$0 / 8] >> ($0 % 8) & 1 == 1 }
                    XCTAssertEqual(set, y.scalars.map { $0 > 0 }, "\(threads) threads, residual \(r != nil)")
                    XCTAssertTrue(set.contains(true) && set.contains(false), "the ReLU should act")
                }
            }
        }
        let odd = Self.input([2, 3, 5, 6], seed: 47), oddScale = Self.scale(3, seed: 48), oddShift = Self.shift(3, seed: 49)
        let gated = odd.batchNormalized(scale: oddScale, shift: oddShift, epsilon: Self.epsilon, relu: true).gate
        guard case .output? = gated else { return XCTFail("planes of 30 scalars should gate by the output") }
        XCTAssertNil(odd.batchNormalized(scale: oddScale, shift: oddShift, epsilon: Self.epsilon).gate)
    }

    /// Batch norm with `relu` is the primitive followed by `relu()`, bit for bit: output and
    /// gradients, with and without a recorded backward, batch and fixed statistics, for planes
    /// whose gate is the output (5 × 6) and bits (4 × 8).
    func testFusedReLUIsBitIdenticalToBatchNormThenReLU() {
        for shape in [[4, 3, 5, 6], [4, 3, 4, 8]] {
            let channels = 3
            let x = Self.input(shape, seed: 11), gamma = Self.scale(channels, seed: 12), beta = Self.shift(channels, seed: 13)
            let seedGradient = Tensor.randn(shape, seed: 14)
            let mean = Tensor.randn([channels], std: 0.3, seed: 15), variance = Self.variance(channels, seed: 16)
            for batchStatistics in [true, false] {
                for createGraph in [false, true] {
                    func run(fused: Bool) -> [Tensor] {
                        let v = [x, gamma, beta].map { Variable($0, requiresGrad: true) }
                        let norm = { (relu: Bool) in
                            batchStatistics
                                ? v[0].batchNorm(scale: v[1], shift: v[2], epsilon: Self.epsilon, relu: relu).output
                                : v[0].batchNorm(scale: v[1], shift: v[2], mean: mean, variance: variance, epsilon: Self.epsilon, relu: relu)
                        }
                        let y = fused ? norm(true) : norm(false).relu()
                        return [y.value] + grad(of: y, wrt: v, seed: Variable(seedGradient), createGraph: createGraph).map(\.value)
                    }
                    let fused = run(fused: true), unfused = run(fused: false)
                    XCTAssertTrue(fused[0].scalars.contains(0) && fused[0].scalars.contains { $0 > 0 }, "the ReLU should act")
                    for (i, (a, b)) in zip(fused, unfused).enumerated() {
                        XCTAssertEqual(a.scalars.map(\.bitPattern), b.scalars.map(\.bitPattern),
                                       "result \(i), shape \(shape), batch statistics \(batchStatistics), createGraph \(createGraph)")
                    }
                }
            }
        }
    }
}
