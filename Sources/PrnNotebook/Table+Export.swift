import Foundation

/// Tables as files: CSV (RFC 4180 quoting), Markdown, and JSON Lines (one object per row).
extension Table {
    public enum Format: String, CaseIterable, Sendable {
        case csv, md, jsonl
    }

    /// The format a path's extension names, or nil.
    public static func format(forPath path: String) -> Format? {
        Format(rawValue: (path as NSString).pathExtension.lowercased())
    }

    public func rendered(as format: Format) -> String {
        switch format {
        case .csv: return csv
        case .md: return markdown
        case .jsonl: return jsonLines
        }
    }

    public var csv: String {
        func quote(_ s: String) -> String {
            s.contains(where: { ",\"\n\r".contains($0) }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
        }
        let lines = [columns.map(quote).joined(separator: ",")] + rows.map { row in
            row.map { cell -> String in
                switch cell {
                case .number(let x): return x.isFinite ? String(x) : TableCell.format(x)
                case .missing: return ""
                default: return quote(cell.description)
                }
            }.joined(separator: ",")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public var markdown: String {
        func escape(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|") }
        let numeric = columns.indices.map { i in !rows.isEmpty && rows.allSatisfy { $0[i].number != nil || $0[i] == .missing } }
        var lines = ["| " + columns.map(escape).joined(separator: " | ") + " |",
                     "|" + numeric.map { $0 ? " ---: |" : " --- |" }.joined()]
        lines += rows.map { "| " + $0.map { escape($0.description) }.joined(separator: " | ") + " |" }
        return (title.map { "**\($0)**\n\n" } ?? "") + lines.joined(separator: "\n") + "\n"
    }

    public var jsonLines: String {
        rows.map { row in
            var object: [String: Any] = [:]
            for (name, cell) in zip(columns, row) {
                switch cell {
                case .number(let x): object[name] = x.isFinite ? x : TableCell.format(x)
                case .int(let i): object[name] = i
                case .text(let s): object[name] = s
                case .missing: object[name] = NSNull()
                }
            }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
            return String(decoding: data, as: UTF8.self)
        }.map { $0 + "\n" }.joined()
    }
}
