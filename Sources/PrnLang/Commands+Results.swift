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
            return .object(TableValue(try Verdicts.table(table, metric: metric, variant: variant, baseline: baseline, over: over)))
        },
    ]
}

/// The verdict on "immune to the ablation" per group (METHODS.md, Verdicts), computed from the
/// numbers in the table, never written by hand.
enum Verdicts {
    static func table(_ t: Table, metric: String, variant: String, baseline: String, over: String) throws -> Table {
        let keyColumns = t.columns.filter { ![metric, variant, over].contains($0) && isKey(t, $0) }
        let m = t.columns.firstIndex(of: metric)!, v = t.columns.firstIndex(of: variant)!
        let keys = keyColumns.map { t.columns.firstIndex(of: $0)! }
        // Groups and variants in order of first appearance.
        var groups: [[TableCell]] = [], samples: [[String: [Double]]] = [], variants: [[String]] = []
        for row in t.rows {
            let key = keys.map { row[$0] }
            let g = groups.firstIndex(of: key) ?? { groups.append(key); samples.append([:]); variants.append([]); return groups.count - 1 }()
            let name = row[v].description
            if samples[g][name] == nil { variants[g].append(name) }
            if let x = row[m].number { samples[g][name, default: []].append(x) }
        }
        var out = Table(columns: keyColumns + [variant, "n", "baseline_mean", "mean", "delta", "sigma", "welch_p", "verdict"],
                        title: "\(metric): \(variant) vs \(baseline) (holds when Δ ≥ −σ)")
        for (g, key) in groups.enumerated() {
            guard let base = samples[g][baseline] else { continue }
            for name in variants[g] where name != baseline {
                let x = samples[g][name] ?? []
                let (mb, sb) = meanStd(base), (mv, sv) = meanStd(x)
                let delta = mv - mb, sigma = ((sb * sb + sv * sv) / 2).squareRoot()
                let welch = Stats.welchTTest(x, base)
                let verdict = delta.isNaN || sigma.isNaN ? "—" : (delta >= -sigma ? "holds" : "fails")
                out = out.appending(zip(keyColumns, key).map { ($0, $1) } + [
                    (variant, .text(name)), ("n", .int(x.count)), ("baseline_mean", .number(mb)), ("mean", .number(mv)),
                    ("delta", .number(delta)), ("sigma", .number(sigma)),
                    ("welch_p", welch.pValue.isNaN ? .missing : .number(welch.pValue)), ("verdict", .text(verdict)),
                ])
            }
        }
        return out
    }

    /// Mean and sample standard deviation (n − 1); σ is NaN for fewer than two values.
    static func meanStd(_ x: [Double]) -> (Double, Double) {
        guard !x.isEmpty else { return (.nan, .nan) }
        let mean = x.reduce(0, +) / Double(x.count)
        guard x.count > 1 else { return (mean, .nan) }
        return (mean, (x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(x.count - 1)).squareRoot())
    }

    /// Columns that identify a group: text columns, and numeric ones with few distinct values
    /// relative to the rows (settings such as sparsity, not measurements such as loss).
    static func isKey(_ t: Table, _ column: String) -> Bool {
        guard let cells = t.column(column) else { return false }
        if cells.contains(where: { if case .text = $0 { return true } else { return false } }) { return true }
        return Set(cells.map(\.description)).count * 3 <= cells.count
    }
}
