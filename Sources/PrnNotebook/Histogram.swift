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

    /// A self-contained SVG document.
    public func svg(title: String, width: Int = 640, height: Int = 360) -> String {
        let colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]
        let (left, right, top, bottom) = (50.0, 20.0, 30.0, 40.0)
        let plotW = Double(width) - left - right, plotH = Double(height) - top - bottom
        let peak = Swift.max(series.flatMap { density($0) }.max() ?? 1, 1e-12)
        func x(_ bin: Int) -> Double { left + plotW * Double(bin) / Double(bins) }
        func y(_ d: Double) -> Double { top + plotH * (1 - d / peak) }
        var out = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(Double(width) / 2)" y="18" text-anchor="middle" font-size="14">\(escape(title))</text>
        <line x1="\(left)" y1="\(top + plotH)" x2="\(left + plotW)" y2="\(top + plotH)" stroke="black"/>
        <line x1="\(left)" y1="\(top)" x2="\(left)" y2="\(top + plotH)" stroke="black"/>
        <text x="\(left)" y="\(top + plotH + 16)" text-anchor="middle">\(String(format: "%.3g", low))</text>
        <text x="\(left + plotW)" y="\(top + plotH + 16)" text-anchor="middle">\(String(format: "%.3g", high))</text>
        <text x="\(left + plotW / 2)" y="\(top + plotH + 32)" text-anchor="middle">weight value</text>
        <text x="14" y="\(top + plotH / 2)" text-anchor="middle" transform="rotate(-90 14 \(top + plotH / 2))">fraction per bin</text>

        """
        for (i, s) in series.enumerated() {
            let d = density(s)
            var path = "M \(x(0)) \(y(0))"
            for b in 0..<bins { path += " L \(x(b)) \(y(d[b])) L \(x(b + 1)) \(y(d[b]))" }
            path += " L \(x(bins)) \(y(0))"
            let color = colors[i % colors.count]
            out += "<path d=\"\(path)\" fill=\"\(color)\" fill-opacity=\"0.15\" stroke=\"\(color)\" stroke-width=\"1.5\"/>\n"
            out += "<text x=\"\(left + plotW - 4)\" y=\"\(top + 14 + 16 * Double(i))\" text-anchor=\"end\" fill=\"\(color)\">"
                + "\(escape(s.label)) (n=\(s.total))</text>\n"
        }
        return out + "</svg>\n"
    }

    private func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
