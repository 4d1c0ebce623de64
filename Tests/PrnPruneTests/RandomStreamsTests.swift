import XCTest
import PrnKernel
import PrnData
import PrnNN
@testable import PrnPrune

/// METHODS.md, Random streams: every purpose draws from its own stream, so a script that passes
/// the same seed to `model`, `prune` and `train` still gets independent draws.
final class RandomStreamsTests: XCTestCase {
    /// The first words of a generator.
    func words(_ rng: RNG, count: Int = 16) -> [UInt32] {
        var out = [UInt32](repeating: 0, count: count)
        out.withUnsafeMutableBufferPointer { rng.words(from: 0, count: count, into: $0.baseAddress!) }
        return out
    }

    func testNoTwoPurposesShareASubStreamForOneSeed() {
        for seed: UInt64 in [0, 1, 42, .max] {
            var seen: [[UInt32]: String] = [:]
            for purpose in RandomPurpose.allCases {
                let base = RNG(seed: seed, purpose: purpose)
                // The base stream, sub-streams (layers, epochs, rounds) and a sub-sub-stream (round, layer).
                let generators = [("base", base)] + (0..<8).map { ("split \($0)", base.split(UInt64($0))) }
                    + (0..<4).map { ("split 1.\($0)", base.split(1).split(UInt64($0))) }
                for (name, rng) in generators {
                    let key = words(rng)
                    let label = "\(purpose) \(name)"
                    XCTAssertNil(seen[key], "seed \(seed): \(label) repeats \(seen[key] ?? "")")
                    seen[key] = label
                }
            }
        }
    }

    func testScoringSubsetInitialWeightsAndBatchOrderAreIndependentForOneSeed() throws {
        let seed: UInt64 = 7
        let data = try PruneFixtures.data(shape: [6], train: 200)
        let model = try PruneFixtures.mlp(seed: seed, initializer: .kaimingNormal)
        let scorer = try Scorer(method: .snip, model: model, data: data, samples: 30, seed: seed)
        let order = try data.train.batches(size: 200, seed: seed, epoch: 0).order

        // Which examples the scoring batch holds, found by matching rows of the training split.
        let rows = (0..<data.train.count).map { Array(data.train.gather([$0]).images.scalars) }
        let indices = { (images: Tensor) in
            (0..<images.shape[0]).map { i in rows.firstIndex(of: Array(images.scalars[(i * 6)..<((i + 1) * 6)]))! }
        }
        let scored = indices(scorer.batches[0].images)
        XCTAssertEqual(scored, indices(try data.train.subset(count: 30, seed: seed).images))
        // Before purposes, the subset was a prefix of epoch 0's order: the same permutation.
        XCTAssertNotEqual(scored, Array(order.prefix(30)))
        let overlap = Set(scored).intersection(order.prefix(30)).count
        XCTAssertLessThan(overlap, 15, "30 of 200 drawn twice independently share about 4.5")

        // The first layer's weights are not a function of the words that ordered the data: its
        // normals come from the initial-weights stream, the order from the data-order stream.
        let initWords = words(RNG(seed: seed, purpose: .initialWeights).split(0), count: 64)
        let orderWords = words(RNG(seed: seed, purpose: .dataOrder).split(0), count: 64)
        let subsetWords = words(RNG(seed: seed, purpose: .scoringSubset), count: 64)
        XCTAssertEqual(Set(initWords).intersection(orderWords).count, 0)
        XCTAssertEqual(Set(initWords).intersection(subsetWords).count, 0)
        XCTAssertEqual(Set(orderWords).intersection(subsetWords).count, 0)
        var rng = RNG(seed: seed, purpose: .initialWeights).split(0)
        let expected = Tensor.randn(model.state["fc1.weight"]!.shape, std: (2 / Float(6)).squareRoot(), rng: &rng)
        XCTAssertEqual(model.state["fc1.weight"], expected, "weights are drawn from the initial-weights stream")
    }

    func testIndependentStreamsAreUncorrelated() {
        // Uniforms of two purposes with one seed: their sample correlation is that of independent
        // draws (standard error 1/√n = 0.01).
        var a = RNG(seed: 3, purpose: .initialWeights).split(0), b = RNG(seed: 3, purpose: .dataOrder).split(0)
        let (x, y) = (a.uniform(count: 10_000).map(Double.init), b.uniform(count: 10_000).map(Double.init))
        let (mx, my) = (x.reduce(0, +) / 1e4, y.reduce(0, +) / 1e4)
        let cov = zip(x, y).reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) }
        let corr = cov / (x.reduce(0) { $0 + ($1 - mx) * ($1 - mx) } * y.reduce(0) { $0 + ($1 - my) * ($1 - my) }).squareRoot()
        XCTAssertLessThan(Swift.abs(corr), 0.05)
    }
}
