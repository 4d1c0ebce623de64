import CLibEdit
import Foundation
import PrnLang

/// Bridges libedit's completion callbacks to `Interpreter.completions(before:word:)`.
///
/// libedit calls non-capturing C function pointers, so the interpreter and the current matches
/// live in globals (the REPL has one of each).
enum Completion {
    static var interpreter: Interpreter?
    static var matches: [String] = []
    static var nextMatch = 0
    /// Whether the word being completed is inside a string (a file path).
    static var inString = false

    static func install(_ interpreter: Interpreter) {
        Completion.interpreter = interpreter
        prn_set_word_break_characters()
        prn_set_completion_function { text, start, _ in
            prn_set_attempted_completion_over(1)
            let word = text.map { String(cString: $0) } ?? ""
            Completion.matches = Completion.candidates(word: word, start: Int(start))
            Completion.nextMatch = 0
            // `seed=` wants its value typed right after it, not a space; a folder its entries; a
            // file name in a string its closing quote.
            let single = Completion.matches.count == 1 ? Completion.matches[0] : nil
            let joins = single.map { $0.hasSuffix("=") || $0.hasSuffix(".") || $0.hasSuffix("/") } ?? false
            // (libedit also shows it after every listed match: none when there are several.)
            prn_set_completion_append_character(single == nil || joins ? 0 : (Completion.inString ? 34 : 32))
            guard !Completion.matches.isEmpty else { return nil }
            return rl_completion_matches(text) { _, state in
                if state == 0 { Completion.nextMatch = 0 }
                guard Completion.nextMatch < Completion.matches.count else { return nil }
                defer { Completion.nextMatch += 1 }
                return strdup(Completion.matches[Completion.nextMatch])
            }
        }
    }

    /// The candidates for `word`, which starts at byte `start` of the line being edited.
    static func candidates(word: String, start: Int) -> [String] {
        guard let interpreter else { return [] }
        var before = ""
        if start > 0, let buffer = prn_line_buffer() {
            let bytes = UnsafeRawBufferPointer(start: buffer, count: start)
            if !bytes.contains(0) { before = String(decoding: bytes, as: UTF8.self) }
        }
        inString = Interpreter.isInsideString(before)
        return interpreter.completions(before: before, word: word)
    }
}
