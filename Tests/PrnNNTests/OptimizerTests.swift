import XCTest
import Foundation
import PrnKernel
@testable import PrnNN

/// Optimizers against the update rules written out in Float64, step by step.
final class OptimizerTests: XCTestCase {
    let w0: [Double] = [0.5, -1.25, 2.0, 0.0]
    let grads: [[Double]] = [[0.1, -0.2, 0.3, 0.05], [-0.4, 0.1, 0.2, 0.0], [0.25, 0.25, -0.1, 1.0]]

    func run(_ optimizer: inout some Optimizer, lr: Float) -> [Float] {
        var params = ["w": Tensor(shape: [4], scalars: w0.map(Float.init))]
        for g in grads {
            optimizer.step(&params, gradients: ["w": Tensor(shape: [4], scalars: g.map(Float.init))], learningRate: lr)
        }
        return params["w"]!.scalars
    }

    func testSGDMomentumNesterovWeightDecay() {
        for nesterov in [false, true] {
            var sgd = SGD(momentum: 0.9, nesterov: nesterov, weightDecay: 0.01)
            let got = run(&sgd, lr: 0.1)
            var w = w0, v = [Double](repeating: 0, count: 4)
            for g in grads {
                for i in 0..<4 {
                    let gi = g[i] + 0.01 * w[i]
                    v[i] = 0.9 * v[i] + gi
                    w[i] -= 0.1 * (nesterov ? gi + 0.9 * v[i] : v[i])
                }
            }
            for i in 0..<4 { XCTAssertEqual(Double(got[i]), w[i], accuracy: 1e-6) }
        }
        var plain = SGD()
        let got = run(&plain, lr: 0.5)
        for i in 0..<4 { XCTAssertEqual(Double(got[i]), w0[i] - 0.5 * grads.map { $0[i] }.reduce(0, +), accuracy: 1e-6) }
    }

    /// The dense SGD update runs eight lanes at a time on the threads: every scalar must get the
    /// scalar rule's Float operations exactly, tail and thread split included, on 1 and 2 threads.
    func testSGDVectorLanesAreTheScalarRule() {
        let count = 2 * 32768 + 8 * 5 + 3  // two parallel chunks of blocks, then a scalar tail
        var rng = RNG(seed: 7)
        let w0 = rng.uniform(count: count).map { $0 * 4 - 2 }
        let gradients = (0..<2).map { _ in rng.uniform(count: count).map { $0 - 0.5 } }
        for (momentum, nesterov) in [(Float(0), false), (0.9, false), (0.9, true)] {
            var w = w0, v = [Float](repeating: 0, count: count)
            let (lr, wd): (Float, Float) = (0.05, 0.01)
            for g in gradients {
                for i in 0..<count {
                    let gi = g[i] + wd * w[i]
                    if momentum == 0 { w[i] = w[i] - lr * gi; continue }
                    v[i] = momentum * v[i] + gi
                    w[i] = w[i] - lr * (nesterov ? gi + momentum * v[i] : v[i])
                }
            }
            for threads in [1, 2] {
                let saved = Parallel.threads
                Parallel.threads = threads
                defer { Parallel.threads = saved }
                var sgd = SGD(momentum: momentum, nesterov: nesterov, weightDecay: wd)
                var params = ["w": Tensor(shape: [count], scalars: w0)]
                for g in gradients { sgd.step(&params, gradients: ["w": Tensor(shape: [count], scalars: g)], learningRate: lr) }
                XCTAssertEqual(params["w"]!.scalars.map(\.bitPattern), w.map(\.bitPattern), "momentum \(momentum) nesterov \(nesterov) threads \(threads)")
                XCTAssertEqual(sgd.state["w"]!.buffers[0].map(\.bitPattern), v.map(\.bitPattern))
            }
        }
    }

    func testAdam() {
        var adam = Adam(weightDecay: 0.001)
        let got = run(&adam, lr: 0.01)
        var w = w0, m = [Double](repeating: 0, count: 4), v = m
        for (t, g) in grads.enumerated() {
            for i in 0..<4 {
                let gi = g[i] + 0.001 * w[i]
                m[i] = 0.9 * m[i] + 0.1 * gi
                v[i] = 0.999 * v[i] + 0.001 * gi * gi
                let mHat = m[i] / (1 - pow(0.9, Double(t + 1))), vHat = v[i] / (1 - pow(0.999, Double(t + 1)))
                w[i] -= 0.01 * mHat / (vHat.squareRoot() + 1e-8)
            }
        }
        for i in 0..<4 { XCTAssertEqual(Double(got[i]), w[i], accuracy: 1e-5) }
    }

    func testSchedules() {
        XCTAssertEqual(Schedule.constant.rate(base: 0.1, epoch: 50), 0.1)
        XCTAssertEqual(Schedule.step(every: 30, gamma: 0.1).rate(base: 1, epoch: 29), 1)
        XCTAssertEqual(Schedule.step(every: 30, gamma: 0.1).rate(base: 1, epoch: 60), 0.01, accuracy: 1e-7)
        let multi = Schedule.multiStep(milestones: [80, 120], gamma: 0.1)
        XCTAssertEqual(multi.rate(base: 0.1, epoch: 79), 0.1)
        XCTAssertEqual(multi.rate(base: 0.1, epoch: 80), 0.01, accuracy: 1e-8)
        XCTAssertEqual(multi.rate(base: 0.1, epoch: 159), 0.001, accuracy: 1e-9)
        XCTAssertEqual(Schedule.cosine(epochs: 10).rate(base: 1, epoch: 5), 0.5, accuracy: 1e-6)
        XCTAssertEqual(Schedule.cosine(epochs: 10).rate(base: 1, epoch: 0), 1)
    }
}
