/// The syntax tree: compact indirect enums in one place, as GenerateAst would emit them.

/// An expression.
public indirect enum Expr {
    /// A number, string, `true`/`false` or `none`.
    case literal(Value, Token)
    /// A name: a workspace value, or a symbol where a parameter takes one.
    case name(Token)
    /// `[a, b, c]`; the token is the `[`.
    case list(Token, [Expr])
    /// `-x`, `not x`.
    case unary(Token, Expr)
    /// `a + b`, `a @ b`, `a < b`, `a and b`.
    case binary(Expr, Token, Expr)
    /// `value.name`.
    case field(Expr, Token)
    /// A command: `tensor zeros [2, 3]`, or in call form `tensor(zeros, [2, 3])`.
    case command(CommandCall)
    /// `range(n)` or `range(a, b)`: the integers from `a` (default 0) up to `b`, exclusive.
    case range(Token, Expr, Expr?)
    /// `"acc-\(s).csv"`: text with interpolated expressions; the token is the string.
    case interpolation(Token, [InterpolationPart])

    /// The first token's location, where an error about the whole expression points.
    public var location: SourceLocation {
        switch self {
        case .literal(_, let token), .name(let token), .list(let token, _), .unary(let token, _),
             .range(let token, _, _), .interpolation(let token, _):
            return token.location
        case .binary(let left, _, _), .field(let left, _):
            return left.location
        case .command(let call):
            return call.name.location
        }
    }
}

/// A command call with its resolved declaration.
public struct CommandCall {
    public let command: Command
    /// The command word, where errors about the call and derived seeds point.
    public let name: Token
    public let arguments: [Argument]
}

/// One argument: positional, or `label=value`.
public struct Argument {
    public let label: Token?
    public let value: Expr
}

/// A piece of an interpolated string.
public enum InterpolationPart {
    case text(String)
    case expr(Expr)
}

/// A statement: one line (or one bracketed span of lines) of a script or a cell.
public enum Stmt {
    /// A bare expression; its value is shown as the cell's output.
    case expression(Expr)
    /// `name = expr`.
    case assign(Token, Expr)
    /// `print expr`.
    case print(Token, Expr)
    /// `for name in list|range(…) { … }`.
    case forLoop(ForLoop)
    /// `if cond { … } else if cond { … } else { … }`.
    case ifElse(IfElse)

    public var location: SourceLocation {
        switch self {
        case .expression(let expr): return expr.location
        case .assign(let name, _), .print(let name, _): return name.location
        case .forLoop(let loop): return loop.keyword.location
        case .ifElse(let chain): return chain.branches.first?.keyword.location ?? SourceLocation(line: 1, column: 1)
        }
    }
}

/// `{ statements }`.
public struct Block {
    public let open: Token
    public let statements: [Stmt]
    public let close: Token
}

/// `for variable in iterable { body }`.
public struct ForLoop {
    public let keyword: Token
    public let variable: Token
    public let iterable: Expr
    public let body: Block
}

/// An `if` with its `else if` branches and an optional final `else`.
public struct IfElse {
    public struct Branch {
        /// The `if` token (of `if` or `else if`).
        public let keyword: Token
        public let condition: Expr
        public let body: Block
    }

    public let branches: [Branch]
    public let otherwise: Block?
}
