/// Commands and expressions: the right-hand sides of statements.
extension Parser {
    /// A command call or an expression: what may follow `=`, `print`, or stand alone.
    mutating func rhs() throws -> Expr {
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
        case .newline, .semicolon, .eof, .rightParen, .rightBracket, .leftBrace, .rightBrace, .comma: return true
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
        case .range where peekNext.kind == .leftParen:
            return try postfix(inArguments: true)
        case .print, .for, .in, .if, .else, .and, .or, .not, .range:
            return .name(advance())   // a word, as in `help for`
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

    mutating func expression() throws -> Expr {
        try or()
    }

    private mutating func or() throws -> Expr { try leftAssociative([.or]) { try $0.and() } }

    private mutating func and() throws -> Expr { try leftAssociative([.and]) { try $0.not() } }

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
            let right = try term()
            switch peek.kind {
            case .equalEqual, .bangEqual, .less, .lessEqual, .greater, .greaterEqual:
                throw Diagnostic("comparisons do not chain; write (a < b) and (b < c)", at: peek)
            default:
                return .binary(expr, op, right)
            }
        default:
            return expr
        }
    }

    private mutating func term() throws -> Expr { try leftAssociative([.plus, .minus]) { try $0.factor() } }

    private mutating func factor() throws -> Expr { try leftAssociative([.star, .slash, .at]) { try $0.unary() } }

    /// One left-associative level of binary operators: `operand (op operand)*`, each operator one
    /// nesting level deeper.
    private mutating func leftAssociative(_ operators: [TokenKind], operand: (inout Parser) throws -> Expr) throws -> Expr {
        var expr = try operand(&self)
        let outer = depth
        defer { depth = outer }
        while operators.contains(peek.kind) {
            let op = advance()
            try deepen()
            expr = .binary(expr, op, try operand(&self))
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
        let outer = depth
        defer { depth = outer }
        while match(.dot) {
            let name = try consume(.name, "expected a field name after '.'")
            try deepen()
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
            case .interpolated(let parts)?: return try nested { try $0.interpolation(token, parts) }
            case nil: throw Diagnostic("malformed literal \(token.display)", at: token)
            }
        case .true: advance(); return .literal(.bool(true), token)
        case .false: advance(); return .literal(.bool(false), token)
        case .none: advance(); return .literal(.none, token)
        case .range:
            advance()
            return try nested { try $0.range(token) }
        case .name:
            advance()
            if check(.leftParen), !peek.spaceBefore {
                guard commands.isCommand(token.lexeme) else {
                    throw Diagnostic(Suggest.message("unknown command '\(token.lexeme)'", for: token.lexeme,
                                                     in: commands.heads + ["range"]), at: token)
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

    /// `range(n)` or `range(a, b)`, after the keyword.
    private mutating func range(_ keyword: Token) throws -> Expr {
        let open = try consume(.leftParen, "expected '(' after 'range', as in range(10)")
        let first = try expression()
        var second: Expr?
        if match(.comma) { second = try expression() }
        try consume(.rightParen, "expected ')' to close the '(' at \(open.location) (range takes one or two numbers)")
        return .range(keyword, first, second)
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

    /// An interpolated string: each `\(…)` piece is lexed and parsed at its place in the line.
    private mutating func interpolation(_ token: Token, _ parts: [Token.StringPart]) throws -> Expr {
        var pieces: [InterpolationPart] = []
        for part in parts {
            switch part {
            case .text(let text):
                pieces.append(.text(text))
            case .code(let code, let location):
                let expr = try Parser.expression(code, start: location, commands: commands, depth: depth,
                                                 empty: "expected an expression inside '\\(…)'") {
                    "expected ')' to end the interpolation, found \($0.display)"
                }
                pieces.append(.expr(expr))
            }
        }
        return .interpolation(token, pieces)
    }
}
