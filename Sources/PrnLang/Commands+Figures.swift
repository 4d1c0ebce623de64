import Foundation
import PrnFiles
import PrnNotebook

extension Commands {
    /// Figures from tables: curves (accuracy against sparsity per method) and heat maps (a
    /// statistic by method × layer), as SVG files that notebooks embed.
    static let figures: [Command] = [
        Command("plot line", summary: "Curves of a table: y against x, one per series value, a panel per facet value; "
                + "mean= averages replicates into mean ± std bands (sample std).",
                example: "plot line t x=seed y=acc series=method mean=ablation to \"acc.svg\"") { p in
            let axes = FigureAxes(p, x: "the x column (numbers)", y: "the y column (numbers)")
            let series = p.keyword("series", Column?.self, help: "one curve per value of this column")
            let facet = p.keyword("facet", Column?.self, help: "one panel per value of this column")
            let mean = p.keyword("mean", Column?.self, help: "the replicate column to average over (e.g. seed)")
            let logx = p.keyword("logx", default: false, help: "log-scaled x axis (e.g. x=density)")
            let file = FigureFile(p)
            return { args, interpreter in
                let (xName, yName) = (args[axes.x].name, args[axes.y].name)
                let plot = try tableOperation(args) {
                    try LinePlot(args[axes.table].table, x: xName, y: yName, series: args[series]?.name, facet: args[facet]?.name,
                                 mean: args[mean]?.name, xScale: args[logx] ? .log : .linear)
                }
                try file.write(args, interpreter, title: "\(yName) vs \(xName)") { plot.svg(title: $0) }
                return .none
            }
        },
        Command("plot heat", summary: "A heat map of a table: value coloured by y (rows) × x (columns), e.g. KS D by method × layer; "
                + "mean= averages replicates.",
                example: "plot heat t x=ablation y=method value=acc to \"acc-heat.svg\"") { p in
            let axes = FigureAxes(p, x: "the column whose values are the map's columns", y: "the column whose values are the map's rows")
            let value = p.keyword("value", Column.self, help: "the column of numbers to colour")
            let mean = p.keyword("mean", Column?.self, help: "the replicate column to average over")
            let file = FigureFile(p)
            return { args, interpreter in
                let heat = try tableOperation(args) {
                    try HeatMap(args[axes.table].table, x: args[axes.x].name, y: args[axes.y].name, value: args[value].name, mean: args[mean]?.name)
                }
                try file.write(args, interpreter, title: heat.valueLabel) { heat.svg(title: $0) }
                return .none
            }
        },
    ]

    /// A table operation's error as a diagnostic at the call.
    private static func tableOperation<T>(_ args: Arguments, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as TableError { throw Diagnostic(error.description, at: args.call) }
    }
}

/// What a figure draws: a table, and the columns of its x and y axes.
private struct FigureAxes {
    let table: Arg<TableValue>
    let x: Arg<Column>
    let y: Arg<Column>

    init(_ p: ParameterList, x xHelp: String, y yHelp: String) {
        table = p.positional("table", TableValue.self, help: "the table")
        x = p.keyword("x", Column.self, help: xHelp)
        y = p.keyword("y", Column.self, help: yHelp)
    }
}

/// Where a figure goes and what it is called: `to "f.svg" [title="…"]`.
private struct FigureFile {
    let path: Arg<String>
    let title: Arg<String?>

    init(_ p: ParameterList) {
        _ = p.positional("to", Word.self, help: "the word `to`")
        path = p.positional("path", String.self, help: "the .svg file to write")
        title = p.keyword("title", String?.self, help: "the figure's title (default: y vs x, or the value column)")
    }

    /// Writes the SVG that `render` makes for the title, and shows it in the notebook.
    func write(_ args: Arguments, _ interpreter: Interpreter, title fallback: String, render: (String) -> String) throws {
        let title = args[title] ?? fallback
        let target = Commands.expandTilde(args[path])
        try AtomicFile.write(render(title), to: target, createFolder: true)
        interpreter.emitPlot(svgPath: target, caption: title)
    }
}
