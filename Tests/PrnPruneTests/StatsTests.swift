import XCTest
import PrnKernel
import PrnNotebook
@testable import PrnPrune

/// Descriptions and two-sample comparisons against numpy/scipy on the same float64 arrays.
final class StatsTests: XCTestCase {
    // MARK: - Samples

    /// Named samples covering shapes and the small-n edge cases.
    static func samples() -> [(name: String, values: [Double])] {
        var g = SampleGenerator(seed: 42)
        let normal = g.normals(1000, mean: 0.01, std: 0.05)
        let skewed = (0..<500).map { _ in exp(g.normal()) - 1 }                  // lognormal, shifted
        let ties = (0..<200).map { _ in (g.normal() * 2).rounded() / 2 }       // multiples of 1/2
        let negative = (0..<301).map { _ in -abs(g.normal()) * 3 + 0.2 }       // mostly negative
        // Float32 weights, as layers hold them.
        let float32 = g.normals(777, std: 0.1).map { Double(Float($0)) }
        return [("normal", normal), ("skewed", skewed), ("ties", ties), ("negative", negative),
                ("float32", float32), ("n=1", [0.375]), ("n=2", [-1.5, 0.25]), ("n=3", [2, -1, 0.5]),
                ("n=3 with tie", [0.5, -0.5, 0.5])]
    }

    // MARK: - Describe

    func testDescribeMatchesNumpyAndScipy() throws {
        let cases = Self.samples()
        let script = """
            w = data[0]
            q = [0.05, 0.25, 0.5, 0.75, 0.95]
            result = [[len(w), np.mean(w), np.std(w), np.mean(np.abs(w)),
                       stats.skew(w, bias=True), stats.kurtosis(w, fisher=True, bias=True), np.min(w), np.max(w)],
                      np.quantile(w, q), np.quantile(np.abs(w), q)]
            """
        let references = try StatsPython.run(script, cases: cases.map { [$0.values] })
        let agreement = Agreement(rtol: 1e-6, atol: 1e-13)
        let names = ["count", "mean", "std", "mean_abs", "skew", "kurtosis", "min", "max"]
        for ((name, values), reference) in zip(cases, references) {
            let d = Stats.describe(values)
            let ours = [Double(d.count), d.mean, d.std, d.meanAbs, d.skewness, d.excessKurtosis, d.min, d.max]
            for (k, (x, y)) in zip(ours, reference[0]).enumerated() { agreement.check(x, y, "\(name) \(names[k])") }
            for (k, (x, y)) in zip(d.quantiles.values, reference[1]).enumerated() {
                agreement.check(x, y, "\(name) q\(Quantiles.levels[k])")
            }
            for (k, (x, y)) in zip(d.absQuantiles.values, reference[2]).enumerated() {
                agreement.check(x, y, "\(name) |w| q\(Quantiles.levels[k])")
            }
        }
        agreement.report("describe")
    }

    func testDescribeOfEmptyAndConstantSamplesHasNoNaNTraps() throws {
        let empty = Stats.describe([])
        XCTAssertEqual(empty.count, 0)
        for x in [empty.mean, empty.std, empty.meanAbs, empty.skewness, empty.excessKurtosis, empty.min, empty.max]
            + empty.quantiles.values + empty.absQuantiles.values {
            XCTAssertTrue(x.isNaN)
        }
        // Constant: std 0, standardized moments NaN, as scipy (checked below), the rest exact.
        let constant = Stats.describe([-2.5, -2.5, -2.5, -2.5])
        XCTAssertEqual(constant.std, 0)
        XCTAssertEqual(constant.mean, -2.5)
        XCTAssertEqual(constant.meanAbs, 2.5)
        XCTAssertEqual(constant.quantiles.values, [Double](repeating: -2.5, count: 5))
        XCTAssertEqual(constant.absQuantiles.values, [Double](repeating: 2.5, count: 5))
        XCTAssertTrue(constant.skewness.isNaN && constant.excessKurtosis.isNaN)
        let reference = try StatsPython.run("w = data[0]\nresult = [[stats.skew(w), stats.kurtosis(w)]]",
                                            cases: [[[-2.5, -2.5, -2.5, -2.5]], [[0.375]]])
        XCTAssertTrue(reference.allSatisfy { $0[0].allSatisfy(\.isNaN) }, "scipy gives NaN too")
        XCTAssertTrue(Stats.describe([0.375]).skewness.isNaN)
        // A NaN weight makes every statistic NaN (there is no order for the quantiles).
        let withNaN = Stats.describe([1, .nan, 2])
        XCTAssertEqual(withNaN.count, 3)
        XCTAssertTrue(withNaN.mean.isNaN && withNaN.quantiles.p50.isNaN)
        // Table rendering of undefined statistics.
        XCTAssertEqual(TableCell.statistic(.nan), .missing)
        XCTAssertEqual(TableCell.statistic(0.25), .number(0.25))
    }

