import Foundation
import PrnPrune
import PrnNotebook

extension Commands {
    /// Collecting results across tables and judging the paper's claim from them.
    static let results: [Command] = [
        Command("append", summary: "Add every row of a table (e.g. from `stats`) to the table named NAME, with tag columns in front; NAME is rebound.",
                parameters: [
                    .positional("table", .word, help: "the name of a table variable (it is rebound)"),
                    .positional("rows", .table, help: "the table whose rows are added"),
                    .rest("tags", .cell, help: "column=value pairs put in front of every added row"),
                ],
                example: "append all (stats (model lenet300 seed=1)) method=dense") { args, interpreter in
            let name = try args.symbol("table")
            guard case .object(let object)? = interpreter.workspace[name], let target = object as? TableValue else {
                throw args.error("'\(name)' is not a table; make it first: \(name) = table", at: "table")
            }
            let source = try args.object(TableValue.self, "rows").table
            let tags = args.rest.map { ($0.name, TableCell(value: $0.value)) }
            var table = target.table
            for row in source.rows {
                let cells = tags + zip(source.columns, row).map { ($0, $1) }
                try interpreter.recordRow(table: name, title: table.title, cells: cells)
                table = table.appending(cells)
            }
            interpreter.rebind(name, to: .object(TableValue(table)))
            return .none
        },
        Command("verdicts", summary: "Per group, does each variant hold up against the baseline? Δ = mean(variant) − mean(baseline), σ = √((σ_b² + σ_v²)/2); holds when Δ ≥ −σ; Welch's p beside it.",
                parameters: [
                    .positional("table", .table, help: "results with one row per run"),
                    .keyword("metric", .column, default: .value(.symbol("acc")), help: "the column compared"),
                    .keyword("variant", .column, default: .value(.symbol("ablation")), help: "the column naming each variant"),
                    .keyword("baseline", .cell, default: .value(.symbol("original")), help: "the variant the others are compared with"),
                    .keyword("over", .column, default: .value(.symbol("seed")), help: "the column of repetitions, ignored when grouping"),
                ],
                example: "verdicts t metric=acc variant=ablation baseline=original") { args, interpreter in
            let table = try args.object(TableValue.self, "table").table
            let metric = try args.symbol("metric"), variant = try args.symbol("variant"), over = try args.symbol("over")
            let baseline = TableCell(value: args.value("baseline") ?? .symbol("original")).description
            for column in [metric, variant] where table.column(column) == nil {
                throw args.error(Suggest.message("no column '\(column)'", for: column, in: table.columns), at: column == metric ? "metric" : "variant")
            }
            return .object(TableValue(table.verdicts(metric: metric, variant: variant, baseline: baseline, over: over)))
        },
    ]
}
