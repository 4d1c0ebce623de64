import Foundation

/// The file formats a table saves to, chosen by the file's extension.
public enum TableFormat: String, CaseIterable, Sendable {
    /// Comma-separated values (RFC 4180 quoting), numbers at full precision.
    case csv
    /// A Markdown table, numbers as the terminal shows them.
    case markdown = "md"
    /// One JSON object per row, numbers at full precision.
    case jsonl
}

extension Table {
    /// The format a path's extension asks for (`.csv`, `.md`, `.jsonl`), or nil.
    public static func format(forPath path: String) -> TableFormat? {
        TableFormat(rawValue: URL(fileURLWithPath: path).pathExtension.lowercased())
    }

    /// The table in a file format.
    public func rendered(as format: TableFormat) -> String {
        switch format {
        case .csv: return csv
        case .markdown: return markdown
        case .jsonl: return jsonl
        }
    }

    /// CSV with a header line; missing cells are empty. Every line ends with a newline.
    public var csv: String {
        func field(_ text: String) -> String {
            guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
            return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        var lines = [columns.map(field).joined(separator: ",")]
        for row in rows {
            lines.append(row.map { field($0.exact) }.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A Markdown table (numeric columns right-aligned), after the title in bold when there is one.
    public var markdown: String {
        guard !columns.isEmpty else { return (title.map { "**\(Table.escape($0))**\n\n" } ?? "") + "(empty table)\n" }
        let numeric = numericColumns
        var lines: [String] = []
        if let title { lines += ["**\(Table.escape(title))**", ""] }
        lines.append("| " + columns.map(Table.escape).joined(separator: " | ") + " |")
        lines.append("|" + numeric.map { $0 ? " ---: |" : " --- |" }.joined())
        for row in displayed {
            lines.append("| " + row.map(Table.escape).joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// One JSON object per row, keys in column order; missing cells are `null`.
    public var jsonl: String {
        rows.map { row in
            JSON.object(zip(columns, row).map { ($0, $1.json) }).serialized
        }.joined(separator: "\n") + (rows.isEmpty ? "" : "\n")
    }

    /// Which columns hold only numbers (and missing cells); a table with no rows has none.
    var numericColumns: [Bool] {
        columns.indices.map { i in !rows.isEmpty && rows.allSatisfy { $0[i].number != nil || $0[i] == .missing } }
    }

    private static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }
}

extension TableCell {
    /// The cell at full precision, for data files: the shortest text that reads back as the same number.
    public var exact: String {
        switch self {
        case .number(let x):
            if x.isNaN { return "nan" }
            if x.isInfinite { return x > 0 ? "inf" : "-inf" }
            return x.description
        case .int(let i): return String(i)
        case .text(let s): return s
        case .missing: return ""
        }
    }

    /// The cell as JSON: numbers stay numbers (non-finite ones become `null`), text a string.
    public var json: JSON {
        switch self {
        case .number(let x): return x.isFinite ? .number(x) : .null
        case .int(let i): return .int(i)
        case .text(let s): return .string(s)
        case .missing: return .null
        }
    }

    /// The cell a JSON value stands for: the inverse of `json`.
    public init(json: JSON) {
        switch json {
        case .int(let i): self = .int(i)
        case .number(let x): self = .number(x)
        case .string(let s): self = .text(s)
        case .bool(let b): self = .text(b ? "true" : "false")
        case .null, .array, .object: self = .missing
        }
    }
}
