import XCTest
import PrnTestSupport
@testable import PrnKernel
@testable import PrnAutograd

/// Batch norm with a residual added before its ReLU (`relu(bn(x) + r)`, the end of a residual
/// block): first and second derivatives against finite differences, and bit identity with the
/// composition `(bn(x) + r).relu()` on 1 and 2 threads.
final class BatchNormResidualGradTests: XCTestCase {
    typealias Norm = BatchNormGradTests
    static let epsilon = Norm.epsilon

    /// A residual that puts `bn(x) + r` at least 0.2 away from the ReLU's kink (for the given
    /// statistics), so finite steps of x, γ, β or r do not cross it.
    static func residual(for x: Tensor, scale: Tensor, shift: Tensor, statistics: (mean: Tensor, variance: Tensor)?,
                         seed: UInt64) -> Tensor {
        let y = GradMode.with(enabled: false) {
            let v = [x, scale, shift].map { Variable($0) }
            guard let statistics else { return v[0].batchNorm(scale: v[1], shift: v[2], epsilon: epsilon).output.value }
            return v[0].batchNorm(scale: v[1], shift: v[2], mean: statistics.mean, variance: statistics.variance,
                                  epsilon: epsilon).value
        }
        let z = Tensor.randn(x.shape, seed: seed)
        return Tensor(shape: x.shape, scalars: zip(z.scalars, y.scalars).map { z, y in z + (z >= 0 ? 0.2 : -0.2) - y })
    }

    /// `relu(bn(x) + r)` (`relu(bn(x))` without `residual`) with batch statistics, or with fixed ones.
    static func block(_ v: [Variable], statistics: (mean: Tensor, variance: Tensor)?, residual: Bool = true) -> Variable {
        let r = residual ? v[3] : nil
        guard let statistics else {
            return v[0].batchNorm(scale: v[1], shift: v[2], epsilon: epsilon, relu: true, adding: r).output
        }
        return v[0].batchNorm(scale: v[1], shift: v[2], mean: statistics.mean, variance: statistics.variance,
                              epsilon: epsilon, relu: true, adding: r)
    }

    /// x, γ, β and r, for both kinds of statistics (nil: the batch's).
    static func cases(_ shape: [Int], seed: UInt64) -> [(statistics: (mean: Tensor, variance: Tensor)?, params: [Tensor])] {
        let c = shape[1]
        let x = Norm.input(shape, seed: seed), gamma = Norm.scale(c, seed: seed + 1), beta = Norm.shift(c, seed: seed + 2)
        let fixed = (mean: Tensor.randn([c], std: 0.3, seed: seed + 3), variance: Norm.variance(c, seed: seed + 4))
        return [nil, fixed].map { statistics in
            (statistics, [x, gamma, beta, residual(for: x, scale: gamma, shift: beta, statistics: statistics, seed: seed + 5)])
        }
    }

    func testGradientsMatchFiniteDifferences() {
        for (k, shape) in Norm.shapes.enumerated() {
            for (statistics, params) in Self.cases(shape, seed: UInt64(10 * k)) {
                GradCheck.check(params, rtol: 3e-2, atol: 3e-3) { v in
                    Norm.loss(Self.block(v, statistics: statistics), seed: 9)
                }
            }
        }
    }

    /// Double backward against central differences of the gradient along a direction, for x, γ,
    /// β and r together.
    func testHessianVectorProductsMatchFiniteDifferences() {
        for (k, shape) in Norm.shapes.enumerated() {
            for (statistics, params) in Self.cases(shape, seed: UInt64(10 * k + 100)) {
                let directions = params.enumerated().map { Tensor.randn($1.shape, seed: 40 + UInt64($0)) }
                let f = { (v: [Variable]) in Norm.loss(Self.block(v, statistics: statistics), seed: 11) }
                let hv = ConvGradTests.hessianVectorProduct(params, directions, f)
                let h: Float = 1e-3
                let plus = ConvGradTests.gradient(at: params, directions, t: h, f)
                let minus = ConvGradTests.gradient(at: params, directions, t: -h, f)
                for (i, (a, b)) in zip(plus, minus).enumerated() {
                    assertClose(hv[i], (a - b) * (1 / (2 * h)), rtol: 3e-2, atol: 3e-3,
                                "\(shape), batch statistics \(statistics == nil), Hv wrt input \(i)")
                }
                XCTAssertGreaterThan(hv[3].abs().max().item, 1e-2, "Hv wrt r should be non-trivial")
            }
        }
    }

