import Foundation

/// A table operation that cannot be done: the message names the columns involved.
public struct TableError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ message: String) { description = message }
}

extension Table {
    /// Averages `values` over the values of `column`: rows that agree on every other column form a
    /// group; each value column becomes `mean ± std` (sample standard deviation, n − 1; `—` when
    /// the group has one value), and a column `n` counts the group's rows.
    ///
    /// ```
    /// method  seed  acc          mean(over: "seed", values: ["acc"])    method  acc              n
    /// snip    0     0.88     →                                          snip    0.8850 ± 0.0071  2
    /// snip    1     0.89
    /// ```
    public func mean(over column: String, values: [String]) throws -> Table {
        let over = try index(of: column, role: "mean")
        let measured = try values.map { try index(of: $0, role: "value") }
        if measured.contains(over) { throw TableError("'\(column)' cannot be both averaged over and a value column") }
        for i in measured where !rows.allSatisfy({ $0[i].number != nil || $0[i] == .missing }) {
            throw TableError("cannot average '\(columns[i])': it holds text")
        }
        let keys = columns.indices.filter { $0 != over && !measured.contains($0) }
        let groups = grouped(by: keys)
        let countName = columns.contains("n") ? "n_rows" : "n"
        var result: [[TableCell]] = []
        for group in groups {
            var cells = keys.map { group.key[$0] ?? .missing }
            for i in measured {
                cells.append(Table.meanCell(group.rows.compactMap { $0[i].number }))
            }
            cells.append(.int(group.rows.count))
            result.append(cells)
        }
        return Table(columns: keys.map { columns[$0] } + measured.map { columns[$0] } + [countName], rows: result, title: title)
    }

    /// Spreads the values of `column` into columns of their own: rows that agree on every column
    /// but `column` and `value` become one row, with `value` under the column named by `column`'s
    /// value (missing where a group has no such row). Two rows for one cell are an error.
    public func pivot(on column: String, value: String) throws -> Table {
        let p = try index(of: column, role: "pivot")
        let v = try index(of: value, role: "value")
        guard p != v else { throw TableError("'\(column)' cannot be both the pivot and the value column") }
        let keys = columns.indices.filter { $0 != p && $0 != v }
        var spread: [String] = []
        for row in rows where !spread.contains(row[p].description) { spread.append(row[p].description) }
        let keyNames = keys.map { columns[$0] }
        let spreadNames = spread.map { keyNames.contains($0) ? "\(column)=\($0)" : $0 }
        var result: [[TableCell]] = []
        for group in grouped(by: keys) {
            var cells = keys.map { group.key[$0] ?? .missing } + Array(repeating: TableCell.missing, count: spread.count)
            var filled = Set<Int>()
            for row in group.rows {
                guard let slot = spread.firstIndex(of: row[p].description) else { continue }
                guard filled.insert(slot).inserted else {
                    let where_ = (keys.map { "\(columns[$0])=\(row[$0])" } + ["\(column)=\(row[p])"]).joined(separator: " ")
                    throw TableError("more than one row has \(where_); average them with mean=COLUMN")
                }
                cells[keys.count + slot] = row[v]
            }
            result.append(cells)
        }
        return Table(columns: keyNames + spreadNames, rows: result, title: title)
    }

    /// The index of a column, or an error naming the columns there are.
    public func index(of name: String, role: String) throws -> Int {
        guard let i = columns.firstIndex(of: name) else {
            throw TableError("\(role) column '\(name)' is not in the table (columns: \(columns.joined(separator: ", ")))")
        }
        return i
    }

    /// Rows grouped by their cells in `keys`, in order of first appearance.
    private func grouped(by keys: [Int]) -> [(key: [Int: TableCell], rows: [[TableCell]])] {
        var order: [String] = []
        var groups: [String: (key: [Int: TableCell], rows: [[TableCell]])] = [:]
        for row in rows {
            let id = keys.map { row[$0].kind + row[$0].exact }.joined(separator: "\u{1F}")
            if groups[id] == nil {
                order.append(id)
                groups[id] = (Dictionary(uniqueKeysWithValues: keys.map { ($0, row[$0]) }), [])
            }
            groups[id]?.rows.append(row)
        }
        return order.compactMap { groups[$0] }
    }

    /// `mean ± std` as text, from the values present.
    static func meanCell(_ xs: [Double]) -> TableCell {
        guard !xs.isEmpty else { return .missing }
        let (mean, std) = Replicates.meanAndStd(xs)
        guard xs.count > 1 else { return .text("\(fixed(mean)) ± —") }
        return .text("\(fixed(mean)) ± \(fixed(std))")
    }

    /// Four decimals, so a column of `mean ± std` lines up; scientific outside [0.001, 10^6).
    static func fixed(_ x: Double) -> String {
        guard x.isFinite else { return TableCell.format(x) }
        let a = Swift.abs(x)
        return a == 0 || (a >= 1e-3 && a < 1e6) ? String(format: "%.4f", x) : String(format: "%.3e", x)
    }
}

private extension TableCell {
    /// Tells `1` (int) from `"1"` (text) when grouping.
    var kind: String {
        switch self {
        case .number, .int: return "#"
        case .text: return "$"
        case .missing: return "-"
        }
    }
}
