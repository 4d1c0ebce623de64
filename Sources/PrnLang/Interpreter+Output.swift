import PrnNotebook

/// What a program shows, as structured events: a terminal prints them, a notebook records them
/// (tables as Markdown tables, plots as linked files), a test collects them.
public enum OutputEvent {
    /// A top-level statement is about to run; its source, comments above it included (only when
    /// `Interpreter.announcesCells` is set).
    case cell(String)
    /// Printed text: `print`, `help`, `vars`, progress lines.
    case text(String)
    /// The value of a bare expression statement: a cell's `Out`.
    case value(Value)
    /// A table to show (`show t`).
    case table(Table)
    /// An SVG file a command wrote (`plot … to "x.svg"`).
    case plot(path: String, caption: String)
    /// A rendered diagnostic.
    case error(String)

    /// The event as a terminal shows it; nil for events that print nothing.
    public var terminalText: String? {
        switch self {
        case .cell: return nil
        case .text(let text): return text
        case .value(let value): return value.description
        case .table(let table): return table.text
        case .plot(let path, _): return "wrote \(path)"
        case .error(let text): return text
        }
    }
}

/// The output channel commands use. Everything a command shows goes through these, never
/// straight to standard output, so notebooks and tests see it.
extension Interpreter {
    /// Writes a chunk of text (no trailing newline needed).
    public func emit(_ text: String) { sink(.text(text)) }

    /// Shows a table: aligned columns on a terminal, a Markdown table in a notebook.
    public func emitTable(_ table: Table) { sink(.table(table)) }

    /// Reports an SVG file the command has written; a notebook links it (copying it beside the
    /// notebook when it lies elsewhere), a terminal prints its path.
    public func emitPlot(svgPath: String, caption: String) { sink(.plot(path: svgPath, caption: caption)) }

    /// Records a fact for the notebook's provenance header, e.g.
    /// `addProvenance("data fashion", "train a1b2c3d4, test 5e6f7a8b (CRC-32)")`. A later fact
    /// with the same key replaces the earlier one.
    public func addProvenance(_ key: String, _ value: String) {
        if let i = provenance.firstIndex(where: { $0.key == key }) {
            provenance[i].value = value
        } else {
            provenance.append((key, value))
        }
    }
}
