import Foundation
import PrnLang
import PrnNotebook

/// The requests answered from the interpreter's state without running code. Cursor positions
/// count Unicode scalars, as protocol 5.2 and later say; out-of-range positions are clamped.
extension JupyterKernel {
    var kernelInfo: JSON {
        .object([
            ("status", .string("ok")),
            ("protocol_version", .string(Message.protocolVersion)),
            ("implementation", .string("prn")),
            ("implementation_version", .string(PrnVersion.current)),
            ("language_info", Notebook.languageInfo),
            ("banner", .string("prn \(PrnVersion.current) — type `help` for commands")),
            ("help_links", .array([])),
            ("debugger", .bool(false)),
        ])
    }

    /// Characters that end a word being completed; the REPL's libedit uses the same set.
    static let wordBreaks = Set(" \t\n\"'`=()[]{},;+-*/@<>".unicodeScalars)

    /// The REPL's completions (`Interpreter.completions`) for the word before the cursor.
    func complete(_ content: JSON) -> JSON {
        let (scalars, cursor) = Self.codeAndCursor(content)
        var start = cursor
        while start > 0, !Self.wordBreaks.contains(scalars[start - 1]) { start -= 1 }
        var lineStart = start
        while lineStart > 0, scalars[lineStart - 1] != "\n" { lineStart -= 1 }
        let before = Self.text(scalars[lineStart..<start]), word = Self.text(scalars[start..<cursor])
        return .object([
            ("matches", .array(interpreter.completions(before: before, word: word).map(JSON.string))),
            ("cursor_start", .int(start)), ("cursor_end", .int(cursor)),
            ("metadata", .object([])), ("status", .string("ok")),
        ])
    }

    /// `help` for the name under (or just before) the cursor: a command, keyword or variable.
    func inspect(_ content: JSON) -> JSON {
        let (scalars, cursor) = Self.codeAndCursor(content)
        func isNameScalar(_ s: Unicode.Scalar) -> Bool { s == "_" || s.properties.isAlphabetic || s.properties.numericType != nil }
        var start = cursor, end = cursor
        while start > 0, isNameScalar(scalars[start - 1]) { start -= 1 }
        while end < scalars.count, isNameScalar(scalars[end]) { end += 1 }
        let text = interpreter.help(topic: Self.text(scalars[start..<end]), form: nil)
        return .object([
            ("status", .string("ok")), ("found", .bool(text != nil)),
            ("data", text.map { .object([("text/plain", .string($0))]) } ?? .object([])),
            ("metadata", .object([])),
        ])
    }

    /// `incomplete` (with an indent of two spaces per open bracket or brace) while the code
    /// leaves one open, `invalid` when prn's lexer or parser rejects it, else `complete`.
    func isComplete(_ content: JSON) -> JSON {
        let code = content["code"]?.string ?? ""
        if Lexer.needsContinuation(code) {
            var lexer = Lexer(code)
            let depth = lexer.scan().reduce(0) { depth, token in
                switch token.kind {
                case .leftBrace, .leftBracket, .leftParen: return depth + 1
                case .rightBrace, .rightBracket, .rightParen: return max(0, depth - 1)
                default: return depth
                }
            }
            return .object([("status", .string("incomplete")), ("indent", .string(String(repeating: "  ", count: max(1, depth))))])
        }
        let valid = Parser.program(code, commands: interpreter.commands).errors.isEmpty
        return .object([("status", .string(valid ? "complete" : "invalid"))])
    }

    /// The cells run this session as `[session, number, code]`: the last `n` for `tail`, those
    /// whose whole code matches the glob `pattern` for `search` (`*` any run of characters, `?`
    /// one, as IPython's history search; an empty pattern matches every cell), all for `range`.
    func historyReply(_ content: JSON) -> JSON {
        var entries = history.enumerated().map { (number: $0.offset + 1, code: $0.element) }
        switch content["hist_access_type"]?.string {
        case "search":
            let pattern = content["pattern"]?.string ?? ""
            entries = entries.filter { pattern.isEmpty || fnmatch(pattern, $0.code, 0) == 0 }
            fallthrough
        case "tail":
            if let n = content["n"]?.int, n >= 0 { entries = Array(entries.suffix(n)) }
        default:
            break
        }
        return .object([
            ("status", .string("ok")),
            ("history", .array(entries.map { .array([.int(1), .int($0.number), .string($0.code)]) })),
        ])
    }

    /// The request's code as scalars and its cursor, clamped to the code (the end when absent).
    private static func codeAndCursor(_ content: JSON) -> ([Unicode.Scalar], Int) {
        let scalars = Array((content["code"]?.string ?? "").unicodeScalars)
        let cursor = min(max(content["cursor_pos"]?.int ?? scalars.count, 0), scalars.count)
        return (scalars, cursor)
    }

    private static func text(_ scalars: ArraySlice<Unicode.Scalar>) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }
}
