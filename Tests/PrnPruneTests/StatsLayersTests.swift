import XCTest
import PrnKernel
import PrnNN
@testable import PrnPrune

/// Per-layer tables on a small MLP: which weights enter, densities, and the init comparison.
final class StatsLayersTests: XCTestCase {
    let architecture = Architecture(name: .mlp, inputShape: [20], classes: 3, hidden: [16])

    /// A mask keeping entries where `keep(index)` holds.
    func mask(_ shape: [Int], _ keep: (Int) -> Bool) -> Tensor {
        Tensor(shape: shape, scalars: (0..<Shape.count(shape)).map { keep($0) ? 1 : 0 })
    }

    /// The model with masks on every prunable layer and `poison` written under each pruned entry.
    func pruned(_ model: Model, poison: Float, keep: (String, Int) -> Bool) -> Model {
        var masks: [String: Tensor] = [:], weights: [String: Tensor] = [:]
        for path in model.prunablePaths {
            let w = model.state[path]!
            let m = mask(w.shape) { keep(path, $0) }
            masks[path] = m
            weights[path] = Tensor(shape: w.shape, scalars: zip(w.scalars, m.scalars).map { $1 == 0 ? poison : $0 })
        }
        return model.updating(weights).withMasks(masks)
    }

    func testDescribeUsesOnlyUnprunedWeights() throws {
        let dense = try Model(architecture, seed: 1)
        XCTAssertEqual(dense.prunablePaths.count, 2)
        let model = pruned(dense, poison: 1e6) { path, i in path == dense.prunablePaths[0] ? i % 3 != 0 : i % 5 == 0 }
        let rows = LayerStats.describe(model: model)
        XCTAssertEqual(rows.map(\.path), model.prunablePaths)
        for row in rows {
            let w = dense.state[row.path]!.scalars, m = model.masks[row.path]!.scalars
            let kept = zip(w, m).filter { $1 != 0 }.map { Double($0.0) }
            XCTAssertEqual(row.total, w.count)
            XCTAssertEqual(row.kept, kept.count)
            XCTAssertEqual(row.density, Double(kept.count) / Double(w.count))
            XCTAssertEqual(row.shape, dense.state[row.path]!.shape)
            XCTAssertLessThan(row.stats.max, 10, "the 1e6 under pruned entries must not appear")
            XCTAssertEqual(row.stats, Stats.describe(kept))
        }
        // Without masks every weight counts.
        let denseRows = LayerStats.describe(model: dense)
        for row in denseRows {
            XCTAssertEqual(row.density, 1)
            XCTAssertEqual(row.stats, Stats.describe(dense.state[row.path]!.scalars.map(Double.init)))
        }
    }

    func testDescribeAgreesWithScipyOnMaskedFloat32Weights() throws {
        let dense = try Model(architecture, seed: 1)
        let model = pruned(dense, poison: -7e5) { _, i in i % 4 != 1 }
        let rows = LayerStats.describe(model: model)
        // Python gets the raw tensor and the mask and selects w[m == 1] itself.
        let script = """
            w, m = data
            u = w[m == 1]
            q = [0.05, 0.25, 0.5, 0.75, 0.95]
            result = [[len(u), np.mean(u), np.std(u), stats.skew(u), stats.kurtosis(u), np.min(u), np.max(u)],
                      np.quantile(u, q), np.quantile(np.abs(u), q)]
            """
        let references = try StatsPython.run(script, cases: model.prunablePaths.map { path in
            [model.state[path]!.scalars.map(Double.init), model.masks[path]!.scalars.map(Double.init)]
        })
        let agreement = Agreement(rtol: 1e-6, atol: 1e-13)
        for (row, reference) in zip(rows, references) {
            let s = row.stats
            for (x, y) in zip([Double(s.count), s.mean, s.std, s.skewness, s.excessKurtosis, s.min, s.max], reference[0]) {
                agreement.check(x, y, row.path)
            }
            for (x, y) in zip(s.quantiles.values + s.absQuantiles.values, reference[1] + reference[2]) {
                agreement.check(x, y, row.path + " quantiles")
            }
        }
        agreement.report("layer describe")
    }

    func testCompareUsesUnprunedWeightsAndMaskOverlap() throws {
        let dense = try Model(architecture, seed: 1)
        let a = pruned(dense, poison: 1e6) { _, i in i % 2 == 0 }
        let b = pruned(dense.reinitialized(seed: 9), poison: -1e6) { _, i in i % 3 == 0 }
        let rows = try LayerStats.compare(a, b)
        XCTAssertEqual(rows.map(\.path), dense.prunablePaths)
        for row in rows {
            let ua = LayerStats.unprunedWeights(a, row.path), ub = LayerStats.unprunedWeights(b, row.path)
            XCTAssertEqual(row.keptA, ua.count)
            XCTAssertEqual(row.keptB, ub.count)
            XCTAssertTrue(ua.allSatisfy { abs($0) < 10 } && ub.allSatisfy { abs($0) < 10 })
            let c = Stats.compare(ua, ub)
            XCTAssertEqual(row.ksStatistic, c.ks.statistic)
            XCTAssertEqual(row.ksPValue, c.ks.pValue)
            XCTAssertEqual(row.wasserstein, c.wasserstein)
            XCTAssertLessThan(row.wasserstein, 1, "the poison would make W1 ~1e6")
            XCTAssertEqual(row.relativeStdChange, c.relativeStdChange)
            // i even ∩ i ≡ 0 (mod 3) = i ≡ 0 (mod 6); ∪ = even or multiple of 3.
            let n = dense.state[row.path]!.count
            let intersection = (0..<n).filter { $0 % 6 == 0 }.count
            let union = (0..<n).filter { $0 % 2 == 0 || $0 % 3 == 0 }.count
            XCTAssertEqual(row.maskJaccard, Double(intersection) / Double(union))
        }
        // A model against itself: nothing moved.
        for row in try LayerStats.compare(a, a) {
            XCTAssertEqual(row.ksStatistic, 0)
            XCTAssertEqual(row.ksPValue, 1)
            XCTAssertEqual(row.wasserstein, 0)
            XCTAssertEqual(row.relativeStdChange, 0)
            XCTAssertEqual(row.maskJaccard, 1)
        }
    }

