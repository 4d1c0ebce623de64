import XCTest
import PrnKernel
import PrnAutograd
import PrnData
import PrnNN
import PrnTestSupport
@testable import PrnPrune

/// Random, magnitude, SNIP and GraSP scores against their definitions and finite differences.
final class ScoreTests: XCTestCase {
    // MARK: Random and magnitude, by construction

    func testMagnitudeScoresAreAbsoluteWeightsAndPruningKeepsTheLargest() throws {
        let m = try Model(Architecture(name: .lenet300, inputShape: [1, 28, 28], classes: 10), seed: 4)
        let scores = try Pruner.scores(m, method: .magnitude)
        for path in m.prunablePaths { XCTAssertEqual(scores[path], m.state[path]!.abs()) }

        let p = try Pruner.prune(m, method: .magnitude, target: .density(0.05))
        let paths = m.prunablePaths
        let w = PruneFixtures.flatten(m.state, paths).map(Swift.abs)
        let keep = PruneFixtures.flatten(p.model.masks, paths)
        let kept = zip(w, keep).filter { $0.1 == 1 }.map(\.0)
        let removed = zip(w, keep).filter { $0.1 == 0 }.map(\.0)
        XCTAssertEqual(kept.count, 13_310)   // round(0.05 · 266,200)
        XCTAssertGreaterThanOrEqual(kept.min()!, removed.max()!)
    }

    func testRandomScoresAreSeededNormalsAndGlobalRandomKeepsEveryLayerNearTheDensity() throws {
        let m = try Model(Architecture(name: .lenet300, inputShape: [1, 28, 28], classes: 10), seed: 1)
        let a = try Pruner.scores(m, method: .random, seed: 7)
        XCTAssertEqual(a, try Pruner.scores(m, method: .random, seed: 7))
        XCTAssertNotEqual(a["fc1.weight"], try Pruner.scores(m, method: .random, seed: 8)["fc1.weight"])
        let z = a["fc1.weight"]!.scalars.map(Double.init)
        let mean = z.reduce(0, +) / Double(z.count)
        let variance = z.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(z.count)
        XCTAssertEqual(mean, 0, accuracy: 0.01)
        XCTAssertEqual(variance, 1, accuracy: 0.01)

        let p1 = try Pruner.prune(m, method: .random, target: .density(0.1), seed: 3)
        let p2 = try Pruner.prune(m, method: .random, target: .density(0.1), seed: 3)
        XCTAssertEqual(p1.model.masks, p2.model.masks)
        XCTAssertEqual(p1.layers.reduce(0) { $0 + $1.kept }, 26_620)
        for layer in p1.layers {
            // fc3 has 1,000 weights: binomial std ≈ 0.0095.
            XCTAssertEqual(layer.density, 0.1, accuracy: 0.04, layer.path)
        }
    }

    // MARK: Finite differences away from kinks

    /// Compares `analytic` with finite differences given as one-sided slopes, forward
    /// `(f(x+h) − f(x))/h` and backward `(f(x) − f(x−h))/h`, whose mean is the central
    /// difference. ReLU and max pooling make these networks piecewise smooth; where the two
    /// slopes disagree, a kink (a pre-activation crossing 0, or a max-pool switch) lies within a
    /// step of the point — on one side, which central differences alone cannot see — and the
    /// entry is skipped. At least `coverage` of the entries must be comparable, and every
    /// comparable one must match.
    func assertMatchesAwayFromKinks(_ analytic: [Double], forward: [Double], backward: [Double], tolerance: (Int) -> Double,
                                    coverage: Double = 0.8, _ message: String,
                                    file: StaticString = #filePath, line: UInt = #line) {
        var compared = 0, failures = 0
        for i in analytic.indices {
            let central = (forward[i] + backward[i]) / 2
            let allowed = tolerance(i) + 2e-2 * Swift.abs(central)
            guard Swift.abs(forward[i] - backward[i]) <= allowed else { continue }
            compared += 1
            if Swift.abs(analytic[i] - central) > allowed {
                failures += 1
                if failures <= 3 {
                    XCTFail("\(message)[\(i)]: \(analytic[i]) vs finite differences \(central)", file: file, line: line)
                }
            }
        }
        XCTAssertGreaterThanOrEqual(Double(compared), coverage * Double(analytic.count),
                                    "\(message): only \(compared) of \(analytic.count) entries away from kinks", file: file, line: line)
    }

    // MARK: SNIP against finite differences

