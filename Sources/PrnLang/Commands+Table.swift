import PrnNotebook

extension Commands {
    /// Tables of results: make one, add rows, show it summarized.
    static let tables: [Command] = [
        Command("table", summary: "An empty table; add rows with `row`.", example: "t = table title=\"accuracy\"") { p in
            let title = p.keyword("title", String?.self, help: "a title shown above the table")
            return { args, _ in .object(TableValue(Table(title: args[title]))) }
        },
        Command("row", summary: "Add a row to the table named NAME, which is rebound to the new table "
                + "(the one command that rebinds its argument). With --results, the row is also written to the file.",
                example: "row t method=snip sparsity=0.9 acc=0.85") { p in
            let target = p.positional("table", String.self, type: .word, help: "the name of a table variable (it is rebound)")
            let cells = p.rest("cells", Value.self, type: .cell, help: "column=value pairs: numbers, strings, symbols or booleans")
            return { args, interpreter in
                let name = args[target]
                guard let bound = interpreter.workspace[name] else {
                    throw args.error(Suggest.message("unknown name '\(name)'; make the table first: \(name) = table",
                                                     for: name, in: interpreter.workspace.names), at: target)
                }
                guard case .object(let object) = bound, let table = object as? TableValue else {
                    throw args.error("'\(name)' is not a table (\(bound.typeName))", at: target)
                }
                let row = args[cells].map { ($0.name, TableCell(value: $0.value)) }
                guard !row.isEmpty else {
                    throw Diagnostic("'row' needs at least one column=value", at: args.call, notes: ["usage: \(args.command.usage)"])
                }
                try interpreter.recordRow(table: name, title: table.table.title, cells: row)
                interpreter.rebind(name, to: .object(TableValue(table.table.appending(row))))
                return .none
            }
        },
        Command("show", summary: "Show a table; mean= averages over a column (mean ± std, n), pivot= spreads a column into columns.",
                example: "show t pivot=method") { p in
            let table = p.positional("table", TableValue.self, help: "the table")
            let pivot = p.keyword("pivot", Column?.self, help: "the column whose values become columns")
            let mean = p.keyword("mean", Column?.self, help: "the column to average over (e.g. seed)")
            let value = p.keyword("value", Columns?.self, help: "the value column(s) (default: the last column)")
            return { args, interpreter in
                let shown = args[table]
                let pivot = args[pivot]?.name, mean = args[mean]?.name
                guard pivot != nil || mean != nil else {
                    interpreter.emitTable(shown.displayedTable)
                    return .none
                }
                let fallback = shown.table.columns.last { $0 != pivot && $0 != mean }
                let values = args[value]?.names ?? fallback.map { [$0] } ?? []
                guard let firstValue = values.first else {
                    throw Diagnostic("the table has no value column to summarize", at: args.call)
                }
                do {
                    var result = shown.table
                    if let mean { result = try result.mean(over: mean, values: values) }
                    if let pivot {
                        guard values.count == 1 else {
                            throw args.error("pivot shows one value column; pick one with value=NAME", at: value)
                        }
                        result = try result.pivot(on: pivot, value: firstValue)
                    }
                    interpreter.emitTable(result)
                    return .none
                } catch let error as TableError {
                    throw Diagnostic(error.description, at: args.call)
                }
            }
        },
        Command("column", summary: "One column of a table as a list (`t.acc` reads it too, unless a field has that name).",
                example: "column(t, acc)") { p in
            let table = p.positional("table", TableValue.self, help: "the table")
            let column = p.positional("name", Column.self, help: "the column")
            return { args, _ in
                let table = args[table].table, name = args[column].name
                guard let cells = table.column(name) else {
                    throw args.error(Suggest.message("no column '\(name)'", for: name, in: table.columns)
                                     + " (columns: \(table.columns.joined(separator: ", ")))", at: column)
                }
                return .list(cells.map(\.value))
            }
        },
    ]
}

/// A column name, given bare (`metric=acc`, never evaluated) or as a string.
public struct Column: ArgumentValue, ExpressibleByStringLiteral {
    public var name: String
    public init(_ name: String) { self.name = name }
    public init(stringLiteral name: String) { self.name = name }
    public static func parameterType(named name: String) -> ParamType { .column }
    public init(checked value: Value) { name = String(checked: value) }
    public var argumentValue: Value { .symbol(name) }
}

/// One column name or a list of them (`value=[acc, loss]`).
public struct Columns: ArgumentValue {
    public var names: [String]
    public static func parameterType(named name: String) -> ParamType { .columns }
    public init(checked value: Value) {
        guard case .list(let items) = value else { preconditionFailure("ParamType.columns let through \(value)") }
        names = items.map { String(checked: $0) }
    }
    public var argumentValue: Value { .list(names.map(Value.symbol)) }
}

extension TableValue: ArgumentValue {
    public static func parameterType(named name: String) -> ParamType { .table }
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
