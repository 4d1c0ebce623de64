import Foundation
import PrnLang
import PrnNotebook

/// The read-eval-print loop: numbered cells `In [n]:` / `Out[n]:`, multi-line input while a
/// bracket or brace is open, and colon commands for REPL-only actions. Errors never end it.
final class REPL {
    private let interpreter: Interpreter
    private var reader: any LineReader
    private let file: String
    private var cell = 1
    /// Lines run so far: the next cell's line numbers continue from here, so errors point at a
    /// line of the session and derived seeds differ from cell to cell.
    private var linesRun = 0
    private var failures = 0
    /// The session as notebook cells, for `:save`.
    private let recorder = NotebookRecorder()

    /// Opens a REPL on standard input and runs it to the end; returns the exit status.
    static func start() -> Int32 {
        let interpreter = Interpreter()
        let reader: any LineReader = isatty(0) != 0 ? EditLineReader(interpreter: interpreter) : PlainLineReader()
        return REPL(interpreter: interpreter, reader: reader).run()
    }

    init(interpreter: Interpreter, reader: any LineReader) {
        self.interpreter = interpreter
        self.reader = reader
        self.file = reader.isInteractive ? "<repl>" : "<stdin>"
        recorder.start(interpreter)
    }

    func run() -> Int32 {
        if reader.isInteractive {
            print("prn — type `help` for commands, `:help` for the REPL, Ctrl-D to quit.")
        }
        while let source = readCell() {
            if let colon = ColonCommand.parse(source) {
                guard perform(colon) else { break }
                continue
            }
            evaluate(source)
        }
        if reader.isInteractive { print() }
        return failures > 0 && !reader.isInteractive ? 1 : 0
    }

    /// Reads one cell: a line, plus continuation lines while a bracket is open. Nil at the end.
    private func readCell() -> String? {
        var lines: [String] = []
        while true {
            let prompt = lines.isEmpty ? "In [\(cell)]: " : continuationPrompt
            switch reader.read(prompt: reader.isInteractive ? prompt : "") {
            case .end:
                return lines.isEmpty ? nil : lines.joined(separator: "\n")
            case .interrupted:
                lines = []
                continue
            case .line(let line):
                if lines.isEmpty && line.trimmingCharacters(in: .whitespaces).isEmpty {
                    if !reader.isInteractive { linesRun += 1 }
                    continue
                }
                reader.remember(line)
                lines.append(line)
                let source = lines.joined(separator: "\n")
                if lines.count == 1 && ColonCommand.isColon(line) { return source }
                if !Lexer.needsContinuation(source) { return source }
            }
        }
    }

    /// `   ...: ` aligned under `In [n]: `.
    private var continuationPrompt: String {
        let width = "In [\(cell)]: ".count
        return String(repeating: " ", count: max(0, width - 5)) + "...: "
    }

    private func evaluate(_ source: String) {
        let number = cell
        let interactive = reader.isInteractive
        let recorder = self.recorder
        recorder.beginCell(source, label: interactive ? "In [\(number)]" : nil)
        interpreter.sink = { event in
            recorder.record(event)
            switch event {
            case .error(let text):
                Interpreter.writeStandardError(text)
            case .value(let value) where interactive:
                let text = value.description
                print(text.contains("\n") ? "Out[\(number)]:\n\(text)" : "Out[\(number)]: \(text)")
            default:
                if let text = event.terminalText { print(text) }
            }
        }
        Interrupt.clear()
        let outcome = interpreter.run(source: source, file: file, lineOffset: linesRun)
        switch outcome {
        case .ok: break
        case .failed: failures += 1
        case .interrupted:
            print("interrupted")
            recorder.record(.text("interrupted"))
        }
        Interrupt.clear()
        linesRun += source.split(separator: "\n", omittingEmptySubsequences: false).count
        cell += 1
        if reader.isInteractive { print() }
    }

    /// `:save notebook.md`: the session so far as a Markdown notebook.
    private func save(to path: String) {
        guard !path.isEmpty else {
            return Interpreter.writeStandardError("\(file): error: :save needs a file name, as in :save notebook.md")
        }
        let expanded = (path as NSString).expandingTildeInPath
        let header = recorder.header(for: interpreter, directory: FileManager.default.currentDirectoryPath)
        do {
            try recorder.notebook(title: "prn session", header: header).write(to: expanded)
            print("saved \(recorder.cells.count) cells to \(path)")
        } catch {
            Interpreter.writeStandardError("\(file): error: cannot write \(path): \(error.localizedDescription)")
        }
    }

    /// Runs a colon command; false when the REPL should end.
    private func perform(_ command: ColonCommand) -> Bool {
        switch command {
        case .quit:
            return false
        case .help:
            print(ColonCommand.helpText)
        case .vars:
            print(interpreter.workspace.listing)
        case .history:
            for (i, line) in reader.history.enumerated() { print(String(format: "%4d  ", i + 1) + line) }
        case .save(let path):
            save(to: path)
        case .unknown(let word):
            var message = "\(file): error: unknown REPL command ':\(word)'"
            if let close = Suggest.closest(to: word, in: ColonCommand.allNames) { message += "; did you mean ':\(close)'?" }
            Interpreter.writeStandardError(message + " (see :help)")
        }
        return true
    }
}

/// REPL-only actions, typed as `:name`. Language commands (`help`, `vars`) work in scripts too.
enum ColonCommand: Equatable {
    case quit, help, vars, history
    /// `:save notebook.md`.
    case save(String)
    case unknown(String)

    static let table: [(names: [String], command: ColonCommand, summary: String)] = [
        ([":quit", ":q", ":exit"], .quit, "leave the REPL (Ctrl-D also does)"),
        ([":help"], .help, "this list; `help` lists the language's commands"),
        ([":vars"], .vars, "the workspace (the same as `vars`)"),
        ([":history"], .history, "the lines entered, oldest first (kept in ~/.prn_history)"),
        ([":save"], .save(""), "`:save notebook.md` writes the session so far as a Markdown notebook (`.ipynb`: Jupyter's)"),
    ]

    static var allNames: [String] { table.flatMap(\.names).map { String($0.dropFirst()) } }

    static func isColon(_ line: String) -> Bool {
        line.trimmingCharacters(in: .whitespaces).hasPrefix(":")
    }

    static func parse(_ source: String) -> ColonCommand? {
        let text = source.trimmingCharacters(in: .whitespaces)
        guard text.hasPrefix(":") else { return nil }
        let word = String(text.prefix { !$0.isWhitespace })
        let argument = text.dropFirst(word.count).trimmingCharacters(in: .whitespaces)
        if word == ":save" { return .save(argument) }
        guard argument.isEmpty else { return .unknown(String(text.dropFirst())) }
        return table.first { $0.names.contains(word) }?.command ?? .unknown(String(word.dropFirst()))
    }

    static var helpText: String {
        let width = table.map { $0.names.joined(separator: " ").count }.max() ?? 0
        return "REPL commands:\n" + table.map { entry in
            "  " + entry.names.joined(separator: " ").padding(toLength: width, withPad: " ", startingAt: 0) + "  " + entry.summary
        }.joined(separator: "\n")
    }
}
