/// Builds statements from tokens by recursive descent (jlox's parser).
///
/// The command table tells which names are commands: a statement that starts with a command
/// word is a command call (`tensor zeros [2, 3]`); `name(args)` with no space is the call form.
/// On a syntax error the parser records a diagnostic and skips to the next statement (inside a
/// block, to the next statement of the block), so one run reports every syntax error.
///
/// ```
/// statement   = "print" rhs | NAME "=" rhs | for | if | rhs
/// for         = "for" NAME "in" expression block
/// if          = "if" expression block [ "else" ( if | block ) ]
/// block       = "{" { statement } "}"
/// rhs         = command | expression
/// command     = COMMAND [FORM] { argument }
/// argument    = NAME "=" operand | operand
/// operand     = "-" operand | postfix
/// expression  = or
/// or          = and { "or" and }
/// and         = not { "and" not }
/// not         = "not" not | comparison
/// comparison  = term [ ("==" | "!=" | "<" | "<=" | ">" | ">=") term ]
/// term        = factor { ("+" | "-") factor }
/// factor      = unary { ("*" | "/" | "@") unary }
/// unary       = "-" unary | postfix
/// postfix     = primary { "." NAME }
/// primary     = NUMBER | STRING | "true" | "false" | "none" | NAME | COMMAND "(" args ")"
///             | "range" "(" expression [ "," expression ] ")"
///             | "[" [ expression { "," expression } [","] ] "]" | "(" rhs ")"
/// ```
public struct Parser {
    let tokens: [Token]
    let commands: CommandTable
    var current = 0
    /// Nesting so far: blocks, brackets, parentheses, unary and chained binary operators.
    var depth: Int
    /// Open blocks: inside one, `}` also ends a statement.
    private var blocks = 0
    public internal(set) var diagnostics: [Diagnostic] = []
    /// The first and last line of each top-level statement, in order: a notebook shows each
    /// as a cell.
    public private(set) var spans: [ClosedRange<Int>] = []

    /// `depth` starts an interpolated expression's parser at its string's nesting.
    public init(tokens: [Token], commands: CommandTable = .standard, depth: Int = 0) {
        self.tokens = tokens.last?.kind == .eof ? tokens
            : tokens + [Token(kind: .eof, lexeme: "", location: tokens.last?.location ?? SourceLocation(line: 1, column: 1))]
        self.commands = commands
        self.depth = depth
    }

    /// Parses every statement; syntax errors are in `diagnostics`.
    public mutating func parse() -> [Stmt] {
        var statements: [Stmt] = []
        while true {
            while match(.newline) || match(.semicolon) {}
            if check(.eof) { break }
            let first = peek.location.line
            do {
                statements.append(try statement())
                spans.append(first...max(first, previous.location.line))
            } catch let error as Diagnostic {
                diagnostics.append(error)
                synchronize()
            } catch {
                diagnostics.append(Diagnostic("\(error)", at: peek.location))
                synchronize()
            }
        }
        return statements
    }

    /// A whole script, lexed then parsed: the statements and their line spans, or, when either
    /// phase reported errors, no statements and the errors (lexing errors stop before parsing).
    public static func program(_ source: String, commands: CommandTable = .standard)
        -> (statements: [Stmt], spans: [ClosedRange<Int>], errors: [Diagnostic]) {
        var lexer = Lexer(source)
        let tokens = lexer.scan()
        guard lexer.diagnostics.isEmpty else { return ([], [], lexer.diagnostics) }
        var parser = Parser(tokens: tokens, commands: commands)
        let statements = parser.parse()
        return parser.diagnostics.isEmpty ? (statements, parser.spans, []) : ([], [], parser.diagnostics)
    }

    /// One expression and nothing after it (`--set lr=TEXT`, an interpolation's `\(…)`), lexed
    /// from `start`; throws the first error, or `empty` / `trailing` when there is no expression
    /// or more than one.
    static func expression(_ source: String, start: SourceLocation? = nil, commands: CommandTable, depth: Int = 0,
                           empty: String, trailing: (Token) -> String) throws -> Expr {
        var lexer = Lexer(source, start: start ?? SourceLocation(line: 1, column: 1))
        let tokens = lexer.scan()
        if let first = lexer.diagnostics.first { throw first }
        var parser = Parser(tokens: tokens, commands: commands, depth: depth)
        guard !parser.check(.eof) else { throw Diagnostic(empty, at: start ?? parser.peek.location) }
        let expr = try parser.rhs()
        guard parser.check(.eof) else { throw Diagnostic(trailing(parser.peek), at: parser.peek) }
        return expr
    }

