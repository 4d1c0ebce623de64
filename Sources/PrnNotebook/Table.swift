import Foundation

/// One cell of a table: a number, an integer, text, or nothing.
public enum TableCell: Equatable, Sendable, CustomStringConvertible {
    case number(Double)
    case int(Int)
    case text(String)
    case missing

    /// The cell as tables print it: numbers with four significant decimals.
    public var description: String {
        switch self {
        case .number(let x): return TableCell.format(x)
        case .int(let i): return String(i)
        case .text(let s): return s
        case .missing: return "—"
        }
    }

    public var number: Double? {
        switch self {
        case .number(let x): return x
        case .int(let i): return Double(i)
        default: return nil
        }
    }

    /// Whether the shortest text for `x` is plain (no exponent) with at most six significant digits.
    static func isShort(_ x: Double) -> Bool {
        guard x.isFinite, Swift.abs(x) < 1e9 else { return false }
        let text = x.description
        guard !text.contains("e") else { return false }
        let digits = text.filter(\.isNumber).drop { $0 == "0" }
        return digits.count <= 6
    }

    static func format(_ x: Double) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x > 0 ? "inf" : "-inf" }
        if x == x.rounded() && Swift.abs(x) < 1e9 { return String(Int(x)) }
        let a = Swift.abs(x)
        if a >= 1e-3 && a < 1e6 { return String(format: "%.4f", x) }
        return String(format: "%.3e", x)
    }
}

/// A table of named columns, built row by row. Rows may name new columns; earlier rows then
/// read `.missing` there. Tables are values: `appending` returns a new table.
public struct Table: Equatable, Sendable {
    public private(set) var columns: [String]
    public private(set) var rows: [[TableCell]]
    public var title: String?

    public init(columns: [String] = [], rows: [[TableCell]] = [], title: String? = nil) {
        self.columns = columns
        // Every row has one cell per column: short rows are padded, long ones cut.
        self.rows = rows.map { Array($0.prefix(columns.count)) + Array(repeating: .missing, count: Swift.max(0, columns.count - $0.count)) }
        self.title = title
    }

    /// A copy with one more row; unknown column names are added at the end.
    public func appending(_ cells: [(String, TableCell)]) -> Table {
        var copy = self
        var row = [TableCell](repeating: .missing, count: columns.count)
        for (name, cell) in cells {
            if let i = copy.columns.firstIndex(of: name) {
                row[i] = cell
            } else {
                copy.columns.append(name)
                for r in copy.rows.indices { copy.rows[r].append(.missing) }
                row.append(cell)
            }
        }
        copy.rows.append(row)
        return copy
    }

    /// The cells of one column, or nil when there is no such column.
    public func column(_ name: String) -> [TableCell]? {
        columns.firstIndex(of: name).map { i in rows.map { $0[i] } }
    }

    /// The cells as text, formatted per column: a column whose numbers all have short exact
    /// forms (at most six significant digits: `0.5`, `0.99999`) shows them so, others get four
    /// decimals (`0.8812`).
    public var displayed: [[String]] {
        let exact = columns.indices.map { i in
            rows.allSatisfy { row in
                guard case .number(let x) = row[i] else { return true }
                return TableCell.isShort(x)
            }
        }
        // Exact columns show every number with the column's largest count of decimals, so the
        // points line up: 0.680 over 0.435.
        let decimals = columns.indices.map { i in
            rows.map { row -> Int in
                guard case .number(let x) = row[i], x != x.rounded(), let dot = x.description.firstIndex(of: ".") else { return 0 }
                return x.description.distance(from: dot, to: x.description.endIndex) - 1
            }.max() ?? 0
        }
        return rows.map { row in
            row.indices.map { i in
                if exact[i], case .number(let x) = row[i] {
                    return decimals[i] == 0 ? String(Int(x)) : String(format: "%.\(decimals[i])f", x)
                }
                return row[i].description
            }
        }
    }

    /// Aligned plain text: numbers right-aligned, text left-aligned.
    public var text: String {
        let cells = displayed
        let widths = columns.indices.map { i in ([columns[i]] + cells.map { $0[i] }).map(\.count).max() ?? 0 }
        let numeric = columns.indices.map { i in rows.allSatisfy { $0[i].number != nil || $0[i] == .missing } && !rows.isEmpty }
        func line(_ items: [String]) -> String {
            items.indices.map { i in
                let pad = String(repeating: " ", count: widths[i] - items[i].count)
                return numeric[i] ? pad + items[i] : items[i] + pad
            }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
        var lines = title.map { [$0] } ?? []
        lines.append(line(columns))
        lines += cells.map(line)
        return lines.joined(separator: "\n")
    }
}
