import Foundation
import PrnFiles

/// Jupyter notebooks (nbformat 4.5): `prn run --notebook x.ipynb` and `:save x.ipynb` write one,
/// `prn run x.ipynb` runs the code cells of one.
extension Notebook {
    /// The kernel a prn notebook names, as `prn kernel install` registers it.
    public static let kernelspec: JSON = .object([
        ("name", .string("prn")), ("display_name", .string("prn")), ("language", .string("prn")),
    ])

    /// What Jupyter shows about the language: also the kernel's `language_info`.
    public static let languageInfo: JSON = .object([
        ("name", .string("prn")), ("version", .string(PrnVersion.current)), ("mimetype", .string("text/x-prn")),
        ("file_extension", .string(".prn")),
    ])

    /// The notebook in nbformat 4.5: a Markdown cell with the title and provenance table, then one
    /// code cell per cell with its outputs — printed text as a `stdout` stream, tables and plots
    /// as `display_data` (`MimeBundle`), diagnostics as `error`. The provenance is also kept in
    /// the notebook's metadata under `prn`.
    public var ipynb: JSON {
        var cells: [JSON] = [Self.cell(id: "header", type: "markdown", source: headerMarkdown, extra: [])]
        for (index, cell) in self.cells.enumerated() {
            cells.append(Self.cell(id: "cell-\(index + 1)", type: "code", source: cell.code, extra: [
                ("execution_count", .int(index + 1)),
                ("outputs", .array(Self.outputs(cell.outputs))),
            ]))
        }
        let provenance = JSON.object(self.provenance.map { ($0.0, .string($0.1)) })
        return .object([
            ("cells", .array(cells)),
            ("metadata", .object([
                ("kernelspec", Self.kernelspec), ("language_info", Self.languageInfo),
                ("prn", .object([("title", .string(title)), ("provenance", provenance)])),
            ])),
            ("nbformat", .int(4)),
            ("nbformat_minor", .int(5)),
        ])
    }

    /// The outputs in Jupyter's form; consecutive text joins into one stream, as Jupyter shows it.
    static func outputs(_ outputs: [NotebookOutput]) -> [JSON] {
        var result: [JSON] = []
        var text: [String] = []
        func flush() {
            guard !text.isEmpty else { return }
            result.append(.object([("output_type", .string("stream")), ("name", .string("stdout")),
                                   ("text", Self.lines(text.map { $0 + "\n" }.joined()))]))
            text = []
        }
        for output in outputs {
            switch output {
            case .text(let s):
                text.append(s)
            case .table(let table):
                flush()
                result.append(displayData(MimeBundle.table(table)))
            case .plot(let path, let caption):
                flush()
                result.append(displayData(MimeBundle.plot(path: path, caption: caption)))
            case .error(let rendered):
                flush()
                let error = MimeBundle.error(rendered)
                result.append(.object([("output_type", .string("error")), ("ename", .string(error.ename)),
                                       ("evalue", .string(error.evalue)), ("traceback", .array(error.traceback.map(JSON.string)))]))
            }
        }
        flush()
        return result
    }

    private static func displayData(_ bundle: JSON) -> JSON {
        guard case .object(let pairs) = bundle else { return bundle }
        return .object([("output_type", .string("display_data")),
                        ("data", .object(pairs.map { ($0.0, $0.1.string.map(Self.lines) ?? $0.1) })),
                        ("metadata", .object([]))])
    }

    private static func cell(id: String, type: String, source: String, extra: [(String, JSON)]) -> JSON {
        .object([("cell_type", .string(type)), ("id", .string(id)), ("metadata", .object([])),
                 ("source", lines(source))] + extra)
    }

    /// Multi-line text as nbformat stores it: a list of lines, each but the last keeping its `\n`.
    static func lines(_ text: String) -> JSON {
        var lines: [JSON] = []
        var line = ""
        for c in text {
            line.append(c)
            if c == "\n" { lines.append(.string(line)); line = "" }
        }
        if !line.isEmpty { lines.append(.string(line)) }
        return .array(lines)
    }

    /// Writes `ipynb` to `url`, indented one space per level as Jupyter writes notebooks.
    func writeIpynb(to url: URL) throws {
        try AtomicFile.write(ipynb.indented + "\n", to: url.path)
    }

    /// The code cells of a Jupyter notebook's text, in order and separated by blank lines: what
    /// `prn run notebook.ipynb` runs. Throws when the text is not an nbformat 4 notebook.
    public static func codeSource(ipynb text: String) throws -> String {
        let json = try JSON.parse(text)
        guard json["nbformat"]?.int == 4, case .array(let cells)? = json["cells"] else {
            throw JSONError(description: "not a Jupyter notebook (nbformat 4)")
        }
        return cells.filter { $0["cell_type"]?.string == "code" }.map { cell -> String in
            switch cell["source"] {
            case .string(let s)?: return s
            case .array(let parts)?: return parts.compactMap(\.string).joined()
            default: return ""
            }
        }.joined(separator: "\n\n")
    }
}

extension JSON {
    /// Text on several lines, each nesting level indented by one more space (`json.dumps(indent=1)`).
    public var indented: String {
        var out = ""
        write(indented: 0, into: &out)
        return out
    }

    private func write(indented level: Int, into out: inout String) {
        let inner = "\n" + String(repeating: " ", count: level + 1)
        switch self {
        case .array(let items) where !items.isEmpty:
            out += "["
            for (i, item) in items.enumerated() {
                out += (i > 0 ? "," : "") + inner
                item.write(indented: level + 1, into: &out)
            }
            out += "\n" + String(repeating: " ", count: level) + "]"
        case .object(let pairs) where !pairs.isEmpty:
            out += "{"
            for (i, (key, value)) in pairs.enumerated() {
                out += (i > 0 ? "," : "") + inner + JSON.string(key).serialized + ": "
                value.write(indented: level + 1, into: &out)
            }
            out += "\n" + String(repeating: " ", count: level) + "}"
        default:
            out += serialized
        }
    }
}
