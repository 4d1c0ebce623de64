import Foundation
import PrnNotebook

extension Commands {
    /// Figures from tables: curves (accuracy against sparsity per method) and heat maps (a
    /// statistic by method × layer), as SVG files that notebooks embed.
    static let figures: [Command] = [
        Command("plot line", summary: "Curves of a table: y against x, one per series value, a panel per facet value; "
                + "mean= averages replicates into mean ± std bands (sample std).",
                parameters: [
                    figureTable,
                    .keyword("x", .column, default: .required, help: "the x column (numbers)"),
                    .keyword("y", .column, default: .required, help: "the y column (numbers)"),
                    .keyword("series", .column, default: .absent, help: "one curve per value of this column"),
                    .keyword("facet", .column, default: .absent, help: "one panel per value of this column"),
                    .keyword("mean", .column, default: .absent, help: "the replicate column to average over (e.g. seed)"),
                    .keyword("logx", .bool, default: .value(.bool(false)), help: "log-scaled x axis (e.g. x=density)"),
                ] + figureFile,
                example: "plot line t x=seed y=acc series=method mean=ablation to \"acc.svg\"") { args, interpreter in
            let table = try args.object(TableValue.self, "table").table
            let (x, y) = (try args.symbol("x"), try args.symbol("y"))
            let plot: LinePlot
            do {
                plot = try LinePlot(table, x: x, y: y, series: try args.optionalSymbol("series"),
                                    facet: try args.optionalSymbol("facet"), mean: try args.optionalSymbol("mean"),
                                    xScale: try args.bool("logx") ? .log : .linear)
            } catch let error as TableError {
                throw Diagnostic(error.description, at: args.call)
            }
            let title = try args.optionalString("title") ?? "\(y) vs \(x)"
            try writeFigure(plot.svg(title: title), args, interpreter, caption: title)
            return .none
        },
        Command("plot heat", summary: "A heat map of a table: value coloured by y (rows) × x (columns), e.g. KS D by method × layer; "
                + "mean= averages replicates.",
                parameters: [
                    figureTable,
                    .keyword("x", .column, default: .required, help: "the column whose values are the map's columns"),
                    .keyword("y", .column, default: .required, help: "the column whose values are the map's rows"),
                    .keyword("value", .column, default: .required, help: "the column of numbers to colour"),
                    .keyword("mean", .column, default: .absent, help: "the replicate column to average over"),
                ] + figureFile,
                example: "plot heat t x=ablation y=method value=acc to \"acc-heat.svg\"") { args, interpreter in
            let table = try args.object(TableValue.self, "table").table
            let heat: HeatMap
            do {
                heat = try HeatMap(table, x: try args.symbol("x"), y: try args.symbol("y"), value: try args.symbol("value"),
                                   mean: try args.optionalSymbol("mean"))
            } catch let error as TableError {
                throw Diagnostic(error.description, at: args.call)
            }
            let title = try args.optionalString("title") ?? heat.valueLabel
            try writeFigure(heat.svg(title: title), args, interpreter, caption: title)
            return .none
        },
    ]

    private static let figureTable = Parameter.positional("table", .table, help: "the table")

    /// Where a figure goes and what it is called.
    private static let figureFile: [Parameter] = [
        .positional("to", .symbol(["to"], name: "word"), default: .required, help: "the word `to`"),
        .positional("path", .string, help: "the .svg file to write"),
        .keyword("title", .string, default: .absent, help: "the figure's title (default: y vs x, or the value column)"),
    ]

    /// Writes an SVG figure to the `path` argument and shows it in the notebook.
    private static func writeFigure(_ svg: String, _ args: Arguments, _ interpreter: Interpreter, caption: String) throws {
        let target = expandTilde(try args.string("path"))
        try writeText(svg, to: target)
        interpreter.emitPlot(svgPath: target, caption: caption)
    }
}
