import Foundation
import PrnNN
import PrnPrune
import PrnNotebook

extension Commands {
    /// Collecting results across tables and judging the paper's claim from them.
    static let results: [Command] = [
        Command("append", summary: "Add every row of a table (e.g. from `stats`) to the table named NAME, with tag columns in front; NAME is rebound.",
                example: "append all (stats (model lenet300 seed=1)) method=dense") { p in
            let target = p.positional("table", String.self, type: .word, help: "the name of a table variable (it is rebound)")
            let rows = p.positional("rows", TableValue.self, help: "the table whose rows are added")
            let tags = p.rest("tags", Value.self, type: .cell, help: "column=value pairs put in front of every added row")
            return { args, interpreter in
                let name = args[target]
                guard case .object(let object)? = interpreter.workspace[name], let bound = object as? TableValue else {
                    throw args.error("'\(name)' is not a table; make it first: \(name) = table", at: target)
                }
                let source = args[rows].table
                let tagCells = args[tags].map { ($0.name, TableCell(value: $0.value)) }
                var table = bound.table
                for row in source.rows {
                    let cells = tagCells + zip(source.columns, row).map { ($0, $1) }
                    try interpreter.recordRow(table: name, title: table.title, cells: cells)
                    table = table.appending(cells)
                }
                interpreter.rebind(name, to: .object(TableValue(table)))
                return .none
            }
        },
        Command("verdicts", summary: "Per group, does each variant hold up against the baseline? Δ = mean(variant) − mean(baseline), σ = √((σ_b² + σ_v²)/2); holds when Δ ≥ −σ; Welch's p beside it.",
                example: "verdicts t metric=acc variant=ablation baseline=original") { p in
            let table = p.positional("table", TableValue.self, help: "results with one row per run")
            let metric = p.keyword("metric", default: Column("acc"), help: "the column compared")
            let variant = p.keyword("variant", default: Column("ablation"), help: "the column naming each variant")
            let baseline = p.keyword("baseline", default: Value.symbol(ModelProvenance.original), type: .cell, help: "the variant the others are compared with")
            let over = p.keyword("over", default: Column("seed"), help: "the column of repetitions, ignored when grouping")
            return { args, _ in
                let table = args[table].table
                for column in [metric, variant] where table.column(args[column].name) == nil {
                    let name = args[column].name
                    throw args.error(Suggest.message("no column '\(name)'", for: name, in: table.columns), at: column)
                }
                return .object(TableValue(table.verdicts(metric: args[metric].name, variant: args[variant].name,
                                                         baseline: TableCell(value: args[baseline]).description, over: args[over].name)))
            }
        },
    ]
}
