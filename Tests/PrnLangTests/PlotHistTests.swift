import XCTest
import PrnTestSupport
@testable import PrnLang

/// `plot hist` bins against numpy's histogram of the same weights, read by numpy from the model
/// `save` wrote. The SVG draws each bin at height density / tallest density, so its outline gives
/// every count relative to the tallest bin, and its legend gives each series' total.
final class PlotHistTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("prn-plot-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    /// Each series' bar heights (0…1 of the plot's height) and its `n=`.
    private func series(inSVG svg: String) throws -> [(heights: [Double], total: Int)] {
        let paths = svg.split(separator: "\n").filter { $0.hasPrefix("<path d=\"M ") }
        let totals = svg.split(separator: "\n").compactMap { line -> Int? in
            guard line.hasPrefix("<text"), let start = line.range(of: "(n="), let end = line.range(of: ")</text>") else { return nil }
            return Int(line[start.upperBound..<end.lowerBound])
        }
        let points: [[Double]] = paths.map { path in
            let d = path.dropFirst("<path d=\"".count).prefix { $0 != "\"" }
            return d.split(separator: " ").compactMap { Double($0) }
        }
        XCTAssertEqual(points.count, totals.count)
        // Points: the baseline start, then two corners per bin at the bin's height.
        let baseline = try XCTUnwrap(points.first?[1])
        let top = points.flatMap { p in stride(from: 3, to: p.count, by: 2).map { p[$0] } }.min() ?? baseline
        return zip(points, totals).map { p, total in
            let corners = stride(from: 3, to: p.count - 2, by: 4).map { p[$0] }
            return (corners.map { (baseline - $0) / (baseline - top) }, total)
        }
    }

    func testBinCountsMatchNumpyHistogram() throws {
        let session = Session()
        let result = session.run("""
            d = data synthetic classes=3 shape=[20] train=60 test=30 seed=1
            m = model mlp widths=[40] data=d seed=2
            p = prune m method=magnitude density=0.3 seed=3
            save p to "\(folder.path)/p.safetensors"
            plot hist p layer=fc1 to "\(folder.path)/one.svg" bins=37
            plot hist p layer=fc1 vs init to "\(folder.path)/two.svg" bins=20
            plot hist p layer=fc2 vs m to "\(folder.path)/three.svg"
            """, directory: folder.path)
        XCTAssertEqual(result.outcome, .ok, result.stderr.joined(separator: "\n"))
        let program = """
            import sys, json, struct, numpy as np
            raw = open(sys.argv[1], 'rb').read()
            n = struct.unpack('<Q', raw[:8])[0]
            header = json.loads(raw[8:8 + n])
            def tensor(name):
                info = header[name]
                lo, hi = info['data_offsets']
                dt = {'F32': '<f4', 'U8': 'u1'}[info['dtype']]
                return np.frombuffer(raw[8 + n + lo:8 + n + hi], dtype=dt).reshape(info['shape'])
            def kept(layer):
                return tensor(layer + '.weight')[tensor(layer + '.weight_mask') != 0].astype(np.float64)
            def full(layer):
                return tensor(layer + '.weight').ravel().astype(np.float64)
            def plot(samples, bins):
                lo = min(s.min() for s in samples)
                hi = max(s.max() for s in samples)
                counts = [np.histogram(s, bins=bins, range=(lo, hi))[0] for s in samples]
                densities = [c / c.sum() for c in counts]
                peak = max(d.max() for d in densities)
                return [[(d / peak).tolist(), int(c.sum())] for c, d in zip(counts, densities)]
            print(json.dumps([plot([kept('fc1')], 37), plot([kept('fc1'), full('fc1')], 20),
                              plot([kept('fc2'), full('fc2')], 50)]))
            """
        let output = try Python.run(program, input: "", arguments: [folder.appendingPathComponent("p.safetensors").path], needs: ["numpy"])
        let expected = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[[Any]]])
        for (file, reference) in zip(["one.svg", "two.svg", "three.svg"], expected) {
            let svg = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            let drawn = try series(inSVG: svg)
            XCTAssertEqual(drawn.count, reference.count, file)
            for (s, (ours, numpy)) in zip(drawn, reference).enumerated() {
                XCTAssertEqual(ours.total, numpy[1] as? Int, "\(file) series \(s): total")
                assertClose(ours.heights, (numpy[0] as! [NSNumber]).map(\.doubleValue), rtol: 0, atol: 1e-9, "\(file) series \(s)")
            }
        }
    }
}