    /// One-sided slopes of the summed scoring loss with respect to each entry of the effective
    /// weight at `path` (the step is the representable one, as in `GradCheck.numericGradient`).
    func snipSlopes(_ model: Model, _ batches: [ScoringBatch], path: String, h: Double) -> (forward: [Double], backward: [Double]) {
        var effective: [String: Tensor] = [:]
        for p in model.prunablePaths { effective[p] = model.effectiveWeight(p) }
        let dense = model.withMasks([:]).updating(effective)
        func loss(_ w: Tensor) -> Double {
            let candidate = dense.updating([path: w])
            return batches.reduce(0.0) { $0 + PruneFixtures.meanCrossEntropy(candidate.predict($1.images), labels: $1.labels) }
        }
        let x = effective[path]!
        let base = loss(x)
        var forward: [Double] = [], backward: [Double] = []
        for i in 0..<x.count {
            var plus = x, minus = x
            plus.scalars[i] = Float(Double(x.scalars[i]) + h)
            minus.scalars[i] = Float(Double(x.scalars[i]) - h)
            forward.append((loss(plus) - base) / (Double(plus.scalars[i]) - Double(x.scalars[i])))
            backward.append((base - loss(minus)) / (Double(x.scalars[i]) - Double(minus.scalars[i])))
        }
        return (forward, backward)
    }

    /// SNIP's `|w ⊙ ∂L/∂(m⊙w)|` against `|w| · |finite-difference gradient|`.
    func checkSNIP(_ model: Model, _ scorer: Scorer, file: StaticString = #filePath, line: UInt = #line) {
        let scores = scorer.snipScores(model)
        for path in model.prunablePaths {
            let w = model.state[path]!.scalars.map { Swift.abs(Double($0)) }
            let (forward, backward) = snipSlopes(model, scorer.batches, path: path, h: 1e-3)
            assertMatchesAwayFromKinks(scores[path]!.scalars.map(Double.init),
                                       forward: zip(w, forward).map { Swift.abs($0 * $1) },
                                       backward: zip(w, backward).map { Swift.abs($0 * $1) },
                                       tolerance: { w[$0] * 3e-4 }, path, file: file, line: line)
        }
    }

    func testSNIPMatchesFiniteDifferencesOnAMaskedMLP() throws {
        let data = try PruneFixtures.data(shape: [6])
        let model = PruneFixtures.randomlyMasked(try PruneFixtures.mlp(), density: 0.6, seed: 9)
        let scorer = try Scorer(method: .snip, model: model, data: data, samples: 30, seed: 2)
        XCTAssertEqual(scorer.batches.map(\.labels.count), [30])
        checkSNIP(model, scorer)
        // Pruned entries are scored through the effective weight, not zeroed by the mask.
        let scores = scorer.snipScores(model)
        let mask = model.masks["fc1.weight"]!
        let pruned = (0..<mask.count).filter { mask.scalars[$0] == 0 }
        XCTAssertGreaterThan(pruned.map { scores["fc1.weight"]!.scalars[$0] }.max()!, 0)
    }

    func testSNIPMatchesFiniteDifferencesOnASmallCNNWithSeveralBatches() throws {
        let data = try PruneFixtures.data(shape: [1, 8, 8], train: 600)
        let model = try PruneFixtures.cnn()
        // More than 256 samples are cut into batches of at most 256 …
        XCTAssertEqual(try Scorer(method: .snip, model: model, data: data, samples: 520, seed: 2).batches.map(\.labels.count),
                       [173, 173, 174])
        // … whose gradients are summed; small batches here, so that finite differences see few kinks.
        let subset = try data.train.subset(count: 24, seed: 4)
        let batches = [0..<10, 10..<24].map { range in
            let (images, labels) = subset.gather(Array(range))
            return ScoringBatch(images: images, labels: labels)
        }
        checkSNIP(model, Scorer(method: .snip, batches: batches, seed: 0))
    }

    // MARK: GraSP's Hessian-gradient product against finite differences of gradients

    /// One-sided slopes of the gradient along g: `(∇L(w + h·g) − ∇L(w)) / h` and
    /// `(∇L(w) − ∇L(w − h·g)) / h`, with h such that the largest weight moves by `move`.
    func graspSlopes(_ model: Model, _ batches: [ScoringBatch], _ w: [Tensor], _ g: [Tensor],
                     move: Double) -> (forward: [Double], backward: [Double]) {
        let gMax = g.map { $0.abs().max().item }.max()!
        let h = move / Double(gMax)
        let plus = PruneFixtures.graspGradient(model, batches, zip(w, g).map { $0 + $1 * Float(h) }).flatMap(\.scalars)
        let minus = PruneFixtures.graspGradient(model, batches, zip(w, g).map { $0 - $1 * Float(h) }).flatMap(\.scalars)
        let base = g.flatMap(\.scalars)
        return (base.indices.map { (Double(plus[$0]) - Double(base[$0])) / h },
                base.indices.map { (Double(base[$0]) - Double(minus[$0])) / h })
    }

