/// Builds statements from tokens by recursive descent (jlox's parser).
///
/// The command table tells which names are commands: a statement that starts with a command
/// word is a command call (`tensor zeros [2, 3]`); `name(args)` with no space is the call form.
/// On a syntax error the parser records a diagnostic and skips to the next statement, so one run
/// reports every syntax error.
///
/// ```
/// statement   = "print" rhs | NAME "=" rhs | rhs
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
///             | "[" [ expression { "," expression } [","] ] "]" | "(" rhs ")"
/// ```
public struct Parser {
    private let tokens: [Token]
    private let commands: CommandTable
    private var current = 0
    private var depth = 0
    public private(set) var diagnostics: [Diagnostic] = []

    public init(tokens: [Token], commands: CommandTable = .standard) {
        self.tokens = tokens.last?.kind == .eof ? tokens
            : tokens + [Token(kind: .eof, lexeme: "", location: tokens.last?.location ?? SourceLocation(line: 1, column: 1))]
        self.commands = commands
    }

    /// Parses every statement; syntax errors are in `diagnostics`.
    public mutating func parse() -> [Stmt] {
        var statements: [Stmt] = []
        while true {
            while match(.newline) || match(.semicolon) {}
            if check(.eof) { break }
            do {
                statements.append(try statement())
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

    // MARK: - Statements

    private mutating func statement() throws -> Stmt {
        switch peek.kind {
        case .print:
            let keyword = advance()
            let value = try rhs()
            try endOfStatement(after: value)
            return .print(keyword, value)
        case .for, .if, .else, .leftBrace:
            throw Diagnostic("\(peek.display) is not supported yet", at: peek)
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

    private mutating func endOfStatement(after value: Expr) throws {
        if match(.newline) || match(.semicolon) || check(.eof) { return }
        if case .name(let name) = value {
            throw Diagnostic(Suggest.message("unknown command '\(name.lexeme)'", for: name.lexeme, in: commands.heads),
                             at: name)
        }
        throw Diagnostic("expected the end of the statement, found \(peek.display)", at: peek)
    }

    /// A command call or an expression: what may follow `=`, `print`, or stand alone.
    private mutating func rhs() throws -> Expr {
        if check(.name), commands.isCommand(peek.lexeme), !(peekNext.kind == .leftParen && !peekNext.spaceBefore) {
            return .command(try command())
        }
        return try expression()
    }

    // MARK: - Commands

    private mutating func command() throws -> CommandCall {
        let name = advance()
        var form: Token?
        let forms = commands.forms(of: name.lexeme)
        if check(.name), peekNext.kind != .equal, forms.contains(peek.lexeme) {
            form = advance()
        }
        guard let command = commands.command(name.lexeme, form: form?.lexeme) else {
            let message = "'\(name.lexeme)' needs one of: \(forms.joined(separator: ", "))"
            if check(.name) {
                throw Diagnostic(Suggest.message(message, for: peek.lexeme, in: forms), at: peek)
            }
            throw Diagnostic(message, at: name)
        }
        var arguments: [Argument] = []
        while !atArgumentEnd {
            if check(.name), peekNext.kind == .equal {
                let label = advance()
                advance()
                arguments.append(Argument(label: label, value: try operand(of: command)))
            } else {
                arguments.append(Argument(label: nil, value: try operand(of: command)))
            }
        }
        return CommandCall(command: command, name: name, arguments: arguments)
    }

    private var atArgumentEnd: Bool {
        switch peek.kind {
        case .newline, .semicolon, .eof, .rightParen, .rightBracket, .rightBrace, .comma: return true
        default: return false
        }
    }

    /// A command argument: a primary with field accesses, or a negated one. Operators need
    /// parentheses, so `f a - b` is not silently read as two arguments.
    private mutating func operand(of command: Command) throws -> Expr {
        switch peek.kind {
        case .minus:
            let minus = advance()
            if peek.spaceBefore {
                throw Diagnostic("unexpected '-' in the arguments of '\(command.name)'; write arithmetic in parentheses, as (a - b)",
                                 at: minus)
            }
            return try nested { .unary(minus, try $0.operand(of: command)) }
        case .print, .for, .in, .if, .else, .and, .or, .not:
            return .name(advance())
        case .integer, .float, .string, .true, .false, .none, .name, .leftBracket, .leftParen:
            return try postfix(inArguments: true)
        default:
            throw Diagnostic("unexpected \(peek.display) in the arguments of '\(command.name)'; "
                             + "put the command in parentheses to use its value in an expression, as (\(command.name) …)",
                             at: peek)
        }
    }

    /// `name(args)`: a command called with comma-separated arguments.
    private mutating func callForm(_ name: Token) throws -> CommandCall {
        let open = advance()
        var form: String?
        let forms = commands.forms(of: name.lexeme)
        if check(.name), peekNext.kind == .comma || peekNext.kind == .rightParen, forms.contains(peek.lexeme) {
            form = advance().lexeme
            match(.comma)
        }
        guard let command = commands.command(name.lexeme, form: form) else {
            throw Diagnostic("'\(name.lexeme)' needs one of: \(forms.joined(separator: ", "))", at: name)
        }
        var arguments: [Argument] = []
        while !check(.rightParen) {
            if check(.name), peekNext.kind == .equal {
                let label = advance()
                advance()
                arguments.append(Argument(label: label, value: try expression()))
            } else {
                arguments.append(Argument(label: nil, value: try expression()))
            }
            if !match(.comma) { break }
        }
        try consume(.rightParen, "expected ')' to close the '(' at \(open.location)")
        return CommandCall(command: command, name: name, arguments: arguments)
    }

    // MARK: - Expressions

    private mutating func expression() throws -> Expr {
        try or()
    }

    private mutating func or() throws -> Expr {
        var expr = try and()
        let outer = depth
        defer { depth = outer }
        while match(.or) {
            let op = previous
            try deepen()
            expr = .binary(expr, op, try and())
        }
        return expr
    }

    private mutating func and() throws -> Expr {
        var expr = try not()
        let outer = depth
        defer { depth = outer }
        while match(.and) {
            let op = previous
            try deepen()
            expr = .binary(expr, op, try not())
        }
        return expr
    }

    private mutating func not() throws -> Expr {
        if match(.not) {
            let op = previous
            return try nested { .unary(op, try $0.not()) }
        }
        return try comparison()
    }

    private mutating func comparison() throws -> Expr {
        let expr = try term()
        switch peek.kind {
        case .equalEqual, .bangEqual, .less, .lessEqual, .greater, .greaterEqual:
            let op = advance()
            return .binary(expr, op, try term())
        default:
            return expr
        }
    }

    private mutating func term() throws -> Expr {
        var expr = try factor()
        let outer = depth
        defer { depth = outer }
        while match(.plus) || match(.minus) {
            let op = previous
            try deepen()
            expr = .binary(expr, op, try factor())
        }
        return expr
    }

    private mutating func factor() throws -> Expr {
        var expr = try unary()
        let outer = depth
        defer { depth = outer }
        while match(.star) || match(.slash) || match(.at) {
            let op = previous
            try deepen()
            expr = .binary(expr, op, try unary())
        }
        return expr
    }

    private mutating func unary() throws -> Expr {
        if match(.minus) {
            let op = previous
            return try nested { .unary(op, try $0.unary()) }
        }
        return try postfix()
    }

    /// `inArguments`: a command word is a plain word there (`help tensor`), not a misplaced command.
    private mutating func postfix(inArguments: Bool = false) throws -> Expr {
        var expr = try primary(inArguments: inArguments)
        while match(.dot) {
            let name = try consume(.name, "expected a field name after '.'")
            expr = .field(expr, name)
        }
        return expr
    }

    private mutating func primary(inArguments: Bool) throws -> Expr {
        let token = peek
        switch token.kind {
        case .integer, .float, .string:
            advance()
            switch token.literal {
            case .integer(let i)?: return .literal(.int(i), token)
            case .float(let x)?: return .literal(.float(x), token)
            case .string(let s)?: return .literal(.string(s), token)
            case nil: throw Diagnostic("malformed literal \(token.display)", at: token)
            }
        case .true: advance(); return .literal(.bool(true), token)
        case .false: advance(); return .literal(.bool(false), token)
        case .none: advance(); return .literal(.none, token)
        case .name:
            advance()
            if check(.leftParen), !peek.spaceBefore {
                guard commands.isCommand(token.lexeme) else {
                    throw Diagnostic(Suggest.message("unknown command '\(token.lexeme)'", for: token.lexeme, in: commands.heads),
                                     at: token)
                }
                return .command(try callForm(token))
            }
            if !inArguments, commands.isCommand(token.lexeme) {
                throw Diagnostic("'\(token.lexeme)' is a command; to use its value in an expression, "
                                 + "put it in parentheses, as (\(token.lexeme) …)", at: token)
            }
            return .name(token)
        case .leftBracket:
            advance()
            return try nested { try $0.list(open: token) }
        case .leftParen:
            advance()
            return try nested { parser in
                let inner = try parser.rhs()
                try parser.consume(.rightParen, "expected ')' to close the '(' at \(token.location)")
                return inner
            }
        default:
            throw Diagnostic("expected an expression, found \(token.display)", at: token)
        }
    }

    private mutating func list(open: Token) throws -> Expr {
        var items: [Expr] = []
        while !check(.rightBracket) {
            items.append(try expression())
            if items.count > Limits.maxListCount {
                throw Diagnostic("list literal has more than \(Limits.maxListCount) items", at: open)
            }
            if !match(.comma) { break }
        }
        try consume(.rightBracket, "expected ']' to close the '[' at \(open.location)")
        return .list(open, items)
    }

    // MARK: - Helpers

    /// Runs `body` one nesting level deeper, failing past `Limits.maxNesting`.
    private mutating func nested(_ body: (inout Parser) throws -> Expr) throws -> Expr {
        let outer = depth
        defer { depth = outer }
        try deepen()
        return try body(&self)
    }

    /// One level deeper: brackets, parentheses, unary and chained binary operators all count,
    /// so the tree's height (and the interpreter's recursion) stays bounded.
    private mutating func deepen() throws {
        depth += 1
        guard depth <= Limits.maxNesting else {
            throw Diagnostic("expression is nested too deeply (limit \(Limits.maxNesting) levels)", at: previous)
        }
    }

    private var peek: Token { tokens[current] }
    private var peekNext: Token { tokens[min(current + 1, tokens.count - 1)] }
    private var previous: Token { tokens[max(current - 1, 0)] }

    private func check(_ kind: TokenKind) -> Bool { peek.kind == kind }

    @discardableResult
    private mutating func advance() -> Token {
        let token = tokens[current]
        if token.kind != .eof { current += 1 }
        return token
    }

    @discardableResult
    private mutating func match(_ kind: TokenKind) -> Bool {
        guard check(kind) else { return false }
        advance()
        return true
    }

    @discardableResult
    private mutating func consume(_ kind: TokenKind, _ message: String) throws -> Token {
        guard check(kind) else {
            throw Diagnostic("\(message), found \(peek.display)", at: peek)
        }
        return advance()
    }

    /// Skips to the start of the next statement after an error.
    private mutating func synchronize() {
        while !check(.eof) {
            let token = advance()
            if token.kind == .newline || token.kind == .semicolon { return }
        }
    }
}

/// Bounds on what user input may ask for.
public enum Limits {
    /// Nesting of brackets, parentheses and unary operators.
    public static let maxNesting = 256
    /// Items in one list.
    public static let maxListCount = 1 << 20
}
