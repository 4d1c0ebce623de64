import Foundation

/// A table drawn as curves: `y` against `x`, one curve per value of the `series` column, one
/// panel per value of the `facet` column (shared axes), as Frankle et al. (2021) draw accuracy
/// against sparsity per method and ablation.
///
/// Rows that agree on facet, series and x are replicates: with `mean: "seed"` they are averaged
/// into a point at their mean with a band of ± one sample standard deviation (n − 1; no band for
/// a single row). Without `mean`, two rows for one point are an error. Rows whose `x` or `y` is
/// missing are skipped; text there is an error.
public struct LinePlot: Sendable {
    public struct Point: Sendable, Equatable {
        public let x: Double, mean: Double
        /// Sample standard deviation over the replicates; nil for one replicate.
        public let std: Double?
        public let count: Int
    }

    public struct Series: Sendable {
        public let label: String
        public let points: [Point]
    }

    public struct Panel: Sendable {
        /// The facet value, or nil without facets.
        public let title: String?
        public let series: [Series]
    }

    public let panels: [Panel]
    /// Every series label in order of first appearance (colours follow this order in all panels).
    public let seriesLabels: [String]
    public let xLabel: String, yLabel: String, seriesLabel: String?
    public let xScale: PlotAxis.Scale

    public init(_ table: Table, x: String, y: String, series: String? = nil, facet: String? = nil,
                mean: String? = nil, xScale: PlotAxis.Scale = .linear) throws {
        let xi = try table.index(of: x, role: "x"), yi = try table.index(of: y, role: "y")
        let si = try series.map { try table.index(of: $0, role: "series") }
        let fi = try facet.map { try table.index(of: $0, role: "facet") }
        if let mean { _ = try table.index(of: mean, role: "mean") }
        var facets: [String] = [], labels: [String] = []
        var groups: [String: [String: [Double: [Double]]]] = [:]
        for row in table.rows {
            guard row[xi] != .missing, row[yi] != .missing else { continue }
            guard let xv = row[xi].number, let yv = row[yi].number else {
                throw TableError("x column '\(x)' and y column '\(y)' must hold numbers, not '\(row[xi].number == nil ? row[xi] : row[yi])'")
            }
            if xScale == .log && xv <= 0 { throw TableError("x=\(x) on a log scale needs positive values, not \(row[xi])") }
            let f = fi.map { row[$0].description } ?? "", s = si.map { row[$0].description } ?? y
            if !facets.contains(f) { facets.append(f) }
            if !labels.contains(s) { labels.append(s) }
            groups[f, default: [:]][s, default: [:]][xv, default: []].append(yv)
        }
        guard !labels.isEmpty else { throw TableError("no row has numbers in both '\(x)' and '\(y)'") }
        panels = try facets.map { f in
            let series = try labels.compactMap { s -> Series? in
                guard let byX = groups[f]?[s] else { return nil }
                let points = try byX.keys.sorted().map { xv -> Point in
                    let ys = byX[xv]!
                    if ys.count > 1 && mean == nil {
                        throw TableError("more than one row has \(facet.map { "\($0)=\(f) " } ?? "")\(series.map { "\($0)=\(s) " } ?? "")"
                                         + "\(x)=\(SVG.number(xv)); average them with mean=COLUMN")
                    }
                    let (m, std) = Replicates.meanAndStd(ys)
                    return Point(x: xv, mean: m, std: ys.count > 1 ? std : nil, count: ys.count)
                }
                return Series(label: s, points: points)
            }
            return Panel(title: fi == nil ? nil : "\(facet!)=\(f)", series: series)
        }
        seriesLabels = labels
        xLabel = x
        yLabel = mean.map { "\(y) (mean ± std over \($0))" } ?? y
        seriesLabel = series
        self.xScale = xScale
    }

    /// A self-contained SVG document: panels in rows of up to three, a legend on the right.
    public func svg(title: String) -> String {
        let (panelW, panelH) = (300.0, 240.0)
        let (left, top, gapX, gapY, legendW) = (80.0, 50.0, 40.0, 70.0, 160.0)
        let columns = Swift.min(panels.count, 3), rows = (panels.count + 2) / 3
        let width = left + Double(columns) * panelW + Double(columns - 1) * gapX + 20 + legendW
        let height = top + Double(rows) * panelH + Double(rows - 1) * gapY + 60
        let points = panels.flatMap { $0.series.flatMap(\.points) }
        let xAxis = PlotAxis(covering: points.map(\.x), scale: xScale)
        let yAxis = PlotAxis(covering: points.flatMap { [$0.mean - ($0.std ?? 0), $0.mean + ($0.std ?? 0)] })
        var out = SVG.header(width: width, height: height, title: title)
        for (p, panel) in panels.enumerated() {
            let x0 = left + Double(p % 3) * (panelW + gapX), y0 = top + Double(p / 3) * (panelH + gapY)
            var xa = xAxis, ya = yAxis
            (xa.start, xa.end) = (x0, x0 + panelW)
            (ya.start, ya.end) = (y0 + panelH, y0)
            out += SVG.axes(x: xa, y: ya, xLabel: xLabel, yLabel: p % 3 == 0 ? yLabel : nil, title: panel.title)
            for s in panel.series {
                let color = SVG.palette[(seriesLabels.firstIndex(of: s.label) ?? 0) % SVG.palette.count]
                let pts = s.points
                if pts.contains(where: { $0.std != nil }) {
                    let upper = pts.map { "\(SVG.px(xa.position($0.x))) \(SVG.px(ya.position($0.mean + ($0.std ?? 0))))" }
                    let lower = pts.reversed().map { "\(SVG.px(xa.position($0.x))) \(SVG.px(ya.position($0.mean - ($0.std ?? 0))))" }
                    out += "<path class=\"band\" d=\"M \((upper + lower).joined(separator: " L ")) Z\" fill=\"\(color)\" "
                        + "fill-opacity=\"0.2\" stroke=\"none\"/>\n"
                }
                let line = pts.map { "\(SVG.px(xa.position($0.x))) \(SVG.px(ya.position($0.mean)))" }.joined(separator: " L ")
                out += "<path class=\"series\" data-series=\"\(SVG.escape(s.label))\" d=\"M \(line)\" fill=\"none\" "
                    + "stroke=\"\(color)\" stroke-width=\"2\"/>\n"
                for pt in pts {
                    out += "<circle cx=\"\(SVG.px(xa.position(pt.x)))\" cy=\"\(SVG.px(ya.position(pt.mean)))\" r=\"3\" fill=\"\(color)\"/>"
                }
                out += "\n"
            }
        }
        let legendX = left + Double(columns) * panelW + Double(columns - 1) * gapX + 20
        out += SVG.legend(seriesLabels.enumerated().map { ($1, SVG.palette[$0 % SVG.palette.count]) }, x: legendX, y: top + 10,
                          title: seriesLabel)
        return out + "</svg>\n"
    }
}
