import XCTest
@testable import PrnKernel

/// Batch norm's fused passes against their scalar chains written out in plain loops, bit for
/// bit: each channel's sums in `ChannelPlanes.laneSums`' order (scalar `j` of a plane to lane
/// `j mod 8`, planes in batch order, the lanes added pairwise), then the per-scalar formulas.
/// The shapes cover planes with no full block of eight (2 × 2, 1 × 3), a block and a tail (3 × 4,
/// 5 × 6), whole blocks (4 × 4, the gate as bits), batch 1, and channels in more than one group
/// (`ChannelPlanes.groupScalars`), with a last group smaller than the others, on 1, 2 and 3 threads.
final class BatchNormOrderTests: XCTestCase {
    static let shapes: [[Int]] = [[1, 3, 2, 2], [3, 5, 1, 3], [2, 4, 4, 4], [3, 2, 3, 4], [1, 2, 5, 6], [5, 3], [4, 50, 30, 30]]
    static let epsilon: Float = 1e-5

    /// Channel `c`'s sum of `term(i)` in the documented lane order, one scalar at a time.
    static func laneSum(_ shape: [Int], channel c: Int, _ term: (Int) -> Float) -> Float {
        let (batch, channels, plane) = (shape[0], shape[1], shape.dropFirst(2).reduce(1, *))
        var lanes = [Float](repeating: 0, count: 8)
        for n in 0..<batch {
            for j in 0..<plane { lanes[j % 8] = lanes[j % 8] + term((n * channels + c) * plane + j) }
        }
        return ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]))
    }

    /// Scalars with channel means and spreads that differ, a few −0 and exact zeros among them.
    static func input(_ shape: [Int], seed: UInt64) -> Tensor {
        let noise = Tensor.randn(shape, seed: seed)
        return Tensor(shape: shape, scalars: noise.scalars.enumerated().map { i, z in
            i % 7 == 3 ? -0.0 : i % 11 == 5 ? 0 : z * 1.5 + Float(i % shape[1]) - 1
        })
    }

    func withThreads(_ body: (Int) -> Void) {
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        for threads in [1, 2, 3] {
            Parallel.threads = threads
            body(threads)
        }
    }

    func testGroupsCoverEveryChannelOnceAndSomeShapesHaveSeveral() {
        let layout = ChannelPlanes([4, 50, 30, 30])
        let lock = NSLock()
        withThreads { threads in
            var groups: [Range<Int>] = []
            layout.forEachGroup { group in lock.withLock { groups.append(group) } }
            XCTAssertEqual(groups.sorted { $0.lowerBound < $1.lowerBound }.flatMap { Array($0) }, Array(0..<50), "\(threads) threads")
            XCTAssertGreaterThan(groups.count, 1, "\(threads) threads: the test shape should need several groups")
        }
    }

    func testChannelSumsFollowTheLaneOrder() {
        withThreads { threads in
            for (k, shape) in Self.shapes.enumerated() {
                let x = Self.input(shape, seed: UInt64(k))
                let expected = (0..<shape[1]).map { c in Self.laneSum(shape, channel: c) { x.scalars[$0] } }
                XCTAssertEqual(x.channelSums().scalars.map(\.bitPattern), expected.map(\.bitPattern), "\(shape), \(threads) threads")
            }
        }
    }

    /// The forward with the batch's statistics, with and without its ReLU and a residual.
    func testForwardMatchesTheScalarChain() {
        withThreads { threads in
            for (k, shape) in Self.shapes.enumerated() {
                let channels = shape[1], plane = shape.dropFirst(2).reduce(1, *)
                let x = Self.input(shape, seed: UInt64(k)), residual = Tensor.randn(shape, seed: UInt64(k + 50))
                let scale = Tensor.rand([channels], low: 0.5, high: 1.5, seed: 7), shift = Tensor.randn([channels], seed: 8)
                let invN = 1 / Float(shape[0] * plane)
                let mean = (0..<channels).map { c in Self.laneSum(shape, channel: c) { x.scalars[$0] } * invN }
                let variance = (0..<channels).map { c in
                    Self.laneSum(shape, channel: c) { i in
                        let d = x.scalars[i] - mean[c]
                        return d * d
                    } * invN
                }
                let invStd = variance.map { Foundation.pow($0 + Self.epsilon, -0.5) }
                for (relu, r) in [(false, nil), (true, nil), (true, residual), (false, residual)] as [(Bool, Tensor?)] {
                    let y = (0..<x.count).map { i in
                        let c = (i / plane) % channels
                        var v = ((x.scalars[i] - mean[c]) * invStd[c]) * scale.scalars[c] + shift.scalars[c]
                        if let r { v = v + r.scalars[i] }
                        return relu ? (v > 0 ? v : 0) : v
                    }
                    let fused = x.batchNormalized(scale: scale, shift: shift, epsilon: Self.epsilon, relu: relu, adding: r)
                    let context = "\(shape), relu \(relu), residual \(r != nil), \(threads) threads"
                    XCTAssertEqual(fused.mean.scalars.map(\.bitPattern), mean.map(\.bitPattern), "mean, " + context)
                    XCTAssertEqual(fused.variance.scalars.map(\.bitPattern), variance.map(\.bitPattern), "variance, " + context)
                    XCTAssertEqual(fused.invStd.scalars.map(\.bitPattern), invStd.map(\.bitPattern), "invStd, " + context)
                    XCTAssertEqual(fused.output.scalars.map(\.bitPattern), y.map(\.bitPattern), "output, " + context)
                    if case .bits(let bits)? = fused.gate {
                        let set: [Bool] = (0..<y.count).map { i in (bits[i / 8] >> UInt8(i % 8)) & 1 == 1 }
                        XCTAssertEqual(set, y.map { $0 > 0 }, "gate, " + context)
                    }
                }
            }
        }
    }

    /// The backward with the batch's statistics and with fixed ones, reading the gradient plus
    /// an addend through the forward's ReLU gate (bits or output), the gated gradient kept.
    func testBackwardMatchesTheScalarChain() {
        withThreads { threads in
            for (k, shape) in Self.shapes.enumerated() {
                let channels = shape[1], plane = shape.dropFirst(2).reduce(1, *)
                let x = Self.input(shape, seed: UInt64(k))
                let scale = Tensor.rand([channels], low: 0.5, high: 1.5, seed: 7), shift = Tensor.randn([channels], seed: 8)
                let forward = x.batchNormalized(scale: scale, shift: shift, epsilon: Self.epsilon, relu: true)
                let g = Tensor.randn(shape, seed: UInt64(k + 20)), addend = Tensor.randn(shape, seed: UInt64(k + 30))
                let invN = 1 / Float(shape[0] * plane)
                let (mean, invStd) = (forward.mean.scalars, forward.invStd.scalars)
                for (gated, plus, batchStatistics) in [(false, false, true), (true, true, true), (true, false, false)] {
                    let read = (0..<x.count).map { i in
                        let v = plus ? g.scalars[i] + addend.scalars[i] : g.scalars[i]
                        return gated ? v * (forward.output.scalars[i] > 0 ? 1 : 0) : v
                    }
                    let normalized = (0..<x.count).map { i in
                        let c = (i / plane) % channels
                        return (x.scalars[i] - mean[c]) * invStd[c]
                    }
                    let sums = (0..<channels).map { c in Self.laneSum(shape, channel: c) { read[$0] } }
                    let projections = (0..<channels).map { c in Self.laneSum(shape, channel: c) { read[$0] * normalized[$0] } }
                    let dx = (0..<x.count).map { i in
                        let c = (i / plane) % channels
                        let k = scale.scalars[c] * invStd[c]
                        return batchStatistics ? ((read[i] - sums[c] * invN) - normalized[i] * (projections[c] * invN)) * k : read[i] * k
                    }
                    let fused = Tensor.batchNormBackward(g, plus: plus ? addend : nil, x, mean: forward.mean, invStd: forward.invStd,
                                                         scale: scale, batchStatistics: batchStatistics,
                                                         gate: gated ? forward.gate : nil, keepGated: true)
                    let context = "\(shape), gated \(gated), addend \(plus), batch statistics \(batchStatistics), \(threads) threads"
                    XCTAssertEqual(fused.sums.gradient.scalars.map(\.bitPattern), sums.map(\.bitPattern), "Σg, " + context)
                    XCTAssertEqual(fused.sums.projection.scalars.map(\.bitPattern), projections.map(\.bitPattern), "Σg·x̂, " + context)
                    XCTAssertEqual(fused.dx?.scalars.map(\.bitPattern), dx.map(\.bitPattern), "dx, " + context)
                    XCTAssertEqual((fused.gated ?? g).scalars.map(\.bitPattern), read.map(\.bitPattern), "kept gradient, " + context)
                }
            }
        }
    }
}
