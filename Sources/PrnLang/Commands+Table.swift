import PrnNotebook

extension Commands {
    /// Tables of results: make one, add rows, show it summarized.
    static let tables: [Command] = [
        Command("table", summary: "An empty table; add rows with `row`.",
                parameters: [.keyword("title", .string, default: .absent, help: "a title shown above the table")],
                example: "t = table title=\"accuracy\"") { args, _ in
            .object(TableValue(Table(title: try args.optionalSymbolOrString("title"))))
        },
        Command("row", summary: "Add a row to the table named NAME, which is rebound to the new table "
                + "(the one command that rebinds its argument). With --results, the row is also written to the file.",
                parameters: [
                    .positional("table", .word, help: "the name of a table variable (it is rebound)"),
                    .rest("cells", .cell, help: "column=value pairs: numbers, strings, symbols or booleans"),
                ],
                example: "row t method=snip sparsity=0.9 acc=0.85") { args, interpreter in
            let name = try args.symbol("table")
            guard let bound = interpreter.workspace[name] else {
                throw args.error(Suggest.message("unknown name '\(name)'; make the table first: \(name) = table",
                                                 for: name, in: interpreter.workspace.names), at: "table")
            }
            guard case .object(let object) = bound, let table = object as? TableValue else {
                throw args.error("'\(name)' is not a table (\(bound.typeName))", at: "table")
            }
            guard !args.rest.isEmpty else {
                throw Diagnostic("'row' needs at least one column=value", at: args.call, notes: ["usage: \(args.command.usage)"])
            }
            let cells = args.rest.map { ($0.name, TableCell(value: $0.value)) }
            try interpreter.recordRow(table: name, title: table.table.title, cells: cells)
            interpreter.rebind(name, to: .object(TableValue(table.table.appending(cells))))
            return .none
        },
        Command("show", summary: "Show a table; mean= averages over a column (mean ± std, n), pivot= spreads a column into columns.",
                parameters: [
                    .positional("table", .table, help: "the table"),
                    .keyword("pivot", .column, default: .absent, help: "the column whose values become columns"),
                    .keyword("mean", .column, default: .absent, help: "the column to average over (e.g. seed)"),
                    .keyword("value", .columns, default: .absent, help: "the value column(s) (default: the last column)"),
                ],
                example: "show t pivot=method") { args, interpreter in
            let value = try args.object(TableValue.self, "table")
            let summarized = try args.value("pivot") == nil && args.value("mean") == nil
                ? value.displayedTable : summarize(value.table, args)
            interpreter.emitTable(summarized)
            return .none
        },
        Command("column", summary: "One column of a table as a list (`t.acc` reads it too, unless a field has that name).",
                parameters: [
                    .positional("table", .table, help: "the table"),
                    .positional("name", .column, help: "the column"),
                ],
                example: "column(t, acc)") { args, _ in
            let table = try args.object(TableValue.self, "table").table
            let name = try args.symbol("name")
            guard let cells = table.column(name) else {
                throw args.error(Suggest.message("no column '\(name)'", for: name, in: table.columns)
                                 + " (columns: \(table.columns.joined(separator: ", ")))", at: "name")
            }
            return .list(cells.map(\.value))
        },
    ]

    /// `show`'s mean and pivot, in that order.
    private static func summarize(_ table: Table, _ args: Arguments) throws -> Table {
        let pivot = try args.optionalSymbol("pivot"), mean = try args.optionalSymbol("mean")
        guard pivot != nil || mean != nil else { return table }
        let fallback = table.columns.last { $0 != pivot && $0 != mean }
        let values = try args.names("value") ?? fallback.map { [$0] } ?? []
        guard let firstValue = values.first else {
            throw Diagnostic("the table has no value column to summarize", at: args.call)
        }
        do {
            var result = table
            if let mean { result = try result.mean(over: mean, values: values) }
            if let pivot {
                guard values.count == 1 else {
                    throw args.error("pivot shows one value column; pick one with value=NAME", at: "value")
                }
                result = try result.pivot(on: pivot, value: firstValue)
            }
            return result
        } catch let error as TableError {
            throw Diagnostic(error.description, at: args.call)
        }
    }
}

extension ParamType {
    /// A table value.
    public static let table = ParamType.object(TableValue.self, name: "table", placeholder: "TABLE")

    /// A column name: a bare word (never evaluated) or a string.
    public static let column = ParamType("column", "COLUMN", symbols: [], takesWord: true, evaluatesOtherwise: true,
                                         completion: .columns) { value in
        switch value {
        case .symbol(let s), .string(let s): return .symbol(s)
        default: throw mismatch("a column name", value)
        }
    }

    /// Column names: one, or a list of them (`value=[acc, loss]`).
    public static let columns = ParamType("columns", "COLUMN|[COLUMN, …]", symbols: [], takesWord: true,
                                          evaluatesOtherwise: true, completion: .columns) { value in
        switch value {
        case .symbol(let s), .string(let s): return .list([.symbol(s)])
        case .list(let items) where !items.isEmpty:
            return .list(try items.map { item in
                switch item {
                case .symbol(let s), .string(let s): return .symbol(s)
                default: throw mismatch("column names", value)
                }
            })
        default: throw mismatch("a column name or a list of them", value)
        }
    }

    /// A table cell: a number, string, symbol, boolean or none. A bare unbound name is a symbol.
    public static let cell = ParamType("cell", "VALUE", symbols: []) { value in
        switch value {
        case .int, .float, .string, .symbol, .bool, .none: return value
        default: throw mismatch("a number, string or symbol", value)
        }
    }
}

extension Arguments {
    /// A string parameter that may also be given as a bare word.
    func optionalSymbolOrString(_ name: String) throws -> String? {
        switch value(name) {
        case nil: return nil
        case .string(let s)?, .symbol(let s)?: return s
        default: return try string(name)
        }
    }
}
