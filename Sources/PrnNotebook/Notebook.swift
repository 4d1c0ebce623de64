import Foundation
import PrnFiles

/// prn's version, written into notebooks and results files.
public enum PrnVersion {
    public static let current = "0.1.0"
}

/// One output of a notebook cell, in the order the cell produced it.
public enum NotebookOutput: Equatable, Sendable {
    /// Printed text (several in a row share one block).
    case text(String)
    /// A table, rendered as a Markdown table.
    case table(Table)
    /// An SVG file a command wrote; the notebook links it.
    case plot(path: String, caption: String)
    /// A rendered diagnostic.
    case error(String)
}

/// A code cell and what it printed.
public struct NotebookCell: Equatable, Sendable {
    public var code: String
    /// A label before the cell, e.g. `In [3]` in a REPL session.
    public var label: String?
    public var outputs: [NotebookOutput]

    public init(code: String, label: String? = nil, outputs: [NotebookOutput] = []) {
        self.code = code
        self.label = label
        self.outputs = outputs
    }
}

/// A Markdown notebook: a title, a provenance table, then code cells each followed by its
/// outputs — text in fenced blocks, tables as Markdown tables, plots as linked SVG files.
///
/// ```swift
/// var notebook = Notebook(title: "grid.prn", provenance: [("prn", PrnVersion.current)])
/// notebook.cells.append(NotebookCell(code: "print 1", outputs: [.text("1")]))
/// try notebook.write(to: "grid.md")
/// ```
public struct Notebook: Sendable {
    public var title: String
    /// Key–value lines of the header (version, commit, date, seed, threads, CPU, data checksums).
    public var provenance: [(String, String)]
    public var cells: [NotebookCell]

    public init(title: String, provenance: [(String, String)] = [], cells: [NotebookCell] = []) {
        self.title = title
        self.provenance = provenance
        self.cells = cells
    }

    /// The notebook as Markdown. `link` maps a plot's path to the link written for it.
    public func markdown(link: (String) -> String = { $0 }) -> String {
        var out = headerMarkdown
        for cell in cells {
            if let label = cell.label { out += "**\(label)**\n\n" }
            if !cell.code.isEmpty { out += Notebook.fenced(cell.code, info: "prn") }
            var text: [String] = []
            func flush() {
                if !text.isEmpty { out += Notebook.fenced(text.joined(separator: "\n"), info: "text") }
                text = []
            }
            for output in cell.outputs {
                switch output {
                case .text(let s):
                    text.append(s)
                case .table(let table):
                    flush()
                    out += table.markdown + "\n"
                case .plot(let path, let caption):
                    flush()
                    out += "![\(caption.replacingOccurrences(of: "]", with: ")"))](\(Notebook.urlEscape(link(path))))\n\n"
                case .error(let message):
                    flush()
                    out += Notebook.fenced(message, info: "text", quote: true)
                }
            }
            flush()
        }
        return out
    }

    /// The title and the provenance table, in Markdown.
    var headerMarkdown: String {
        var out = "# \(title)\n\n"
        if !provenance.isEmpty {
            out += "| | |\n| --- | --- |\n"
            for (key, value) in provenance {
                out += "| \(key) | \(value.replacingOccurrences(of: "|", with: "\\|")) |\n"
            }
            out += "\n"
        }
        return out
    }

    /// Writes the notebook to `path`: a Jupyter notebook when it ends in `.ipynb` (plots inline),
    /// else Markdown. Plots already in the notebook's folder (or below it) are
    /// linked where they are; others are copied beside the notebook as `NAME-PLOT.svg`.
    public func write(to path: String) throws {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        if url.pathExtension.lowercased() == "ipynb" { return try writeIpynb(to: url) }
        let folder = url.deletingLastPathComponent()
        let stem = url.deletingPathExtension().lastPathComponent
        var links: [String: String] = [:]
        for cell in cells {
            for case .plot(let plot, _) in cell.outputs where links[plot] == nil {
                let source = URL(fileURLWithPath: plot).standardizedFileURL
                if source.path.hasPrefix(folder.path + "/") {
                    links[plot] = String(source.path.dropFirst(folder.path.count + 1))
                } else {
                    let name = "\(stem)-\(source.lastPathComponent)"
                    let target = folder.appendingPathComponent(name)
                    try? FileManager.default.removeItem(at: target)
                    try? FileManager.default.copyItem(at: source, to: target)
                    links[plot] = name
                }
            }
        }
        let text = markdown { links[$0] ?? $0 }
        try AtomicFile.write(text, to: url.path)
    }

    /// A fenced block whose fence is longer than any run of backticks inside it.
    static func fenced(_ text: String, info: String, quote: Bool = false) -> String {
        var longest = 0, run = 0
        for c in text {
            run = c == "`" ? run + 1 : 0
            longest = max(longest, run)
        }
        let fence = String(repeating: "`", count: max(3, longest + 1))
        var block = fence + info + "\n" + text + "\n" + fence + "\n"
        if quote {
            block = "> **error**\n>\n" + block.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
                .map { "> " + $0 }.joined(separator: "\n") + "\n"
        }
        return block + "\n"
    }

    private static func urlEscape(_ path: String) -> String {
        path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? path
    }
}
