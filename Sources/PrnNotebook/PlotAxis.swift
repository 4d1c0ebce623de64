import Foundation

/// A plot axis: a data range drawn over a pixel range, linear or logarithmic, with ticks at
/// round numbers (1, 2, 5 × 10^k on a linear axis; powers of ten, or 1-2-5 within a decade, on a
/// log axis). The range is widened to the outer ticks so data never sits outside the frame.
public struct PlotAxis: Sendable {
    public enum Scale: String, Sendable { case linear, log }

    public let scale: Scale
    /// The data range shown, already widened to round numbers.
    public let low: Double, high: Double
    /// Tick positions in data units, ascending.
    public let ticks: [Double]
    /// The pixel positions of `low` and `high` (`start > end` for a y axis, which grows upward).
    public var start = 0.0, end = 1.0

    /// An axis covering `values` (finite ones; positive ones on a log axis).
    public init(covering values: [Double], scale: Scale = .linear, targetTicks: Int = 5) {
        self.scale = scale
        let usable = values.filter { $0.isFinite && (scale == .linear || $0 > 0) }
        var lo = usable.min() ?? (scale == .log ? 0.1 : 0), hi = usable.max() ?? 1
        switch scale {
        case .linear:
            if lo == hi { (lo, hi) = lo == 0 ? (-1, 1) : (lo - Swift.abs(lo) / 2, hi + Swift.abs(hi) / 2) }
            let step = PlotAxis.niceStep((hi - lo) / Double(Swift.max(targetTicks - 1, 1)))
            let first = (lo / step).rounded(.down), last = (hi / step).rounded(.up)
            low = first * step
            high = last * step
            ticks = stride(from: first, through: last, by: 1).map { $0 * step }
        case .log:
            let first = Foundation.log10(lo).rounded(.down), last = Swift.max(Foundation.log10(hi).rounded(.up), first + 1)
            let top = Foundation.pow(10, last)
            low = Foundation.pow(10, first)
            high = top
            let decades = stride(from: first, through: last, by: 1).map { Foundation.pow(10, $0) }
            ticks = last - first >= 3 ? decades
                : decades.flatMap { d in [d, 2 * d, 5 * d] }.filter { $0 <= top * (1 + 1e-9) }
        }
    }

    /// 1, 2 or 5 times a power of ten, at least `raw`.
    static func niceStep(_ raw: Double) -> Double {
        guard raw > 0, raw.isFinite else { return 1 }
        let power = Foundation.pow(10, Foundation.log10(raw).rounded(.down))
        for factor in [1.0, 2, 5, 10] where factor * power >= raw * (1 - 1e-9) { return factor * power }
        return 10 * power
    }

    /// The pixel position of a data value.
    public func position(_ v: Double) -> Double {
        let t: Double
        switch scale {
        case .linear: t = (v - low) / (high - low)
        case .log: t = (Foundation.log10(v) - Foundation.log10(low)) / (Foundation.log10(high) - Foundation.log10(low))
        }
        return start + (end - start) * t
    }

    /// A tick's label: as many decimals as the ticks need and no more (`0.25`, `10`, `0.001`).
    public func label(_ v: Double) -> String {
        if scale == .log || ticks.count < 2 { return SVG.number(v) }
        let step = Swift.abs(ticks[1] - ticks[0])
        let decimals = Swift.max(0, Int(-Foundation.log10(step).rounded(.down)))
        return String(format: "%.\(decimals)f", Swift.abs(v) < step / 1e6 ? 0 : v)
    }
}

/// Small pieces shared by prn's SVG figures: escaping, numbers, colours, axes and legends.
/// Elements carry `class` names (`frame`, `tick`, `tick-label`, `axis-label`, `series`, `band`,
/// `legend`, `cell`) so tests and stylesheets can find them.
public enum SVG {
    /// Tableau-10, the matplotlib default cycle.
    public static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                 "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]

    public static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// A coordinate or value with up to 4 significant decimals and no exponent noise.
    public static func number(_ x: Double) -> String {
        guard x.isFinite else { return "0" }
        if x == x.rounded() && Swift.abs(x) < 1e15 { return String(Int(x)) }
        return String(format: "%g", x)
    }