    func testRadixSortAgreesWithComparisonSort() {
        var g = SampleGenerator(seed: 5)
        var values: [Float] = (0..<100_000).map { _ in Float(g.normal() * 0.05) }
        values += [0, -0.0, 0, .infinity, -.infinity, .leastNonzeroMagnitude, -.leastNonzeroMagnitude,
                   .greatestFiniteMagnitude, -.greatestFiniteMagnitude, 1, 1, 1, -1]
        values += (0..<1000).map { _ in Float((g.normal() * 4).rounded()) }      // many ties
        let expected = values.sorted().map(Double.init)
        XCTAssertEqual(Stats.sortedAscending(values), expected)
        XCTAssertEqual(Stats.sortedAscending([]), [])
        XCTAssertEqual(Stats.sortedAscending([3, 3, 3]), [3, 3, 3])
        XCTAssertEqual(Stats.sortedAscending([2, -1]), [-1, 2])
    }

    func testSortedMagnitudesMergesBothSigns() {
        let w: [Double] = [-3, -1, -0.0, 0, 0.5, 2, 4]
        XCTAssertEqual(Stats.sortedMagnitudes(sorted: w), w.map(abs).sorted())
        XCTAssertEqual(Stats.sortedMagnitudes(sorted: [-2, -1]), [1, 2])
        XCTAssertEqual(Stats.sortedMagnitudes(sorted: []), [])
    }

    // MARK: - Two samples

    /// Pairs spanning KS p-values from ~1e−12 to 1, ties, and very different sizes.
    static func pairs() -> [(name: String, a: [Double], b: [Double])] {
        var g = SampleGenerator(seed: 7)
        var result: [(String, [Double], [Double])] = []
        for (shift, n, m) in [(0.0, 400, 600), (0.1, 400, 600), (0.25, 500, 500), (0.5, 300, 700), (0.75, 1000, 1000),
                              (0.4, 1500, 2500), (1.0, 120, 130)] {
            result.append(("shift \(shift) \(n)/\(m)", g.normals(n), g.normals(m, mean: shift)))
        }
        // Exact-formula regions of kstwo: small effective sizes (n ≤ 140) and D ≥ 1/2.
        result.append(("small 12/15", g.normals(12), g.normals(15, mean: 0.3)))
        result.append(("small 30/40", g.normals(30), g.normals(40, mean: 0.5)))
        result.append(("small 60/80 far", g.normals(60), g.normals(80, mean: 1.5)))
        result.append(("separated 20/25", g.normals(20), g.normals(25, mean: 10)))
        result.append(("tiny 1/2", [0.5], [0.1, 0.9]))
        result.append(("tiny 2/3", [0.5, 1.5], [0.1, 0.9, 2.0]))
        // Very different sizes.
        result.append(("sizes 5/5000", g.normals(5, mean: 0.5), g.normals(5000)))
        result.append(("sizes 1/1000", [0.3], g.normals(1000)))
        result.append(("sizes 50/20000", g.normals(50, mean: 0.2), g.normals(20000)))
        // Ties within and across samples (values on a coarse grid).
        let grid = { (x: Double) in (x * 2).rounded() / 2 }
        result.append(("ties", g.normals(300).map(grid), g.normals(400, mean: 0.2).map(grid)))
        result.append(("ties heavy", g.normals(100).map { ($0 * 0.5).rounded() }, g.normals(90).map { ($0 * 0.5).rounded() }))
        let same = g.normals(250)
        result.append(("identical", same, same))
        // Effective size above 140 with n·D² below 2.2: Durbin matrix and Pelz–Good paths.
        result.append(("large close", g.normals(3000), g.normals(4000, mean: 0.02)))
        return result
    }