    // MARK: - Statements

    private mutating func statement() throws -> Stmt {
        switch peek.kind {
        case .print:
            let keyword = advance()
            let value = try rhs()
            try endOfStatement(after: value)
            return .print(keyword, value)
        case .for:
            let loop = try forLoop()
            try endOfStatement()
            return .forLoop(loop)
        case .if:
            let chain = try ifElse()
            try endOfStatement()
            return .ifElse(chain)
        case .else:
            throw Diagnostic("'else' must follow the '}' of an if, on the same line: } else {", at: peek)
        case .leftBrace:
            throw Diagnostic("a block '{ … }' must follow 'for … in …' or 'if …'", at: peek)
        case .rightBrace:
            throw Diagnostic("'}' does not close any '{'", at: peek)
        case .name where peekNext.kind == .equal:
            let name = advance()
            advance()
            if commands.isCommand(name.lexeme) {
                throw Diagnostic("cannot assign to '\(name.lexeme)': it is a command", at: name)
            }
            let value = try rhs()
            try endOfStatement(after: value)
            return .assign(name, value)
        default:
            let value = try rhs()
            try endOfStatement(after: value)
            return .expression(value)
        }
    }

    /// `for NAME in expression { … }`.
    private mutating func forLoop() throws -> ForLoop {
        let keyword = advance()
        guard check(.name) else {
            throw Diagnostic("expected a loop variable name after 'for', found \(peek.display)", at: peek)
        }
        let variable = advance()
        if commands.isCommand(variable.lexeme) {
            throw Diagnostic("cannot use '\(variable.lexeme)' as a loop variable: it is a command", at: variable)
        }
        guard match(.in) else {
            throw Diagnostic(suggestingKeyword("expected 'in' after 'for \(variable.lexeme)', found \(peek.display)", ["in"]),
                             at: peek)
        }
        let iterable = try wordList() ?? expression()
        return ForLoop(keyword: keyword, variable: variable, iterable: iterable,
                       body: try block(after: "'for \(variable.lexeme) in …'"))
    }

    /// `[random, snip, shuffle]` right before a loop's `{`: a list of bare words, which may be
    /// command words (`shuffle`), read as names so the loop can take them as symbols. Nil (and
    /// nothing consumed) for any other list.
    private mutating func wordList() throws -> Expr? {
        guard check(.leftBracket) else { return nil }
        var index = current + 1
        var words: [Token] = []
        while index < tokens.count, tokens[index].kind == .name {
            words.append(tokens[index])
            index += 1
            if index < tokens.count, tokens[index].kind == .comma { index += 1 } else { break }
        }
        guard !words.isEmpty, index + 1 < tokens.count, tokens[index].kind == .rightBracket,
              tokens[index + 1].kind == .leftBrace else { return nil }
        let open = advance()
        current = index + 1
        return .list(open, words.map(Expr.name))
    }

    /// `if cond { … } [else if cond { … }]… [else { … }]`.
    private mutating func ifElse() throws -> IfElse {
        var branches: [IfElse.Branch] = []
        var otherwise: Block?
        repeat {
            let keyword = advance()
            let condition = try expression()
            branches.append(IfElse.Branch(keyword: keyword, condition: condition, body: try block(after: "the if's condition")))
            guard match(.else) else { break }
            if !check(.if) {
                otherwise = try block(after: "'else'")
                break
            }
        } while true
        return IfElse(branches: branches, otherwise: otherwise)
    }

    /// `{ statements }`; errors in its statements are reported and skipped one by one.
    private mutating func block(after what: String) throws -> Block {
        guard check(.leftBrace) else {
            throw Diagnostic(suggestingKeyword("expected '{' after \(what), found \(peek.display)", []), at: peek)
        }
        let open = advance()
        let outer = depth
        defer { depth = outer }
        try deepen()
        blocks += 1
        defer { blocks -= 1 }
        var statements: [Stmt] = []
        while true {
            while match(.newline) || match(.semicolon) {}
            if check(.rightBrace) { break }
            if check(.eof) {
                throw Diagnostic("expected '}' to close the '{' at \(open.location), found end of input", at: peek)
            }
            do {
                statements.append(try statement())
            } catch let error as Diagnostic {
                diagnostics.append(error)
                synchronize()
            }
        }
        let close = advance()
        return Block(open: open, statements: statements, close: close)
    }

