import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import PrnNotebook

/// The structure of prn's SVG figures: well-formed XML, a path per series, ticks with labels,
/// axis labels and a legend.
final class PlotSVGTests: XCTestCase {
    /// An element of the SVG: its tag, attributes and direct text.
    struct Element {
        let tag: String
        let attributes: [String: String]
        let text: String
    }

    /// The elements whose `class` list contains `name`, after checking the document is
    /// well-formed XML.
    func elements(_ svg: String, _ name: String) throws -> [Element] {
        let parser = XMLParser(data: Data(svg.utf8))
        XCTAssertTrue(parser.parse(), "well-formed: \(parser.parserError.map { "\($0)" } ?? "")")
        let tag = try NSRegularExpression(pattern: "<([a-z]+)((?:\\s+[a-z0-9-]+=\"[^\"]*\")*)\\s*(/?)>", options: [])
        let attribute = try NSRegularExpression(pattern: "([a-z0-9-]+)=\"([^\"]*)\"", options: [])
        let text = svg as NSString
        var result: [Element] = []
        for match in tag.matches(in: svg, range: NSRange(location: 0, length: text.length)) {
            let attrs = text.substring(with: match.range(at: 2))
            var dict: [String: String] = [:]
            for a in attribute.matches(in: attrs, range: NSRange(location: 0, length: (attrs as NSString).length)) {
                dict[(attrs as NSString).substring(with: a.range(at: 1))] = (attrs as NSString).substring(with: a.range(at: 2))
            }
            guard (dict["class"] ?? "").split(separator: " ").contains(Substring(name)) else { continue }
            let end = match.range.location + match.range.length
            let rest = text.substring(from: end)
            let content = text.substring(with: match.range(at: 3)) == "/" ? "" : String(rest.prefix { $0 != "<" })
            result.append(Element(tag: text.substring(with: match.range(at: 1)), attributes: dict,
                                  text: content.replacingOccurrences(of: "&amp;", with: "&")))
        }
        return result
    }

    func texts(_ svg: String, _ name: String) throws -> [String] { try elements(svg, name).map(\.text) }

    func results() -> Table {
        var t = Table()
        for ablation in ["none", "shuffle"] {
            for method in ["snip", "random", "synflow"] {
                for (i, density) in [0.1, 0.01, 0.001].enumerated() {
                    for seed in 0..<3 {
                        let acc = 0.9 - 0.1 * Double(i) - (method == "random" ? 0.05 : 0) + 0.01 * Double(seed)
                        t = t.appending([("method", .text(method)), ("density", .number(density)), ("ablation", .text(ablation)),
                                         ("seed", .int(seed)), ("acc", .number(acc))])
                    }
                }
            }
        }
        return t
    }

    func testLinePlotHasAPathPerSeriesPerPanelBandsTicksAndLegend() throws {
        let plot = try LinePlot(results(), x: "density", y: "acc", series: "method", facet: "ablation", mean: "seed", xScale: .log)
        XCTAssertEqual(plot.panels.map(\.title), ["ablation=none", "ablation=shuffle"])
        XCTAssertEqual(plot.seriesLabels, ["snip", "random", "synflow"])
        // Mean and sample std over the three seeds: acc + 0.00, 0.01, 0.02 → mean + 0.01, std 0.01.
        let snip = plot.panels[0].series[0].points
        XCTAssertEqual(snip.map(\.x), [0.001, 0.01, 0.1])
        XCTAssertEqual(snip[2].mean, 0.91, accuracy: 1e-12)
        XCTAssertEqual(snip[2].std!, 0.01, accuracy: 1e-12)
        XCTAssertEqual(snip[2].count, 3)

        let svg = plot.svg(title: "accuracy vs density")
        let series = try elements(svg, "series")
        XCTAssertEqual(series.count, 6, "3 methods × 2 panels")
        XCTAssertEqual(series.compactMap { $0.attributes["data-series"] }, ["snip", "random", "synflow", "snip", "random", "synflow"])
        for path in series { XCTAssertEqual(path.attributes["d"]!.components(separatedBy: " L ").count, 3) }
        XCTAssertEqual(try elements(svg, "band").count, 6)
        XCTAssertEqual(try elements(svg, "frame").count, 2)
        // A log x axis over 0.001…0.1: ticks at the decades (and 2, 5 within), labelled.
        let labels = try texts(svg, "tick-label")
        for decade in ["0.001", "0.01", "0.1"] { XCTAssertTrue(labels.contains(decade), decade) }
        XCTAssertGreaterThan(try elements(svg, "tick").count, 10)
        XCTAssertEqual(Set(try texts(svg, "axis-label")), ["density", "acc (mean ± std over seed)"])
        XCTAssertTrue(svg.contains(">snip</text>") && svg.contains(">synflow</text>"), "legend entries")
        XCTAssertEqual(try texts(svg, "title"), ["accuracy vs density"])
    }