    func testKSAndWassersteinMatchScipy() throws {
        let pairs = Self.pairs()
        let script = """
            a, b = data
            ks = stats.ks_2samp(a, b, method='asymp')
            result = [[ks.statistic, ks.pvalue, stats.wasserstein_distance(a, b), np.std(b) / np.std(a) - 1]]
            """
        let references = try StatsPython.run(script, cases: pairs.map { [$0.a, $0.b] })
        let agreement = Agreement(rtol: 1e-6, atol: 1e-300)
        var smallest = 1.0, largest = 0.0
        for ((name, a, b), reference) in zip(pairs, references) {
            let c = Stats.compare(a, b)
            let r = reference[0]
            agreement.check(c.ks.statistic, r[0], "\(name) D")
            agreement.check(c.ks.pValue, r[1], "\(name) p")
            agreement.check(c.wasserstein, r[2], "\(name) W1", atol: 1e-15)
            agreement.check(c.relativeStdChange, r[3], "\(name) rel std", atol: 1e-13)
            smallest = min(smallest, r[1])
            largest = max(largest, r[1])
        }
        XCTAssertLessThan(smallest, 1e-12, "the pairs reach p-values below 1e-12")
        XCTAssertEqual(largest, 1, "and p = 1")
        agreement.report("ks_2samp + wasserstein_distance")
    }

    func testKSEdgeCases() {
        // One observation each: scipy's effective size rounds to 0 and its p-value is NaN.
        let single = Stats.ksTest(sorted: [1], [2])
        XCTAssertEqual(single.statistic, 1)
        XCTAssertTrue(single.pValue.isNaN)
        // Empty samples (a fully pruned layer) give NaN everywhere, no trap.
        let empty = Stats.compare([], [1, 2, 3])
        XCTAssertTrue(empty.ks.statistic.isNaN && empty.ks.pValue.isNaN && empty.wasserstein.isNaN
                      && empty.relativeStdChange.isNaN)
        XCTAssertEqual(Stats.compare([1, 1], [1, 2]).relativeStdChange, .infinity, "std_a = 0, as numpy")
        XCTAssertTrue(Stats.compare([1, 1], [2, 2]).relativeStdChange.isNaN, "0/0")
        XCTAssertEqual(Stats.compare([1, 2, 3], [1, 2, 3]).ks.pValue, 1)
    }

