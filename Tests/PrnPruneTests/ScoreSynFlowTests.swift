import XCTest
import PrnKernel
import PrnAutograd
import PrnNN
import PrnTestSupport
@testable import PrnPrune

/// SynFlow against a closed form, a numpy re-implementation, finite differences, and its own
/// power-of-two rescaling.
final class ScoreSynFlowTests: XCTestCase {
    func testTwoLayerLinearNetMatchesTheClosedForm() throws {
        // y = W2 relu(W1 x), zero biases: on |W| and an all-ones x the ReLU is the identity, so
        // ∂R/∂W1[j,i] = Σ_k |W2[k,j]| and ∂R/∂W2[k,j] = Σ_i |W1[j,i]|.
        let m = try PruneFixtures.mlp(input: 5, hidden: [4], classes: 3, seed: 2, initializer: .kaimingNormal)
        let w1 = m.state["fc1.weight"]!, w2 = m.state["fc2.weight"]!
        XCTAssertTrue(w1.scalars.contains { $0 < 0 } && w2.scalars.contains { $0 < 0 })
        let scores = try Pruner.scores(m, method: .synflow)
        var expected1 = [Double](), expected2 = [Double]()
        for j in 0..<4 {
            let down = (0..<3).reduce(0.0) { $0 + Double(Swift.abs(w2.scalars[$1 * 4 + j])) }
            for i in 0..<5 { expected1.append(Double(Swift.abs(w1.scalars[j * 5 + i])) * down) }
        }
        for k in 0..<3 {
            for j in 0..<4 {
                let up = (0..<5).reduce(0.0) { $0 + Double(Swift.abs(w1.scalars[j * 5 + $1])) }
                expected2.append(Double(Swift.abs(w2.scalars[k * 4 + j])) * up)
            }
        }
        assertClose(scores["fc1.weight"]!.scalars.map(Double.init), expected1, rtol: 1e-5, atol: 0, "fc1")
        assertClose(scores["fc2.weight"]!.scalars.map(Double.init), expected2, rtol: 1e-5, atol: 0, "fc2")
        // The model keeps its signs.
        XCTAssertEqual(m.state["fc1.weight"], w1)
    }

    func testMaskedMLPWithBiasesMatchesNumpy() throws {
        // PyTorch's default init: weights and (negative as well as positive) biases.
        let m = PruneFixtures.randomlyMasked(try PruneFixtures.mlp(input: 7, hidden: [6, 5], classes: 4, seed: 8),
                                             density: 0.6, seed: 2)
        let layers = ["fc1", "fc2", "fc3"]
        let payload: [String: Any] = [
            "W": layers.map { ["shape": m.state[$0 + ".weight"]!.shape, "v": m.state[$0 + ".weight"]!.scalars.map(Double.init)] },
            "b": layers.map { m.state[$0 + ".bias"]!.scalars.map(Double.init) },
            "M": layers.map { m.masks[$0 + ".weight"]!.scalars.map(Double.init) },
        ]
        let script = """
        import sys, json, numpy as np
        d = json.load(sys.stdin)
        W = [np.array(w['v']).reshape(w['shape']) for w in d['W']]
        b = [np.array(x) for x in d['b']]
        M = [np.array(m).reshape(w.shape) for m, w in zip(d['M'], W)]
        L = len(W)
        acts = [np.ones(W[0].shape[1])]
        for l in range(L):
            z = (np.abs(W[l]) * M[l]) @ acts[-1] + np.abs(b[l])
            acts.append(np.maximum(z, 0) if l < L - 1 else z)
        g = np.ones(W[-1].shape[0])
        scores = [None] * L
        for l in reversed(range(L)):
            dW = M[l] * np.outer(g, acts[l])          # dR/dw of the stored weight through m*|w|
            scores[l] = np.abs(dW * W[l])
            g = ((np.abs(W[l]) * M[l]).T @ g) * (acts[l] > 0)
        print(json.dumps([s.ravel().tolist() for s in scores]))
        """
        let reference = try PruneFixtures.python(script, input: payload) as! [[Double]]
        let scores = try Pruner.scores(m, method: .synflow)
        for (l, name) in layers.enumerated() {
            assertClose(scores[name + ".weight"]!.scalars.map(Double.init), reference[l], rtol: 1e-5, atol: 1e-7, name)
        }
    }