    /// Output and gradients of x, γ, β and r, with and without a recorded backward, equal those of
    /// `(bn(x) + r).relu()` bit for bit, on 1 and 2 threads, for a tensor large enough that every
    /// pass splits.
    func testBitIdenticalToTheCompositionOnOneAndTwoThreads() {
        let shape = [8, 4, 48, 48]
        XCTAssertGreaterThanOrEqual(Shape.count(shape), 2 * Tensor.elementwiseGrain, "too small to split a pass")
        let seedGradient = Tensor.randn(shape, seed: 30)
        for (statistics, params) in Self.cases(shape, seed: 20) {
            for createGraph in [false, true] {
                func run(threads: Int, fused: Bool) -> [Tensor] {
                    let saved = Parallel.threads
                    Parallel.threads = threads
                    defer { Parallel.threads = saved }
                    let v = params.map { Variable($0, requiresGrad: true) }
                    let y: Variable
                    if fused {
                        y = Self.block(v, statistics: statistics)
                    } else if let statistics {
                        y = (v[0].batchNorm(scale: v[1], shift: v[2], mean: statistics.mean, variance: statistics.variance,
                                            epsilon: Self.epsilon) + v[3]).relu()
                    } else {
                        y = (v[0].batchNorm(scale: v[1], shift: v[2], epsilon: Self.epsilon).output + v[3]).relu()
                    }
                    return [y.value] + grad(of: y, wrt: v, seed: Variable(seedGradient), createGraph: createGraph).map(\.value)
                }
                let reference = run(threads: 1, fused: false)
                XCTAssertTrue(reference[0].scalars.contains(0) && reference[0].scalars.contains { $0 > 0 }, "the ReLU should act")
                for threads in [1, 2] {
                    let fused = run(threads: threads, fused: true)
                    for (i, (a, b)) in zip(fused, reference).enumerated() {
                        XCTAssertEqual(a.scalars.map(\.bitPattern), b.scalars.map(\.bitPattern),
                                       "result \(i), \(threads) threads, batch statistics \(statistics == nil), createGraph \(createGraph)")
                    }
                }
            }
        }
    }

    /// A fused batch norm whose output is used two and three times (as a residual block's input
    /// is, by the body and the skip): without a recorded graph its kernel adds the gradient's
    /// parts as it reads them (`Variable.backwardOfSum`), with one `+` adds them first; the
    /// gradients are the same bit for bit, on 1 and 2 threads, with and without the residual.
    func testGradientInPartsIsBitIdenticalToItsSum() {
        let shape = [8, 4, 48, 48]
        let uses = (0..<3).map { Tensor.randn(shape, seed: 60 + UInt64($0)) }
        for (statistics, params) in Self.cases(shape, seed: 50) {
            for residual in [true, false] {
                for count in [2, 3] {
                    func run(threads: Int, createGraph: Bool) -> [Tensor] {
                        let saved = Parallel.threads
                        Parallel.threads = threads
                        defer { Parallel.threads = saved }
                        let v = params.map { Variable($0, requiresGrad: true) }
                        let y = Self.block(v, statistics: statistics, residual: residual)
                        let terms = uses.prefix(count).map { (y * Variable($0)).sum() }
                        let loss = terms.dropFirst().reduce(terms[0], +)
                        return grad(of: loss, wrt: v, createGraph: createGraph).map(\.value)
                    }
                    let reference = run(threads: 1, createGraph: true)
                    for threads in [1, 2] {
                        for (i, (a, b)) in zip(run(threads: threads, createGraph: false), reference).enumerated() {
                            XCTAssertEqual(a.scalars.map(\.bitPattern), b.scalars.map(\.bitPattern),
                                           "gradient \(i), \(count) uses, residual \(residual), \(threads) threads, batch statistics \(statistics == nil)")
                        }
                    }
                }
            }
        }
    }
}
