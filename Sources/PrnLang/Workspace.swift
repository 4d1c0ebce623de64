import Foundation

/// The named values of a session. Values are immutable; the workspace only binds and unbinds.
public struct Workspace {
    private var values: [String: Value] = [:]

    public init() {}

    public subscript(name: String) -> Value? { values[name] }

    /// Bound names, sorted.
    public var names: [String] { values.keys.sorted() }

    public var isEmpty: Bool { values.isEmpty }

    mutating func bind(_ name: String, _ value: Value) { values[name] = value }

    @discardableResult
    mutating func remove(_ name: String) -> Value? { values.removeValue(forKey: name) }

    /// The `vars` table: name, type and size of each value.
    public var listing: String {
        guard !values.isEmpty else { return "(no variables)" }
        let rows = [["name", "type", "size"]] + names.map { name in
            let value = values[name] ?? .none
            return [name, value.typeName, value.size]
        }
        return TextTable.render(rows)
    }
}

/// Plain-text columns, left-aligned, two spaces apart.
enum TextTable {
    static func render(_ rows: [[String]]) -> String {
        let columns = rows.map(\.count).max() ?? 0
        var widths = [Int](repeating: 0, count: columns)
        for row in rows {
            for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) }
        }
        return rows.map { row in
            row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