    func testWelchTTestMatchesScipy() throws {
        var g = SampleGenerator(seed: 3)
        let pairs: [(String, [Double], [Double])] = [
            ("seeds 3/3", [0.912, 0.915, 0.909], [0.905, 0.911, 0.903]),
            ("seeds 5/4", g.normals(5, mean: 0.9, std: 0.01), g.normals(4, mean: 0.89, std: 0.02)),
            ("equal", [1, 2, 3], [1, 2, 3]),
            ("far", g.normals(10, mean: 0, std: 0.1), g.normals(12, mean: 1, std: 0.1)),     // p ~ 1e-15
            ("very far", g.normals(30, mean: 0, std: 0.1), g.normals(30, mean: 1, std: 0.1)),
            ("unequal sizes", g.normals(2, mean: 0.5), g.normals(50)),
            ("large", g.normals(4000, mean: 0.05), g.normals(5000)),
        ]
        let script = """
            a, b = data
            r = stats.ttest_ind(a, b, equal_var=False)
            # Welch–Satterthwaite by hand: scipy < 1.11 (Debian 12 ships 1.10) has no `r.df`.
            va, vb = np.var(a, ddof=1) / len(a), np.var(b, ddof=1) / len(b)
            df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
            result = [[r.statistic, df, r.pvalue]]
            """
        let references = try StatsPython.run(script, cases: pairs.map { [$0.1, $0.2] })
        let agreement = Agreement(rtol: 1e-6, atol: 1e-300)
        var smallest = 1.0
        for ((name, a, b), reference) in zip(pairs, references) {
            let w = Stats.welchTTest(a, b)
            agreement.check(w.t, reference[0][0], "\(name) t", atol: 1e-12)
            agreement.check(w.df, reference[0][1], "\(name) df")
            agreement.check(w.pValue, reference[0][2], "\(name) p")
            smallest = min(smallest, reference[0][2])
        }
        XCTAssertLessThan(smallest, 1e-12)
        agreement.report("ttest_ind(equal_var=False)")
        // Degenerate cases as scipy: constant samples with different means, and n < 2.
        let constant = Stats.welchTTest([1, 1, 1], [2, 2, 2])
        XCTAssertEqual(constant.t, -.infinity)
        XCTAssertEqual(constant.pValue, 0)
        XCTAssertTrue(Stats.welchTTest([1], [2, 2, 3]).pValue.isNaN)
        XCTAssertTrue(Stats.welchTTest([2, 2], [2, 2]).pValue.isNaN)
    }

    func testIncompleteBetaMatchesScipy() throws {
        let cases: [(Double, Double, Double)] = [(0.5, 0.5, 0.3), (2, 3, 0.4), (1.5, 0.5, 0.999), (10, 0.5, 0.01),
                                                 (50, 0.5, 0.9), (200, 0.5, 0.5), (0.1, 4, 0.7), (1000, 1000, 0.49)]
        let references = try StatsPython.run("a, b, x = data\nresult = [[scipy.special.betainc(a[0], b[0], x[0])]]",
                                             cases: cases.map { [[$0.0], [$0.1], [$0.2]] })
        let agreement = Agreement(rtol: 1e-9, atol: 1e-300)
        for ((a, b, x), reference) in zip(cases, references) {
            agreement.check(Stats.regularizedIncompleteBeta(a: a, b: b, x: x), reference[0][0], "I_\(x)(\(a), \(b))")
        }
        agreement.report("betainc")
    }

    func testJaccardByHandCount() {
        let a = Tensor(shape: [2, 4], scalars: [1, 1, 0, 0, 1, 0, 1, 0])
        let b = Tensor(shape: [2, 4], scalars: [1, 0, 0, 1, 1, 0, 0, 0])
        // ∩ = positions 0, 4 → 2; ∪ = positions 0, 1, 3, 4, 6 → 5.
        XCTAssertEqual(Stats.jaccard(a, b), 2.0 / 5.0)
        XCTAssertEqual(Stats.jaccard(a, a), 1)
        XCTAssertEqual(Stats.jaccard(a, .zeros([2, 4])), 0)
        XCTAssertEqual(Stats.jaccard(.zeros([3]), .zeros([3])), 1, "two empty masks are identical")
    }

    /// Two VGG-sized layers (2.4M weights each): the merged walks keep this well under seconds.
    func testCompareScalesToVGGLayers() {
        var g = SampleGenerator(seed: 11)
        let a = g.normals(2_359_296, std: 0.01), b = g.normals(2_359_296, mean: 1e-4, std: 0.01)
        let start = Date()
        let c = Stats.compare(a, b)
        let seconds = Date().timeIntervalSince(start)
        print("[stats] compare of 2 × 2.4M weights: \(seconds) s, D = \(c.ks.statistic), p = \(c.ks.pValue)")
        XCTAssertTrue(c.ks.pValue > 0 && c.ks.pValue < 1e-3)
        XCTAssertLessThan(seconds, 20)
    }
}