    func testLinePlotRefusesReplicatesWithoutMeanAndBadColumns() throws {
        XCTAssertThrowsError(try LinePlot(results(), x: "density", y: "acc", series: "method", facet: "ablation")) {
            XCTAssertTrue("\($0)".contains("average them with mean=COLUMN"), "\($0)")
        }
        XCTAssertThrowsError(try LinePlot(results(), x: "sparsity", y: "acc")) {
            XCTAssertTrue("\($0)".contains("x column 'sparsity' is not in the table"), "\($0)")
        }
        XCTAssertThrowsError(try LinePlot(results(), x: "method", y: "acc", mean: "seed"))
    }

    func testLinearTicksAreRoundAndCoverTheData() {
        let axis = PlotAxis(covering: [0.13, 0.87])
        XCTAssertEqual(axis.ticks.first!, 0, accuracy: 1e-12)
        XCTAssertEqual(axis.ticks.last!, 1, accuracy: 1e-12)
        XCTAssertEqual(axis.ticks.map { axis.label($0) }, ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"])
        let log = PlotAxis(covering: [0.0005, 0.3], scale: .log)
        XCTAssertEqual(log.ticks, [0.0001, 0.001, 0.01, 0.1, 1])
        XCTAssertLessThanOrEqual(log.low, 0.0005)
        XCTAssertGreaterThanOrEqual(log.high, 0.3)
    }

    func testHeatMapHasACellPerValueRowAndColumnLabelsAndAColourBar() throws {
        var t = Table()
        for method in ["snip", "grasp"] {
            for (l, layer) in ["fc1", "fc2", "fc3"].enumerated() where !(method == "grasp" && layer == "fc3") {
                t = t.appending([("method", .text(method)), ("layer", .text(layer)), ("ks_d", .number(0.1 * Double(l + 1)))])
            }
        }
        let heat = try HeatMap(t, x: "layer", y: "method", value: "ks_d")
        XCTAssertEqual(heat.rows, ["snip", "grasp"])
        XCTAssertEqual(heat.columns, ["fc1", "fc2", "fc3"])
        XCTAssertNil(heat.values[1][2])
        let svg = heat.svg(title: "KS D")
        XCTAssertEqual(try elements(svg, "cell").count, 6)
        XCTAssertEqual(try elements(svg, "missing").count, 1)
        let labels = try texts(svg, "tick-label")
        for name in ["snip", "grasp", "fc1", "fc2", "fc3"] { XCTAssertTrue(labels.contains(name), name) }
        let colorbar = svg[svg.range(of: "<g class=\"colorbar\">")!.lowerBound...]
        XCTAssertGreaterThanOrEqual(colorbar.components(separatedBy: "<line class=\"tick\"").count - 1, 3)
        // The lowest value is viridis' dark end, the highest its yellow end.
        XCTAssertEqual(HeatMap.color(0).fill, "#440154")
        XCTAssertEqual(HeatMap.color(1).fill, "#fde725")
        XCTAssertThrowsError(try HeatMap(t.appending([("method", .text("snip")), ("layer", .text("fc1")), ("ks_d", .number(1))]),
                                         x: "layer", y: "method", value: "ks_d"))
    }

    func testHistogramHasTicksAYAxisAndAPathPerSample() throws {
        let h = Histogram([("a", [0.1, 0.2, 0.2, 0.5]), ("b", [-0.3, 0.0, 0.4])], bins: 8)
        let svg = h.svg(title: "fc1")
        XCTAssertEqual(try elements(svg, "series").count, 2)
        XCTAssertGreaterThanOrEqual(try elements(svg, "tick").count, 6)
        XCTAssertEqual(Set(try texts(svg, "axis-label")), ["weight value", "fraction per bin"])
        XCTAssertTrue(svg.contains(">a (n=4)</text>") && svg.contains(">b (n=3)</text>"), "legend entries")
    }
}