    func testCompareToInitUsesTheFullInitialTensor() throws {
        let initial = try Model(architecture, seed: 1)
        // Keep only the largest-magnitude half: a clearly non-Gaussian subset of the initial weights.
        var masks: [String: Tensor] = [:]
        for path in initial.prunablePaths {
            let w = initial.state[path]!.scalars
            let threshold = w.map(abs).sorted()[w.count / 2]
            masks[path] = Tensor(shape: initial.state[path]!.shape, scalars: w.map { abs($0) >= threshold ? 1 : 0 })
        }
        let a = initial.withMasks(masks)
        // Masks on the initial model must not matter: the comparison takes all of its w.
        let maskedInitial = initial.withMasks(masks.mapValues { Tensor.zeros($0.shape) })
        let rows = try LayerStats.compareToInit(a, initial: maskedInitial)
        for row in rows {
            let full = initial.state[row.path]!.scalars.map(Double.init)
            let kept = LayerStats.unprunedWeights(a, row.path)
            XCTAssertEqual(row.keptB, full.count)
            XCTAssertEqual(row.keptA, kept.count)
            let c = Stats.compare(kept, full)
            XCTAssertEqual(row.ksStatistic, c.ks.statistic)
            XCTAssertEqual(row.ksPValue, c.ks.pValue)
            XCTAssertEqual(row.wasserstein, c.wasserstein)
            // B is the full tensor: its std is well below that of the kept large-magnitude half.
            XCTAssertLessThan(row.relativeStdChange, -0.2)
            XCTAssertEqual(row.maskJaccard, Double(kept.count) / Double(full.count), "A's mask vs all of w")
        }
        // The dense initial model against itself: D = 0.
        XCTAssertTrue(try LayerStats.compareToInit(initial, initial: initial).allSatisfy { $0.ksStatistic == 0 })
    }

    func testFullyPrunedLayerGivesNaNNotATrap() throws {
        let dense = try Model(architecture, seed: 1)
        let first = dense.prunablePaths[0]
        let model = dense.withMasks([first: .zeros(dense.state[first]!.shape)])
        let row = LayerStats.describe(model: model)[0]
        XCTAssertEqual(row.kept, 0)
        XCTAssertEqual(row.density, 0)
        XCTAssertTrue(row.stats.mean.isNaN && row.stats.quantiles.p50.isNaN)
        let comparison = try LayerStats.compare(model, model)[0]
        XCTAssertTrue(comparison.ksStatistic.isNaN && comparison.wasserstein.isNaN)
        XCTAssertEqual(comparison.maskJaccard, 1)
        XCTAssertEqual(row.row[LayerDescription.columns.firstIndex(of: "mean")!], .missing)
    }

    func testDifferentArchitecturesThrow() throws {
        let a = try Model(architecture, seed: 1)
        let wider = try Model(Architecture(name: .mlp, inputShape: [20], classes: 3, hidden: [8]), seed: 1)
        XCTAssertThrowsError(try LayerStats.compare(a, wider)) { error in
            XCTAssertTrue("\(error)".contains("shape"), "\(error)")
        }
        let deeper = try Model(Architecture(name: .mlp, inputShape: [20], classes: 3, hidden: [16, 16]), seed: 1)
        XCTAssertThrowsError(try LayerStats.compareToInit(a, initial: deeper)) { error in
            XCTAssertTrue("\(error)".contains("prunable layers"), "\(error)")
        }
    }

    func testColumnsMatchRows() throws {
        let model = try Model(architecture, seed: 1)
        let description = LayerStats.describe(model: model)[0]
        XCTAssertEqual(LayerDescription.columns.count, description.row.count)
        XCTAssertEqual(Array(LayerDescription.columns.prefix(7)), ["layer", "shape", "total", "kept", "density", "effective_density", "mean"])
        XCTAssertEqual(LayerDescription.columns.suffix(5), ["abs_q05", "abs_q25", "abs_q50", "abs_q75", "abs_q95"])
        XCTAssertEqual(description.row[1], .text("16x20"))
        let comparison = try LayerStats.compare(model, model)[0]
        XCTAssertEqual(LayerComparison.columns.count, comparison.row.count)
        XCTAssertEqual(SampleDescription.columns.count, description.stats.row.count)
    }
}
