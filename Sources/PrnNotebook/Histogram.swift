import Foundation

/// Histograms of one or more samples over shared bins: as an SVG file (overlaid outlines, one
/// colour per sample, densities so samples of different sizes compare) and as compact Unicode
/// rows for the terminal.
public struct Histogram: Sendable {
    public struct Series: Sendable {
        public let label: String
        public let counts: [Int]
        public let total: Int
    }

    public let low: Double, high: Double, bins: Int
    public let series: [Series]

    /// Bins `samples` over the range of all their finite values together.
    public init(_ samples: [(label: String, values: [Double])], bins: Int = 50) {
        let finite = samples.flatMap { $0.values.filter(\.isFinite) }
        var low = finite.min() ?? 0, high = finite.max() ?? 1
        if low == high { low -= 0.5; high += 0.5 }
        let bins = Swift.max(1, bins)
        self.low = low
        self.high = high
        self.bins = bins
        series = samples.map { sample in
            var counts = [Int](repeating: 0, count: bins)
            for v in sample.values where v.isFinite {
                counts[Swift.min(bins - 1, Int((v - low) / (high - low) * Double(bins)))] += 1
            }
            return Series(label: sample.label, counts: counts, total: counts.reduce(0, +))
        }
    }

    /// Fraction of a series' values in each bin.
    func density(_ s: Series) -> [Double] { s.counts.map { s.total == 0 ? 0 : Double($0) / Double(s.total) } }

    /// One row of block characters per series, scaled to the tallest bin of any series.
    public func terminal(width: Int = 60) -> String {
        let blocks = Array(" ▁▂▃▄▅▆▇█")
        let columns = Swift.min(width, bins)
        let peak = series.flatMap { density($0) }.max() ?? 1
        let labelWidth = series.map(\.label.count).max() ?? 0
        var lines = series.map { s -> String in
            let d = density(s)
            let row = (0..<columns).map { c -> Character in
                let range = (c * bins / columns)..<Swift.max((c + 1) * bins / columns, c * bins / columns + 1)
                let value = range.map { d[$0] }.max() ?? 0
                return blocks[peak == 0 ? 0 : Int((value / peak * 8).rounded())]
            }
            return s.label.padding(toLength: labelWidth, withPad: " ", startingAt: 0) + " │" + String(row) + "│ n=\(s.total)"
        }
        let axis = String(repeating: " ", count: labelWidth + 2)
        let left = String(format: "%.3g", low), right = String(format: "%.3g", high)
        lines.append(axis + left + String(repeating: " ", count: Swift.max(1, columns - left.count - right.count + 2)) + right)
        return lines.joined(separator: "\n")
    }

    /// A self-contained SVG document: outlined densities over a value axis with ticks, a y axis
    /// of the fraction per bin, and a legend.
    public func svg(title: String, width: Int = 640, height: Int = 360) -> String {
        let (left, right, top, bottom) = (80.0, 20.0, 40.0, 50.0)
        var x = PlotAxis(covering: [low, high]), y = PlotAxis(covering: [0] + series.flatMap { density($0) })
        (x.start, x.end) = (left, Double(width) - right)
        (y.start, y.end) = (Double(height) - bottom, top)
        let edge = { (bin: Int) in x.position(self.low + (self.high - self.low) * Double(bin) / Double(self.bins)) }
        var out = SVG.header(width: Double(width), height: Double(height), title: title)
        out += SVG.axes(x: x, y: y, xLabel: "weight value", yLabel: "fraction per bin")
        for (i, s) in series.enumerated() {
            let d = density(s)
            // Full-precision coordinates: the outline is the data (tests read bin heights back from it).
            var path = "M \(edge(0)) \(y.position(0))"
            for b in 0..<bins { path += " L \(edge(b)) \(y.position(d[b])) L \(edge(b + 1)) \(y.position(d[b]))" }
            path += " L \(edge(bins)) \(y.position(0))"
            let color = SVG.palette[i % SVG.palette.count]
            out += "<path d=\"\(path)\" class=\"series\" fill=\"\(color)\" fill-opacity=\"0.15\" stroke=\"\(color)\" stroke-width=\"1.5\"/>\n"
        }
        out += SVG.legend(series.enumerated().map { ("\($1.label) (n=\($1.total))", SVG.palette[$0 % SVG.palette.count]) },
                          x: Double(width) - right - 190, y: top + 14)
        return out + "</svg>\n"
    }
}
