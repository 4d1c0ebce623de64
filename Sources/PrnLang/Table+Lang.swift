import PrnNotebook

/// Tables in the language: a column reads as a field (`t.acc`), and cells convert to and from values.
extension TableValue {
    /// A column as a list, unless a declared field (`rows`, `columns`) has the name.
    public func dynamicField(_ name: String) -> Value? {
        table.column(name).map { .list($0.map(\.value)) }
    }

    public var dynamicFieldNames: [String] { table.columns }

    /// The table as a cell shows it: only the `shown` columns when the value has a selection.
    public var displayedTable: Table {
        guard let shown else { return table }
        let keep = table.columns.indices.filter { shown.contains(table.columns[$0]) }
        return Table(columns: keep.map { table.columns[$0] }, rows: table.rows.map { row in keep.map { row[$0] } },
                     title: table.title)
    }
}

extension TableCell {
    /// The cell a `row` argument makes: ints and floats stay numbers, strings and symbols are
    /// text, booleans are `true`/`false` text, none is missing.
    init(value: Value) {
        switch value {
        case .int(let i): self = .int(i)
        case .float(let x): self = .number(x)
        case .string(let s), .symbol(let s): self = .text(s)
        case .bool(let b): self = .text(b ? "true" : "false")
        default: self = .missing
        }
    }

    /// The cell as a value: numbers as numbers, text as a string, missing as none.
    var value: Value {
        switch self {
        case .int(let i): return .int(i)
        case .number(let x): return .float(x)
        case .text(let s): return .string(s)
        case .missing: return .none
        }
    }
}

extension Value {
    /// A table as a value.
    public static func table(_ table: Table) -> Value { .object(TableValue(table)) }

    /// The table this value holds, if it is one (all its columns).
    public var table: Table? {
        if case .object(let object) = self, let value = object as? TableValue { return value.table }
        return nil
    }

    /// The table as a cell shows it, if this value is one.
    public var displayedTable: Table? {
        if case .object(let object) = self, let value = object as? TableValue { return value.displayedTable }
        return nil
    }
}
