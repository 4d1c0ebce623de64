import XCTest
@testable import PrnPrune

/// `kstwo.sf` over every region of Simard & L'Ecuyer's algorithm, and `smirnov` beside it.
final class StatsKolmogorovTests: XCTestCase {
    /// (n, d) pairs: the support edges, the Ruben–Gambino strips, then `d` chosen so that `n·d²`
    /// crosses each switch-over (0.754693, 2.2, 4, 18, 370) and `n·d^1.5` crosses 1.4. scipy's
    /// own evaluation is O(n) per point, so sizes above 4000 get the switch-overs only.
    static func grid() -> [(n: Int, d: Double)] {
        let full: [Double] = [0.05, 0.2, 0.5, 0.75, 0.76, 1, 1.5, 2, 2.19, 2.21, 3, 3.99, 4.01, 6, 10, 17, 19,
                              30, 60, 120, 250, 369]
        let sparse: [Double] = [0.2, 0.76, 2.19, 2.21, 19, 369]
        var result: [(Int, Double)] = []
        for n in [1, 2, 3, 5, 10, 37, 140, 141, 500, 1000, 4000, 20_000, 100_000, 100_001, 1_000_000, 1_500_000] {
            let nd = Double(n)
            var ds: [Double] = [0.3 / nd, 0.5 / nd, 0.51 / nd, 0.75 / nd, 1 / nd, 1.2 / nd, 0.3, 0.49, 0.5, 0.6, 0.8,
                                1 - 1.5 / nd, 1 - 1 / nd, 1 - 0.5 / nd, 0.999999, 1]
            ds += (n <= 4000 ? full : sparse).map { ($0 / nd).squareRoot() }
            ds.append(pow(1.4 / nd, 2.0 / 3.0) * 0.99)
            ds.append(pow(1.4 / nd, 2.0 / 3.0) * 1.01)
            result += ds.filter { $0 > 0 && $0 <= 1 }.map { (n, $0) }
        }
        return result
    }

    func testKolmogorovSurvivalMatchesKstwo() throws {
        let grid = Self.grid()
        // smirnov itself only up to n = 4000 (beyond, kstwo.sf covers it where it is used).
        let script = """
            n, d = data
            result = [[stats.kstwo.sf(d[0], n[0]), scipy.special.smirnov(int(n[0]), d[0]) if n[0] <= 4000 else np.nan]]
            """
        let references = try StatsPython.run(script, cases: grid.map { [[Double($0.n)], [$0.d]] })
        // Below ~1e−290 scipy's own value is denormal rounding; only require "tiny" there.
        let agreement = Agreement(rtol: 1e-6, atol: 1e-290)
        let start = Date()
        for ((n, d), reference) in zip(grid, references) {
            agreement.check(Stats.kolmogorovSurvival(n: n, d: d), reference[0][0], "kstwo.sf(\(d), \(n))")
            if n <= 4000 {
                agreement.check(Stats.smirnovSurvival(n: n, d: d), reference[0][1], "smirnov(\(n), \(d))")
            }
        }
        print("[stats] Swift side of the kstwo grid: \(Date().timeIntervalSince(start)) s")
        agreement.report("kstwo.sf / smirnov over \(grid.count) points")
    }

    func testKolmogorovSurvivalIsMonotoneAndBounded() {
        for n in [3, 50, 140, 141, 5000, 200_000] {
            var previous = 1.0
            for k in 0...400 {
                let d = Double(k) / 400
                let p = Stats.kolmogorovSurvival(n: n, d: d)
                XCTAssertTrue(p >= 0 && p <= 1, "n=\(n) d=\(d): \(p)")
                XCTAssertLessThanOrEqual(p, previous + 1e-9, "n=\(n) d=\(d)")
                previous = p
            }
        }
        XCTAssertTrue(Stats.kolmogorovSurvival(n: 0, d: 0.5).isNaN)
        XCTAssertTrue(Stats.kolmogorovSurvival(n: 10, d: .nan).isNaN)
    }
}
