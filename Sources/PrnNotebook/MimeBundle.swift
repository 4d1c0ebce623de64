import Foundation

/// How prn's outputs look to Jupyter: MIME bundles (`{"text/plain": …, "text/markdown": …}`) and
/// error fields. The kernel sends them and the `.ipynb` writer stores them, so a notebook run by
/// the kernel and one written by `prn run --notebook x.ipynb` hold the same outputs.
public enum MimeBundle {
    /// A table: aligned text, a Markdown table and an HTML table, in that order.
    public static func table(_ table: Table) -> JSON {
        .object([
            ("text/plain", .string(table.text)),
            ("text/markdown", .string(table.markdown)),
            ("text/html", .string(table.html)),
        ])
    }

    /// A plot: the SVG file's text inline, and its caption as plain text. Only the caption when
    /// the file cannot be read.
    public static func plot(path: String, caption: String) -> JSON {
        guard let data = FileManager.default.contents(atPath: path), let svg = String(data: data, encoding: .utf8) else {
            return .object([("text/plain", .string("\(caption) (\(path))"))])
        }
        return .object([("image/svg+xml", .string(svg)), ("text/plain", .string(caption))])
    }

    /// A value that is not a table: its text.
    public static func text(_ text: String) -> JSON { .object([("text/plain", .string(text))]) }

    /// `ename`, `evalue` and `traceback` for a rendered diagnostic
    /// (`cell.prn:2:5: error: unknown name 'x'`, the source line, a caret): the message after
    /// `error: ` is the value, the lines are the traceback.
    public static func error(_ rendered: String, name: String = "Error") -> (ename: String, evalue: String, traceback: [String]) {
        let lines = rendered.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let first = lines.first ?? ""
        let value = first.range(of: "error: ").map { String(first[$0.upperBound...]) } ?? first
        return (name, value, lines)
    }
}

extension Table {
    /// An HTML table, the title as its caption; numeric columns right-aligned.
    public var html: String {
        func escape(_ text: String) -> String {
            text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;")
        }
        let numeric = numericColumns
        func cell(_ tag: String, _ text: String, _ column: Int) -> String {
            (numeric[column] ? "<\(tag) style=\"text-align: right\">" : "<\(tag)>") + escape(text) + "</\(tag)>"
        }
        var out = "<table>\n"
        if let title { out += "<caption>\(escape(title))</caption>\n" }
        out += "<thead><tr>" + columns.indices.map { cell("th", columns[$0], $0) }.joined() + "</tr></thead>\n<tbody>\n"
        for row in displayed {
            out += "<tr>" + row.indices.map { cell("td", row[$0], $0) }.joined() + "</tr>\n"
        }
        return out + "</tbody>\n</table>\n"
    }
}
