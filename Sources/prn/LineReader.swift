import CLibEdit
import Foundation
import PrnLang

/// What reading one line gave.
enum ReadResult {
    case line(String)
    /// Ctrl-C at the prompt: drop what was typed.
    case interrupted
    /// Ctrl-D or end of input.
    case end
}

/// A source of input lines for the REPL.
protocol LineReader {
    /// Whether prompts and `Out[n]:` labels are shown (a terminal).
    var isInteractive: Bool { get }
    mutating func read(prompt: String) -> ReadResult
    /// Remembers a submitted line.
    mutating func remember(_ line: String)
    /// Lines remembered so far, oldest first.
    var history: [String] { get }
}

/// Plain lines from standard input, for `prn < file.prn`.
struct PlainLineReader: LineReader {
    var isInteractive: Bool { false }
    private(set) var history: [String] = []

    mutating func read(prompt: String) -> ReadResult {
        guard let line = Swift.readLine(strippingNewline: true) else { return .end }
        return .line(line)
    }

    mutating func remember(_ line: String) { history.append(line) }
}

/// libedit's readline: line editing, history in `~/.prn_history`, and tab completion.
struct EditLineReader: LineReader {
    var isInteractive: Bool { true }
    private let historyPath: String

    init(interpreter: Interpreter) {
        // $HOME first, as shells and readline do; Foundation's home directory ignores it on Linux.
        let home = ProcessInfo.processInfo.environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        historyPath = URL(fileURLWithPath: home).appendingPathComponent(".prn_history").path
        prn_set_readline_name("prn")
        using_history()
        stifle_history(1000)
        _ = read_history(historyPath)
        Completion.install(interpreter)
    }

    mutating func read(prompt: String) -> ReadResult {
        Interrupt.clear()
        guard let pointer = readline(prompt) else {
            if Interrupt.requested {
                Interrupt.clear()
                print("^C")
                return .interrupted
            }
            return .end
        }
        defer { free(pointer) }
        if Interrupt.requested {
            // The signal arrived while editing and readline still returned the line: drop it.
            Interrupt.clear()
            return .interrupted
        }
        return .line(String(cString: pointer))
    }

    mutating func remember(_ line: String) {
        guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { return }
        add_history(line)
        _ = write_history(historyPath)
    }

    var history: [String] {
        (0..<prn_history_length()).compactMap { i in prn_history_line(i).map { String(cString: $0) } }
    }
}
