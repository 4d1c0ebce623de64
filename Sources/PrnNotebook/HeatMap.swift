import Foundation

/// A table drawn as a grid of coloured cells: one row per value of the `y` column, one column per
/// value of the `x` column (both in order of first appearance), coloured and labelled by the
/// `value` column — e.g. the KS distance D by method × layer. Replicates (rows that agree on `x`
/// and `y`) are averaged when `mean` names the column they differ in, an error otherwise.
/// Colours run from the lowest to the highest value on the viridis scale, shown by a colour bar.
public struct HeatMap: Sendable {
    public let columns: [String], rows: [String]
    /// `values[row][column]`, nil where the table has no row.
    public let values: [[Double?]]
    public let xLabel: String, yLabel: String, valueLabel: String

    public init(_ table: Table, x: String, y: String, value: String, mean: String? = nil) throws {
        let xi = try table.index(of: x, role: "x"), yi = try table.index(of: y, role: "y")
        let vi = try table.index(of: value, role: "value")
        if let mean { _ = try table.index(of: mean, role: "mean") }
        var columns: [String] = [], rows: [String] = []
        var cells: [String: [String: [Double]]] = [:]
        for row in table.rows where row[vi] != .missing {
            guard let v = row[vi].number else { throw TableError("value column '\(value)' must hold numbers, not '\(row[vi])'") }
            let (c, r) = (row[xi].description, row[yi].description)
            if !columns.contains(c) { columns.append(c) }
            if !rows.contains(r) { rows.append(r) }
            cells[r, default: [:]][c, default: []].append(v)
            if mean == nil && cells[r]![c]!.count > 1 {
                throw TableError("more than one row has \(y)=\(r) \(x)=\(c); average them with mean=COLUMN")
            }
        }
        guard !rows.isEmpty else { throw TableError("no row has a number in '\(value)'") }
        self.columns = columns
        self.rows = rows
        values = rows.map { r in columns.map { c in cells[r]?[c].map { Replicates.meanAndStd($0).mean } } }
        xLabel = x
        yLabel = y
        valueLabel = mean.map { "\(value) (mean over \($0))" } ?? value
    }

    /// Viridis at a few stops, interpolated linearly.
    static let stops: [(Double, Double, Double)] = [(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)]

    /// The colour of `t` in [0, 1], and whether text on it should be white.
    static func color(_ t: Double) -> (fill: String, darkBackground: Bool) {
        let u = Swift.min(Swift.max(t.isFinite ? t : 0, 0), 1) * Double(stops.count - 1)
        let i = Swift.min(Int(u), stops.count - 2), f = u - Double(i)
        let (a, b) = (stops[i], stops[i + 1])
        let rgb = [a.0 + (b.0 - a.0) * f, a.1 + (b.1 - a.1) * f, a.2 + (b.2 - a.2) * f]
        return (String(format: "#%02x%02x%02x", Int(rgb[0].rounded()), Int(rgb[1].rounded()), Int(rgb[2].rounded())), u < 2.5)
    }

