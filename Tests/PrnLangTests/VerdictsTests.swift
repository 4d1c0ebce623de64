import XCTest
import PrnKernel
import PrnNotebook
import PrnTestSupport
@testable import PrnLang

/// `verdicts` — the computation behind README's "holds in 23 of 30 rows" — through the language,
/// against an independent computation: numpy for means and sample standard deviations, σ by
/// hand, scipy's Welch test, grouping done in Python.
final class VerdictsTests: XCTestCase {
    struct Run {
        var method: String, sparsity: Double, ablation: String, seed: Int, acc: Double, loss: Double
    }

    /// A results grid as a reproduction makes it, rows interleaved across groups: 3 methods × 2
    /// sparsities × 3 ablations × 3–4 seeds, one variant with a single seed, and a `loss` column
    /// of measurements that must not split groups.
    static func grid() -> [Run] {
        var rng = RNG(seed: 2021)
        var runs: [Run] = []
        for seed in 0..<4 {
            for method in ["random", "snip", "synflow"] {
                for sparsity in [0.9, 0.98] {
                    for (a, ablation) in ["original", "shuffle", "reinit"].enumerated() {
                        if seed == 3 && !(method == "snip" && ablation == "reinit") { continue }
                        if seed > 0 && method == "synflow" && sparsity == 0.98 && ablation == "shuffle" { continue }
                        let noise = Double(rng.normal(count: 1)[0]) * 0.004 * (1 + sparsity)
                        let acc = 0.86 - Double(a) * 0.002 * Double(method.count - 4) + noise
                        runs.append(Run(method: method, sparsity: sparsity, ablation: ablation, seed: seed,
                                        acc: acc, loss: Double(rng.uniform(count: 1)[0])))
                    }
                }
            }
        }
        return runs
    }

    /// The verdict table `verdicts` made from `rows`.
    private func verdicts(_ runs: [Run]) throws -> Table {
        let rows = runs.map {
            "row t method=\($0.method) sparsity=\($0.sparsity) ablation=\($0.ablation) seed=\($0.seed) acc=\($0.acc) loss=\($0.loss)"
        }
        let session = Session()
        let result = session.run((["t = table"] + rows + ["v = verdicts t"]).joined(separator: "\n"))
        XCTAssertEqual(result.outcome, .ok, result.stderr.joined(separator: "\n"))
        return try XCTUnwrap(session.interpreter.workspace["v"]?.table)
    }

    func testVerdictsMatchScipyWelchAndHandComputedSigma() throws {
        let runs = Self.grid()
        let table = try verdicts(runs)
        let program = """
            import sys, json, math, numpy as np, scipy.stats as stats
            runs = json.load(sys.stdin)
            groups, order = {}, []
            for r in runs:
                key = (r['method'], r['sparsity'])
                if key not in groups:
                    groups[key] = {}
                    order.append(key)
                groups[key].setdefault(r['ablation'], []).append(r['acc'])
            out = []
            for key in order:
                base = np.array(groups[key]['original'])
                for name, values in groups[key].items():
                    if name == 'original':
                        continue
                    x = np.array(values)
                    sb = base.std(ddof=1) if len(base) > 1 else math.nan
                    sv = x.std(ddof=1) if len(x) > 1 else math.nan
                    delta, sigma = x.mean() - base.mean(), math.sqrt((sb * sb + sv * sv) / 2)
                    p = stats.ttest_ind(x, base, equal_var=False).pvalue if len(x) > 1 else math.nan
                    verdict = '—' if math.isnan(sigma) else ('holds' if delta >= -sigma else 'fails')
                    numbers = [repr(float(v)) for v in (key[1], base.mean(), x.mean(), delta, sigma, p)]
                    out.append([key[0], numbers[0], name, len(x)] + numbers[1:] + [verdict])
            print(json.dumps(out))
            """
        let input = try JSONSerialization.data(withJSONObject: runs.map {
            ["method": $0.method, "sparsity": $0.sparsity, "ablation": $0.ablation, "acc": $0.acc] as [String: Any]
        })
        let output = try Python.run(program, input: String(decoding: input, as: UTF8.self), needs: ["numpy", "scipy"])
        let expected = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[Any]])
        XCTAssertEqual(table.columns, ["method", "sparsity", "ablation", "n", "baseline_mean", "mean", "delta", "sigma", "welch_p", "verdict"])
        XCTAssertEqual(table.rows.count, expected.count, "one row per group and variant")
        XCTAssertEqual(expected.count, 12)
        var verdicts: Set<String> = []
        for (row, reference) in zip(table.rows, expected) {
            let label = "\(reference[0]) \(reference[1]) \(reference[2])"
            XCTAssertEqual(row[0].description, reference[0] as? String, label)
            XCTAssertEqual(row[1].number, Double(reference[1] as! String), label)
            XCTAssertEqual(row[2].description, reference[2] as? String, label)
            XCTAssertEqual(row[3].number, (reference[3] as! NSNumber).doubleValue, label)
            for (column, name) in [(4, "baseline_mean"), (5, "mean"), (6, "delta"), (7, "sigma"), (8, "welch_p")] {
                let want = try XCTUnwrap(Double(reference[column] as! String), "\(reference[column])")
                guard let got = row[column].number else {
                    XCTAssertTrue(want.isNaN, "\(label) \(name): missing, scipy \(want)")
                    continue
                }
                if want.isNaN {
                    XCTAssertTrue(got.isNaN, "\(label) \(name): \(got), numpy NaN")
                } else {
                    XCTAssertEqual(got, want, accuracy: 1e-12 + 1e-9 * abs(want), "\(label) \(name)")
                }
            }
            XCTAssertEqual(row[9].description, reference[9] as? String, label)
            verdicts.insert(row[9].description)
        }
        XCTAssertEqual(verdicts, ["holds", "fails", "—"], "the grid exercises every verdict")
    }

    /// Δ = −σ exactly holds; a step of 2⁻¹⁰ below it fails. Dyadic values keep every mean and
    /// standard deviation exact: baseline 0.5, 0.75, 1 (mean 0.75, s = 0.25).
    func testBoundaryDeltaEqualsMinusSigmaHolds() throws {
        func run(_ ablation: String, _ values: [Double]) -> [Run] {
            values.enumerated().map { Run(method: "snip", sparsity: 0.9, ablation: ablation, seed: $0.offset, acc: $0.element, loss: 0) }
        }
        let below = 1.0 / 1024
        let table = try verdicts(run("original", [0.5, 0.75, 1]) + run("edge", [0.25, 0.5, 0.75])
                                 + run("beyond", [0.25 - below, 0.5 - below, 0.75 - below])
                                 + run("wider", [0.25, 0.5, 0.75, 1.0]))
        let column = { (name: String) in table.column(name)!.map(\.description) }
        XCTAssertEqual(column("ablation"), ["edge", "beyond", "wider"])
        XCTAssertEqual(table.column("delta")!.map(\.number), [-0.25, -0.25 - below, -0.125])
        let sigma = table.column("sigma")!.compactMap(\.number)
        XCTAssertEqual(Array(sigma.prefix(2)), [0.25, 0.25])
        // wider: s² = (0.375² + 0.125² + 0.125² + 0.375²) / 3, σ = √((0.25² + s²) / 2).
        XCTAssertEqual(sigma[2], ((0.0625 + 0.3125 / 3) / 2).squareRoot(), accuracy: 1e-15)
        XCTAssertEqual(column("verdict"), ["holds", "fails", "holds"])
    }
}