    /// Pixel coordinates, to two decimals.
    static func px(_ x: Double) -> String { String(format: "%.2f", x) }

    /// The opening of a document with a white background and a title.
    static func header(width: Double, height: Double, title: String) -> String {
        """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(px(width))" height="\(px(height))" \
        viewBox="0 0 \(px(width)) \(px(height))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text class="title" x="\(px(width / 2))" y="20" text-anchor="middle" font-size="14">\(escape(title))</text>

        """
    }

    /// A frame with ticks, tick labels and axis labels for the box `x` × `y`.
    static func axes(x: PlotAxis, y: PlotAxis, xLabel: String, yLabel: String?, title: String? = nil) -> String {
        let (left, right) = (Swift.min(x.start, x.end), Swift.max(x.start, x.end))
        let (top, bottom) = (Swift.min(y.start, y.end), Swift.max(y.start, y.end))
        var out = "<rect class=\"frame\" x=\"\(px(left))\" y=\"\(px(top))\" width=\"\(px(right - left))\" "
            + "height=\"\(px(bottom - top))\" fill=\"none\" stroke=\"black\"/>\n"
        for t in x.ticks {
            let p = px(x.position(t))
            out += "<line class=\"tick\" x1=\"\(p)\" y1=\"\(px(bottom))\" x2=\"\(p)\" y2=\"\(px(bottom + 5))\" stroke=\"black\"/>"
                + "<line x1=\"\(p)\" y1=\"\(px(top))\" x2=\"\(p)\" y2=\"\(px(bottom))\" stroke=\"#e0e0e0\"/>"
                + "<text class=\"tick-label\" x=\"\(p)\" y=\"\(px(bottom + 18))\" text-anchor=\"middle\">\(escape(x.label(t)))</text>\n"
        }
        for t in y.ticks {
            let p = px(y.position(t))
            out += "<line class=\"tick\" x1=\"\(px(left - 5))\" y1=\"\(p)\" x2=\"\(px(left))\" y2=\"\(p)\" stroke=\"black\"/>"
                + "<line x1=\"\(px(left))\" y1=\"\(p)\" x2=\"\(px(right))\" y2=\"\(p)\" stroke=\"#e0e0e0\"/>"
                + "<text class=\"tick-label\" x=\"\(px(left - 8))\" y=\"\(px(y.position(t) + 4))\" text-anchor=\"end\">\(escape(y.label(t)))</text>\n"
        }
        out += "<text class=\"axis-label\" x=\"\(px((left + right) / 2))\" y=\"\(px(bottom + 36))\" text-anchor=\"middle\">\(escape(xLabel))</text>\n"
        if let yLabel {
            let (cx, cy) = (left - 48, (top + bottom) / 2)
            out += "<text class=\"axis-label\" x=\"\(px(cx))\" y=\"\(px(cy))\" text-anchor=\"middle\" "
                + "transform=\"rotate(-90 \(px(cx)) \(px(cy)))\">\(escape(yLabel))</text>\n"
        }
        if let title {
            out += "<text class=\"panel-title\" x=\"\(px((left + right) / 2))\" y=\"\(px(top - 8))\" text-anchor=\"middle\">\(escape(title))</text>\n"
        }
        return out
    }

    /// A legend box: a coloured line and a label per entry, top-left at (`x`, `y`).
    static func legend(_ entries: [(label: String, color: String)], x: Double, y: Double, title: String? = nil) -> String {
        var out = "<g class=\"legend\">\n"
        var row = y
        if let title {
            out += "<text x=\"\(px(x))\" y=\"\(px(row + 4))\" font-weight=\"bold\">\(escape(title))</text>\n"
            row += 18
        }
        for entry in entries {
            out += "<text x=\"\(px(x + 26))\" y=\"\(px(row + 4))\">\(escape(entry.label))</text>"
                + "<line x1=\"\(px(x))\" y1=\"\(px(row))\" x2=\"\(px(x + 20))\" y2=\"\(px(row))\" stroke=\"\(entry.color)\" stroke-width=\"2.5\"/>\n"
            row += 18
        }
        return out + "</g>\n"
    }
}