    func testBatchNormCNNMatchesFiniteDifferencesOfTheAbsoluteNetwork() throws {
        // VGG-11 at 1/16 width with batch-norm statistics and affine parameters of both signs.
        var m = try Model(Architecture(name: .vgg11, inputShape: [3, 16, 16], classes: 10, width: 1.0 / 16), seed: 3)
        var rng = RNG(seed: 12)
        var updates: [String: Tensor] = [:]
        for (path, slot) in m.slots where !slot.isPrunable {
            let shape = m.state[path]!.shape
            updates[path] = path.hasSuffix("running_var") ? Tensor.rand(shape, low: 0.5, high: 2, rng: &rng)
                                                          : Tensor.randn(shape, rng: &rng)
        }
        m = PruneFixtures.randomlyMasked(m.updating(updates), density: 0.8, seed: 4)
        let scores = try Pruner.scores(m, method: .synflow)

        // Reference: R of the |·| network by predict, differentiated by central differences.
        var absolute: [String: Tensor] = [:]
        for (path, _) in m.slots { absolute[path] = m.state[path]!.abs() }
        let absModel = m.updating(absolute)
        let ones = Tensor.ones([1, 3, 16, 16])
        for path in m.prunablePaths {
            let w = absolute[path]!
            let step = Swift.max(1, w.count / 60)
            let sample = Array(stride(from: 0, to: w.count, by: step))
            var reference: [Double] = [], actual: [Double] = []
            for i in sample {
                let fd = GradCheck.numericGradient(of: { x in
                    var t = w
                    t.scalars[i] = x.scalars[0]
                    return absModel.updating([path: t]).predict(ones).sum().item
                }, at: Tensor(shape: [1], scalars: [w.scalars[i]]), h: 0.05)[0]
                reference.append(Swift.abs(fd * Double(w.scalars[i])))
                actual.append(Double(scores[path]!.scalars[i]))
            }
            let scale = reference.max()!
            assertClose(actual, reference, rtol: 1e-2, atol: 1e-3 * scale, path)
        }
    }

    func testRescalingByPowersOfTwoIsExact() throws {
        // A batch-norm net with biases and running means of both signs: scaling the input and the
        // additive tensors by 2^a and the seed by 2^b multiplies every score by exactly 2^(a+b).
        for model in [try Model(Architecture(name: .vgg11, inputShape: [3, 16, 16], classes: 10, width: 1.0 / 16), seed: 1),
                      try PruneFixtures.cnn(seed: 5)] {
            var m = model
            var rng = RNG(seed: 3)
            var updates: [String: Tensor] = [:]
            for (path, slot) in m.slots where !slot.isPrunable && !path.hasSuffix("running_var") {
                updates[path] = Tensor.randn(m.state[path]!.shape, rng: &rng)
            }
            m = m.updating(updates)
            let scorer = try Scorer(method: .synflow, model: m, data: nil, samples: nil, seed: 0)
            let plain = scorer.synflowAttempt(m, scale: SynFlowScale())!.scores.tensors
            let scaled = scorer.synflowAttempt(m, scale: SynFlowScale(input: -37, seed: 21))!.scores.tensors
            for path in m.prunablePaths {
                XCTAssertEqual(scaled[path]!, plain[path]! * Float(sign: .plus, exponent: -16, significand: 1), path)
            }
        }
    }

    /// An MLP with zero biases whose every weight is multiplied by `2^k`: R and every score grow
    /// by 2^(3k), the ranking does not change.
    func scaledMLP(_ k: Int) throws -> (Model, Model) {
        let m = try PruneFixtures.mlp(input: 6, hidden: [5, 4], classes: 3, seed: 6, initializer: .kaimingNormal)
        var updates: [String: Tensor] = [:]
        for path in m.prunablePaths { updates[path] = m.state[path]! * Float(sign: .plus, exponent: k, significand: 1) }
        return (m, m.updating(updates))
    }

