/// Every kind of token the lexer produces, grouped as in Crafting Interpreters.
///
/// The parser and interpreter dispatch on these cases, never on lexeme strings.
public enum TokenKind: Equatable, Sendable {
    // Single-character punctuation.
    case leftParen, rightParen, leftBracket, rightBracket, leftBrace, rightBrace
    case comma, dot, colon, semicolon
    case plus, minus, star, slash, at

    // One- or two-character operators.
    case equal, equalEqual, bang, bangEqual
    case less, lessEqual, greater, greaterEqual

    // Literals.
    case name, string, integer, float

    // Keywords.
    case and, or, not, `true`, `false`, none
    case print, `for`, `in`, `if`, `else`, range

    // Layout.
    case newline, eof
}

extension TokenKind {
    /// Reserved words and the kinds they lex to. Everything else that looks like a name is a name
    /// (command names such as `tensor` or `help` are ordinary names found in the command table).
    public static let keywords: [String: TokenKind] = [
        "and": .and, "or": .or, "not": .not,
        "true": .true, "false": .false, "none": .none,
        "print": .print, "for": .for, "in": .in, "if": .if, "else": .else, "range": .range,
    ]

    /// How the kind reads in a message such as "expected ')'".
    public var display: String {
        switch self {
        case .leftParen: return "'('"
        case .rightParen: return "')'"
        case .leftBracket: return "'['"
        case .rightBracket: return "']'"
        case .leftBrace: return "'{'"
        case .rightBrace: return "'}'"
        case .comma: return "','"
        case .dot: return "'.'"
        case .colon: return "':'"
        case .semicolon: return "';'"
        case .plus: return "'+'"
        case .minus: return "'-'"
        case .star: return "'*'"
        case .slash: return "'/'"
        case .at: return "'@'"
        case .equal: return "'='"
        case .equalEqual: return "'=='"
        case .bang: return "'!'"
        case .bangEqual: return "'!='"
        case .less: return "'<'"
        case .lessEqual: return "'<='"
        case .greater: return "'>'"
        case .greaterEqual: return "'>='"
        case .name: return "a name"
        case .string: return "a string"
        case .integer, .float: return "a number"
        case .and: return "'and'"
        case .or: return "'or'"
        case .not: return "'not'"
        case .true: return "'true'"
        case .false: return "'false'"
        case .none: return "'none'"
        case .print: return "'print'"
        case .for: return "'for'"
        case .in: return "'in'"
        case .if: return "'if'"
        case .else: return "'else'"
        case .range: return "'range'"
        case .newline: return "end of line"
        case .eof: return "end of input"
        }
    }
}