    func checkGraSP(_ model: Model, data: Dataset, samples: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        let scorer = try Scorer(method: .grasp, model: model, data: data, samples: samples, seed: 5)
        let hg = scorer.graspHessianGradient(model)
        let paths = model.prunablePaths
        let w = paths.map { model.state[$0]! }
        let g = PruneFixtures.graspGradient(model, scorer.batches, w)
        let analytic = paths.flatMap { hg[$0]!.scalars.map(Double.init) }
        let scale = analytic.map(Swift.abs).max()!
        XCTAssertGreaterThan(scale, 0, file: file, line: line)
        // Weights move by at most 1e-4: larger steps cross ReLU kinks of these small nets.
        let (forward, backward) = graspSlopes(model, scorer.batches, w, g, move: 1e-4)
        assertMatchesAwayFromKinks(analytic, forward: forward, backward: backward, tolerance: { _ in 1e-2 * scale },
                                   coverage: 0.9, "Hg", file: file, line: line)
        // The score is (Hg) ⊙ w.
        let scores = scorer.graspScores(model)
        for path in paths { XCTAssertEqual(scores[path], hg[path]! * model.state[path]!, file: file, line: line) }
    }

    func testGraSPHessianGradientMatchesFiniteDifferencesOnAnMLP() throws {
        try checkGraSP(try PruneFixtures.mlp(), data: try PruneFixtures.data(shape: [6]), samples: 40)
    }

    func testGraSPOnAMaskedMLPIsTheHessianOfTheRemainingWeights() throws {
        let model = PruneFixtures.randomlyMasked(try PruneFixtures.mlp(seed: 3), density: 0.7, seed: 4)
        try checkGraSP(model, data: try PruneFixtures.data(shape: [6]), samples: 40)
        let scorer = try Scorer(method: .grasp, model: model, data: try PruneFixtures.data(shape: [6]), samples: 40, seed: 5)
        let scores = scorer.graspScores(model)
        for path in model.prunablePaths {
            let mask = model.masks[path]!
            XCTAssertTrue((0..<mask.count).allSatisfy { mask.scalars[$0] == 1 || scores[path]!.scalars[$0] == 0 }, path)
        }
    }

    func testGraSPHessianGradientMatchesFiniteDifferencesOnASmallCNN() throws {
        // Data seed 1: its scoring examples leave most entries away from ReLU kinks at this step.
        try checkGraSP(try PruneFixtures.cnn(), data: try PruneFixtures.data(shape: [1, 8, 8], seed: 1), samples: 30)
    }

    // MARK: Scoring data

    func testScoringDataDefaultsToTenPerClassAndIsSeeded() throws {
        let data = try PruneFixtures.data(shape: [6], classes: 3, train: 100)
        let model = try PruneFixtures.mlp()
        let a = try Scorer(method: .snip, model: model, data: data, samples: nil, seed: 1)
        let b = try Scorer(method: .snip, model: model, data: data, samples: nil, seed: 1)
        let c = try Scorer(method: .snip, model: model, data: data, samples: nil, seed: 2)
        XCTAssertEqual(a.batches.map(\.labels.count), [30])
        XCTAssertEqual(a.batches[0].images, b.batches[0].images)
        XCTAssertNotEqual(a.batches[0].images, c.batches[0].images)
    }

    func testDataMethodsRejectMissingOrMismatchedData() throws {
        let model = try PruneFixtures.mlp()
        XCTAssertThrowsError(try Pruner.prune(model, method: .snip, target: .density(0.5))) { error in
            XCTAssertTrue("\(error)".contains("data="), "\(error)")
        }
        XCTAssertThrowsError(try Pruner.prune(model, method: .grasp, target: .density(0.5), data: try PruneFixtures.data(shape: [7]))) { error in
            XCTAssertTrue("\(error)".contains("[7]"), "\(error)")
        }
        XCTAssertThrowsError(try Pruner.prune(model, method: .snip, target: .density(0.5),
                                              data: try PruneFixtures.data(shape: [6], classes: 4))) { error in
            XCTAssertTrue("\(error)".contains("4 classes"), "\(error)")
        }
        XCTAssertThrowsError(try Pruner.prune(model, method: .snip, target: .density(0.5),
                                              data: try PruneFixtures.data(shape: [6]), samples: 1000))
        // Data-free methods ignore data.
        XCTAssertNoThrow(try Pruner.prune(model, method: .magnitude, target: .density(0.5), data: try PruneFixtures.data(shape: [7])))
    }
}