    func testOverflowingModelIsRescaledAndRanksExactly() throws {
        let (m, big) = try scaledMLP(50)   // R ≈ 2^150 · R₀: beyond Float32
        let scorer = try Scorer(method: .synflow, model: big, data: nil, samples: nil, seed: 0)
        XCTAssertNil(scorer.synflowAttempt(big, scale: SynFlowScale()))
        for rounds in [1, 10] {
            let a = try Pruner.prune(m, method: .synflow, target: .density(0.3), rounds: rounds)
            let b = try Pruner.prune(big, method: .synflow, target: .density(0.3), rounds: rounds)
            XCTAssertEqual(a.model.masks, b.model.masks, "rounds=\(rounds)")
        }
        XCTAssertThrowsError(try Pruner.scores(big, method: .synflow)) { error in
            XCTAssertTrue("\(error)".contains("exceed Float32"), "\(error)")
        }
        // Moderately large: rescaled internally, and the unscaled scores are representable.
        let (_, medium) = try scaledMLP(30)
        let reference = try Pruner.scores(m, method: .synflow)
        let scores = try Pruner.scores(medium, method: .synflow)
        for path in m.prunablePaths {
            XCTAssertEqual(scores[path]!, reference[path]! * Float(sign: .plus, exponent: 90, significand: 1), path)
        }
    }

    func testHopelessOverflowFailsClearly() throws {
        let (_, huge) = try scaledMLP(100)   // R ≈ 2^300
        XCTAssertThrowsError(try Pruner.prune(huge, method: .synflow, target: .density(0.1), rounds: 2)) { error in
            XCTAssertTrue("\(error)".contains("overflows Float32"), "\(error)")
        }
    }

    func testIterativeRoundsNeverReviveAndReachEachScheduledCount() throws {
        let m = try PruneFixtures.cnn(seed: 2)
        let target = PruneTarget.density(0.02)
        let rounds = 12
        var scorer = try Scorer(method: .synflow, model: m, data: nil, samples: nil, seed: 0)
        var current = m
        let total = m.prunableCount
        for e in 1...rounds {
            let scores = try scorer.scores(current, round: e)
            let density = target.density(afterRound: e, of: rounds)
            let masks = try Pruner.select(current, scores: scores.layers, density: density, scope: .global, invert: false).masks
            let kept = m.prunablePaths.reduce(0) { $0 + PruneFixtures.ones(masks[$1]!) }
            XCTAssertEqual(kept, PruneTarget.keptCount(density: density, total: total), "round \(e)")
            for path in m.prunablePaths {
                if let before = current.masks[path] {
                    XCTAssertTrue(zip(before.scalars, masks[path]!.scalars).allSatisfy { $1 <= $0 }, "round \(e) revived \(path)")
                }
            }
            current = current.withMasks(masks)
        }
        var reported: [Int] = []
        let result = try Pruner.prune(m, method: .synflow, target: target, rounds: rounds, progress: { e, _ in reported.append(e) })
        XCTAssertEqual(result.model.masks, current.masks)
        XCTAssertEqual(reported, Array(1...rounds))
        XCTAssertEqual(result.layers.reduce(0) { $0 + $1.kept }, PruneTarget.keptCount(density: 0.02, total: total))
    }

    func testSingleRoundSelectionMatchesNumpyLexsort() throws {
        let m = try PruneFixtures.cnn(seed: 4)
        let scores = try Pruner.scores(m, method: .synflow)
        let p = try Pruner.prune(m, method: .synflow, target: .density(0.15), rounds: 1)
        let flat = PruneFixtures.flatten(scores, m.prunablePaths).map(Double.init)
        let k = flat.count - PruneTarget.keptCount(density: 0.15, total: flat.count)
        let script = """
        import sys, json, numpy as np
        d = json.load(sys.stdin)
        s = np.array(d['s'], dtype=np.float32)
        order = np.lexsort((np.arange(len(s)), s))    # by score, then index
        keep = np.ones(len(s)); keep[order[:d['k']]] = 0
        print(json.dumps(keep.tolist()))
        """
        let reference = try PruneFixtures.python(script, input: ["s": flat, "k": k]) as! [Double]
        XCTAssertEqual(PruneFixtures.flatten(p.model.masks, m.prunablePaths).map(Double.init), reference)
    }
}
