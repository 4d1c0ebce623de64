import PrnKernel
import PrnNotebook

/// Collects cells and their outputs as a program runs, for a Markdown notebook: feed it every
/// `OutputEvent` (`prn run --notebook` also sets `Interpreter.announcesCells`, so each top-level
/// statement starts a cell; the REPL starts one per input with `beginCell`).
///
/// ```swift
/// let recorder = NotebookRecorder()
/// interpreter.announcesCells = true
/// interpreter.sink = { event in recorder.record(event); terminal(event) }
/// interpreter.run(source: source, file: path)
/// try recorder.notebook(title: path, header: recorder.header(for: interpreter, directory: ".")).write(to: "out.md")
/// ```
public final class NotebookRecorder {
    public private(set) var cells: [NotebookCell] = []
    /// The global seed when recording started, for the header.
    private var startSeed: UInt64?

    public init() {}

    /// Starts a cell; later outputs belong to it.
    public func beginCell(_ code: String, label: String? = nil) {
        cells.append(NotebookCell(code: code, label: label))
    }

    /// Records one event: a `.cell` starts a cell, everything else is an output of the current one.
    public func record(_ event: OutputEvent) {
        switch event {
        case .cell(let code): beginCell(code)
        case .text(let text): append(.text(text))
        case .value(let value):
            if let table = value.displayedTable { append(.table(table)) } else { append(.text(value.description)) }
        case .table(let table): append(.table(table))
        case .plot(let path, let caption): append(.plot(path: path, caption: caption))
        case .error(let text): append(.error(text))
        }
    }

    /// Notes the global seed at the start, so the header can say when a script changed it.
    public func start(_ interpreter: Interpreter) {
        startSeed = interpreter.globalSeed
    }

    private func append(_ output: NotebookOutput) {
        if cells.isEmpty { cells.append(NotebookCell(code: "")) }
        cells[cells.count - 1].outputs.append(output)
    }

    /// The provenance header: prn's version and the commit of `directory`'s checkout, the date,
    /// the seed, threads, CPU, then what commands reported (`Interpreter.addProvenance`, e.g.
    /// data checksums), then `extra`.
    public func header(for interpreter: Interpreter, directory: String, extra: [(String, String)] = []) -> [(String, String)] {
        var seed = String(startSeed ?? interpreter.globalSeed)
        if let startSeed, startSeed != interpreter.globalSeed { seed += " (set to \(interpreter.globalSeed) by the script)" }
        var lines: [(String, String)] = [
            ("prn", Provenance.version(directory: directory)),
            ("date", Provenance.date),
            ("seed", seed),
            ("threads", String(Parallel.threads)),
            ("CPU", Provenance.cpu),
        ]
        lines += interpreter.provenance.map { ($0.key, $0.value) }
        return lines + extra
    }

    /// The notebook so far.
    public func notebook(title: String, header: [(String, String)]) -> Notebook {
        Notebook(title: title, provenance: header, cells: cells)
    }
}