    private mutating func endOfStatement(after value: Expr? = nil) throws {
        if match(.newline) || match(.semicolon) || check(.eof) { return }
        if blocks > 0, check(.rightBrace) { return }
        if let value, case .name(let name) = value {
            let candidates = commands.heads + Self.statementKeywords
            throw Diagnostic(Suggest.message("unknown command '\(name.lexeme)'", for: name.lexeme, in: candidates), at: name)
        }
        throw Diagnostic(suggestingKeyword("expected the end of the statement, found \(peek.display)", ["else"]), at: peek)
    }

    /// Words that start statements, for "did you mean" on a misspelled one.
    static let statementKeywords = ["print", "for", "if", "else"]

    /// `message`, with "did you mean" when the token found is a name close to one of `keywords`
    /// (or to any keyword when `keywords` is empty).
    private func suggestingKeyword(_ message: String, _ keywords: [String]) -> String {
        guard check(.name) else { return message }
        return Suggest.message(message, for: peek.lexeme, in: keywords.isEmpty ? Array(TokenKind.keywords.keys) : keywords)
    }

    // MARK: - Helpers

    /// One level deeper: blocks, brackets, parentheses, unary and chained binary operators all
    /// count, so the tree's height (and the interpreter's recursion) stays bounded.
    mutating func deepen() throws {
        depth += 1
        guard depth <= Limits.maxNesting else {
            throw Diagnostic("nested too deeply (limit \(Limits.maxNesting) levels)", at: previous)
        }
    }

    /// Runs `body` one nesting level deeper, failing past `Limits.maxNesting`.
    mutating func nested(_ body: (inout Parser) throws -> Expr) throws -> Expr {
        let outer = depth
        defer { depth = outer }
        try deepen()
        return try body(&self)
    }

    var peek: Token { tokens[current] }
    var peekNext: Token { tokens[min(current + 1, tokens.count - 1)] }
    var previous: Token { tokens[max(current - 1, 0)] }

    func check(_ kind: TokenKind) -> Bool { peek.kind == kind }

    @discardableResult
    mutating func advance() -> Token {
        let token = tokens[current]
        if token.kind != .eof { current += 1 }
        return token
    }

    @discardableResult
    mutating func match(_ kind: TokenKind) -> Bool {
        guard check(kind) else { return false }
        advance()
        return true
    }

    @discardableResult
    mutating func consume(_ kind: TokenKind, _ message: String) throws -> Token {
        guard check(kind) else {
            throw Diagnostic("\(message), found \(peek.display)", at: peek)
        }
        return advance()
    }

    /// Skips to the start of the next statement after an error: past the end of the line, or
    /// up to a `}` that closes an enclosing block. A block opened on the skipped line is skipped
    /// whole, so its body is not misread as statements of the outer level.
    private mutating func synchronize() {
        var braces = 0
        while !check(.eof) {
            switch peek.kind {
            case .leftBrace:
                braces += 1
            case .rightBrace:
                if braces == 0 {
                    if blocks > 0 { return }
                } else {
                    braces -= 1
                }
            case .newline, .semicolon:
                if braces == 0 {
                    advance()
                    return
                }
            default:
                break
            }
            advance()
        }
    }
}

/// Bounds on what user input may ask for.
public enum Limits {
    /// Nesting of blocks, brackets, parentheses and unary operators.
    public static let maxNesting = 256
    /// Items in one list, counting the items of nested lists.
    public static let maxListCount = 1 << 20
    /// Iterations of one `for` loop over `range(…)`.
    public static let maxRangeCount = 1_000_000_000
    /// Nested `run "file.prn"`.
    public static let maxRunDepth = 16
    /// UTF-8 bytes in one string made by `+` or interpolation.
    public static let maxStringLength = 1 << 24
    /// Dimensions of a tensor.
    public static let maxRank = 32
}
