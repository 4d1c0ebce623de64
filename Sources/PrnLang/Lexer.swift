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
    /// Where the source starts: an interpolated expression is lexed on its own, at its place
    /// inside the string.
    private let firstLine: Int
    private let firstColumnOffset: Int
    private var spaceBefore = true
    /// Open `(` and `[`: newlines inside them are whitespace.
    private var groupDepth = 0
    /// Open `{`: blocks, which the REPL waits for before running a cell.
    private var braceDepth = 0

    public init(_ source: String, start: SourceLocation = SourceLocation(line: 1, column: 1)) {
        chars = Array(source)
        line = start.line
        firstLine = start.line
        firstColumnOffset = start.column - 1
        startLocation = start
    }

    /// Lexes the whole source; the last token is always `.eof`.
    public mutating func scan() -> [Token] {
        while !isAtEnd {
            start = current
            startLocation = location(at: current)
            scanToken()
        }
        start = current
        startLocation = location(at: current)
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

    /// A string literal. `\(expr)` interpolates an expression; its source is kept as a piece for
    /// the parser, which lexes and parses it at its place in the line.
    private mutating func string() {
        var parts: [Token.StringPart] = []
        var text = ""
        var interpolated = false
        while let c = peek, c != "\"", c != "\n" {
            current += 1
            guard c == "\\" else {
                text.append(c)
                continue
            }
            guard let escaped = peek, escaped != "\n" else { break }
            current += 1
            switch escaped {
            case "n": text.append("\n")
            case "t": text.append("\t")
            case "r": text.append("\r")
            case "\"": text.append("\"")
            case "\\": text.append("\\")
            case "(":
                guard let end = interpolationEnd() else {
                    diagnostics.append(Diagnostic("'\\(' in a string needs a matching ')' on the same line",
                                                  at: location(at: current - 2)))
                    while let next = peek, next != "\n" { current += 1 }
                    return
                }
                if !text.isEmpty { parts.append(.text(text)) }
                text = ""
                parts.append(.code(String(chars[current..<end]), location(at: current)))
                current = end + 1
                interpolated = true
            default:
                diagnostics.append(Diagnostic("unknown escape '\\\(escaped)' in string", at: location(at: current - 2)))
            }
        }
        guard peek == "\"" else {
            return error("unterminated string")
        }
        current += 1
        let lexeme = String(chars[start..<current])
        if interpolated {
            if !text.isEmpty { parts.append(.text(text)) }
            add(.string, lexeme: lexeme, literal: .interpolated(parts))
        } else {
            add(.string, lexeme: lexeme, literal: .string(text))
        }
    }

    /// The index of the `)` closing an interpolation whose source starts at `current`, skipping
    /// nested parentheses and strings (which may interpolate in turn); nil when the line ends
    /// first. Iterative, so deep nesting cannot exhaust the stack.
    private func interpolationEnd() -> Int? {
        var stack = [1]   // per level: open parentheses in code, or 0 inside a nested string
        var i = current
        while i < chars.count, chars[i] != "\n" {
            let c = chars[i]
            if stack[stack.count - 1] == 0 {
                if c == "\\" {
                    if i + 1 < chars.count, chars[i + 1] == "(" { stack.append(1) }
                    i += 2
                    continue
                }
                if c == "\"" { stack.removeLast() }
            } else {
                switch c {
                case "(": stack[stack.count - 1] += 1
                case "\"": stack.append(0)
                case ")":
                    stack[stack.count - 1] -= 1
                    if stack[stack.count - 1] == 0 {
                        stack.removeLast()
                        if stack.isEmpty { return i }
                    }
                default: break
                }
            }
            i += 1
        }
        return nil
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

    /// The location of character `index`, which is on the current line.
    private func location(at index: Int) -> SourceLocation {
        SourceLocation(line: line, column: index - lineStart + 1 + (line == firstLine ? firstColumnOffset : 0))
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
