/// A position in source text: 1-based line and column (in characters).
public struct SourceLocation: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }
    public var description: String { "\(line):\(column)" }
}

/// A lexeme with its kind, literal value and location.
public struct Token: Equatable, Sendable, CustomStringConvertible {
    /// The literal a number or string token stands for.
    public enum Literal: Equatable, Sendable {
        case integer(Int)
        case float(Double)
        case string(String)
        /// A string with `\(expr)` interpolations, as text and source pieces.
        case interpolated([StringPart])
    }

    /// A piece of an interpolated string: literal text, or the source of an interpolated
    /// expression with the location of its first character.
    public enum StringPart: Equatable, Sendable {
        case text(String)
        case code(String, SourceLocation)
    }

    public let kind: TokenKind
    /// The exact source text (for a string, including its quotes).
    public let lexeme: String
    public let literal: Literal?
    public let location: SourceLocation
    /// Whether whitespace (or a line start) comes right before the token: `f(x)` is a call,
    /// `f (x)` a command with a parenthesized argument.
    public let spaceBefore: Bool

    public init(kind: TokenKind, lexeme: String, literal: Literal? = nil, location: SourceLocation, spaceBefore: Bool = true) {
        self.kind = kind
        self.lexeme = lexeme
        self.literal = literal
        self.location = location
        self.spaceBefore = spaceBefore
    }

    public var description: String { "\(kind) '\(lexeme)' at \(location)" }

    /// How the token reads in a message: its lexeme, or "end of line".
    var display: String {
        switch kind {
        case .newline, .eof: return kind.display
        default: return "'\(lexeme)'"
        }
    }
}
