/// Turns source text into tokens (the scanner of Crafting Interpreters).
///
/// Newlines end statements, except inside `(…)` and `[…]`, where they are whitespace, so a long
/// list can span lines. `#` starts a comment to the end of the line. Errors are collected, not
/// thrown: the lexer skips the bad character and goes on, so one run reports them all.
public struct Lexer {
    private let chars: [Character]
    private var tokens: [Token] = []
    public private(set) var diagnostics: [Diagnostic] = []

    private var start = 0
    private var current = 0
    private var line = 1
    private var lineStart = 0
    private var startLocation = SourceLocation(line: 1, column: 1)
    private var spaceBefore = true
    /// Open `(` and `[`: newlines inside them are whitespace.
    private var groupDepth = 0
    /// Open `{`: blocks, which the REPL waits for before running a cell.
    private var braceDepth = 0

    public init(_ source: String) {
        chars = Array(source)
    }

    /// Lexes the whole source; the last token is always `.eof`.
    public mutating func scan() -> [Token] {
        while !isAtEnd {
            start = current
            startLocation = SourceLocation(line: line, column: current - lineStart + 1)
            scanToken()
        }
        start = current
        startLocation = SourceLocation(line: line, column: current - lineStart + 1)
        add(.eof, lexeme: "")
        return tokens
    }

    /// Whether `source` ends inside an open bracket, brace or parenthesis, so an interactive
    /// front end should read another line before running it.
    public static func needsContinuation(_ source: String) -> Bool {
        var lexer = Lexer(source)
        _ = lexer.scan()
        return lexer.groupDepth > 0 || lexer.braceDepth > 0
    }

    // MARK: - Scanning

    private mutating func scanToken() {
        let c = advance()
        switch c {
        case " ", "\t", "\r":
            spaceBefore = true
            return
        case "\n":
            if groupDepth == 0 { add(.newline, lexeme: "\\n") }
            newLine()
            spaceBefore = true
            return
        case "#":
            while let next = peek, next != "\n" { current += 1 }
            return
        case "(": groupDepth += 1; add(.leftParen)
        case ")": groupDepth = max(0, groupDepth - 1); add(.rightParen)
        case "[": groupDepth += 1; add(.leftBracket)
        case "]": groupDepth = max(0, groupDepth - 1); add(.rightBracket)
        case "{": braceDepth += 1; add(.leftBrace)
        case "}": braceDepth = max(0, braceDepth - 1); add(.rightBrace)
        case ",": add(.comma)
        case ".": add(.dot)
        case ":": add(.colon)
        case ";": add(.semicolon)
        case "+": add(.plus)
        case "-": add(.minus)
        case "*": add(.star)
        case "/": add(.slash)
        case "@": add(.at)
        case "=": add(match("=") ? .equalEqual : .equal)
        case "!": add(match("=") ? .bangEqual : .bang)
        case "<": add(match("=") ? .lessEqual : .less)
        case ">": add(match("=") ? .greaterEqual : .greater)
        case "\"": string()
        default:
            if c.isASCII && c.isNumber {
                number()
            } else if c.isLetter || c == "_" {
                name()
            } else {
                error("unexpected character '\(c)'")
            }
        }
        spaceBefore = false
    }

    private mutating func name() {
        while let c = peek, c.isLetter || c.isNumber || c == "_" { current += 1 }
        let text = String(chars[start..<current])
        add(TokenKind.keywords[text] ?? .name, lexeme: text)
    }

    private mutating func number() {
        var isFloat = false
        digits()
        // `1.5` and `1.` are floats; `1.x` is not a number followed by a field.
        if peek == ".", !(peekNext.map { $0.isLetter || $0 == "_" } ?? false) {
            isFloat = true
            current += 1
            digits()
        }
        if peek == "e" || peek == "E" {
            let save = current
            current += 1
            if peek == "+" || peek == "-" { current += 1 }
            if let c = peek, c.isASCII, c.isNumber {
                isFloat = true
                digits()
            } else {
                current = save
            }
        }
        let text = String(chars[start..<current])
        if isFloat {
            guard let value = Double(text), value.isFinite else {
                return error("number \(text) is out of range")
            }
            add(.float, lexeme: text, literal: .float(value))
        } else {
            guard let value = Int(text) else {
                return error("integer \(text) is too large (limit \(Int.max))")
            }
            add(.integer, lexeme: text, literal: .integer(value))
        }
    }

    private mutating func digits() {
        while let c = peek, c.isASCII, c.isNumber { current += 1 }
    }

    private mutating func string() {
        var value = ""
        while let c = peek, c != "\"", c != "\n" {
            current += 1
            guard c == "\\" else {
                value.append(c)
                continue
            }
            guard let escaped = peek, escaped != "\n" else { break }
            current += 1
            switch escaped {
            case "n": value.append("\n")
            case "t": value.append("\t")
            case "r": value.append("\r")
            case "\"": value.append("\"")
            case "\\": value.append("\\")
            default:
                let column = current - lineStart - 1
                diagnostics.append(Diagnostic("unknown escape '\\\(escaped)' in string",
                                              at: SourceLocation(line: line, column: column)))
            }
        }
        guard peek == "\"" else {
            return error("unterminated string")
        }
        current += 1
        add(.string, lexeme: String(chars[start..<current]), literal: .string(value))
    }

    // MARK: - Helpers

    private var isAtEnd: Bool { current >= chars.count }
    private var peek: Character? { current < chars.count ? chars[current] : nil }
    private var peekNext: Character? { current + 1 < chars.count ? chars[current + 1] : nil }

    private mutating func advance() -> Character {
        defer { current += 1 }
        return chars[current]
    }

    private mutating func match(_ expected: Character) -> Bool {
        guard peek == expected else { return false }
        current += 1
        return true
    }

    private mutating func newLine() {
        line += 1
        lineStart = current
    }

    private mutating func add(_ kind: TokenKind, lexeme: String? = nil, literal: Token.Literal? = nil) {
        let text = lexeme ?? String(chars[start..<current])
        tokens.append(Token(kind: kind, lexeme: text, literal: literal, location: startLocation, spaceBefore: spaceBefore))
    }

    private mutating func error(_ message: String) {
        diagnostics.append(Diagnostic(message, at: startLocation))
    }
}