    /// A self-contained SVG document.
    public func svg(title: String) -> String {
        let longestRow = Double(rows.map(\.count).max() ?? 1), longestColumn = Double(columns.map(\.count).max() ?? 1)
        let cell = (w: Swift.max(46.0, 7 * longestColumn / 1.6), h: 26.0)
        let left = 30 + 7 * longestRow, top = 56.0
        let gridW = cell.w * Double(columns.count), gridH = cell.h * Double(rows.count)
        let bottomLabels = 7 * longestColumn * 0.75 + 40
        // Wide enough for the title (about 7.5 px per character at 14 px).
        let width = Swift.max(left + gridW + 120, 7.5 * Double(title.count) + 40), height = top + gridH + bottomLabels
        let present = values.flatMap { $0.compactMap { $0 } }
        var scale = PlotAxis(covering: present)
        (scale.start, scale.end) = (top + gridH, top)
        let t = { (v: Double) in (v - scale.low) / (scale.high - scale.low) }
        var out = SVG.header(width: width, height: height, title: title)
        for (r, name) in rows.enumerated() {
            let y = top + Double(r) * cell.h
            out += "<text class=\"tick-label\" x=\"\(SVG.px(left - 6))\" y=\"\(SVG.px(y + cell.h / 2 + 4))\" text-anchor=\"end\">\(SVG.escape(name))</text>\n"
            for (c, value) in values[r].enumerated() {
                let x = left + Double(c) * cell.w
                guard let value else {
                    out += "<rect class=\"cell missing\" x=\"\(SVG.px(x))\" y=\"\(SVG.px(y))\" width=\"\(SVG.px(cell.w))\" height=\"\(SVG.px(cell.h))\" fill=\"#f0f0f0\" stroke=\"white\"/>\n"
                    continue
                }
                let (fill, dark) = HeatMap.color(t(value))
                out += "<rect class=\"cell\" x=\"\(SVG.px(x))\" y=\"\(SVG.px(y))\" width=\"\(SVG.px(cell.w))\" height=\"\(SVG.px(cell.h))\" "
                    + "fill=\"\(fill)\" stroke=\"white\"><title>\(SVG.escape("\(name), \(columns[c]): \(SVG.number(value))"))</title></rect>"
                    + "<text x=\"\(SVG.px(x + cell.w / 2))\" y=\"\(SVG.px(y + cell.h / 2 + 4))\" text-anchor=\"middle\" font-size=\"10\" "
                    + "fill=\"\(dark ? "white" : "black")\">\(String(format: "%.3g", value))</text>\n"
            }
        }
        for (c, name) in columns.enumerated() {
            let x = left + (Double(c) + 0.5) * cell.w, y = top + gridH + 12
            out += "<text class=\"tick-label\" x=\"\(SVG.px(x))\" y=\"\(SVG.px(y))\" text-anchor=\"end\" "
                + "transform=\"rotate(-40 \(SVG.px(x)) \(SVG.px(y)))\">\(SVG.escape(name))</text>\n"
        }
        out += "<text class=\"axis-label\" x=\"\(SVG.px(left + gridW / 2))\" y=\"\(SVG.px(height - 8))\" text-anchor=\"middle\">\(SVG.escape(xLabel))</text>\n"
        out += "<text class=\"axis-label\" x=\"12\" y=\"\(SVG.px(top - 10))\">\(SVG.escape(yLabel))</text>\n"
        // The colour bar: the value axis with its ticks.
        let barX = left + gridW + 24
        let steps = 40
        for i in 0..<steps {
            let lo = Double(i) / Double(steps), hi = Double(i + 1) / Double(steps)
            let y0 = scale.position(scale.low + hi * (scale.high - scale.low)), y1 = scale.position(scale.low + lo * (scale.high - scale.low))
            out += "<rect x=\"\(SVG.px(barX))\" y=\"\(SVG.px(y0))\" width=\"14\" height=\"\(SVG.px(y1 - y0 + 0.5))\" fill=\"\(HeatMap.color((lo + hi) / 2).fill)\"/>"
        }
        out += "\n<g class=\"colorbar\">\n"
        for tick in scale.ticks {
            let y = SVG.px(scale.position(tick))
            out += "<line class=\"tick\" x1=\"\(SVG.px(barX + 14))\" y1=\"\(y)\" x2=\"\(SVG.px(barX + 19))\" y2=\"\(y)\" stroke=\"black\"/>"
                + "<text class=\"tick-label\" x=\"\(SVG.px(barX + 22))\" y=\"\(SVG.px(scale.position(tick) + 4))\">\(SVG.escape(scale.label(tick)))</text>\n"
        }
        out += "<text class=\"axis-label\" x=\"\(SVG.px(barX))\" y=\"\(SVG.px(top - 10))\">\(SVG.escape(valueLabel))</text>\n</g>\n"
        return out + "</svg>\n"
    }
}
