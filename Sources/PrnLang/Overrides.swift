/// Values given on the command line: `prn run x.prn --set lr=0.01 --set method=snip`.
extension Interpreter {
    /// The value of `--set name=TEXT`: TEXT read as one expression and evaluated in an empty
    /// workspace, where a bare word is a symbol (`method=snip`, `methods=[random, snip]`).
    /// Throws the diagnostic of a malformed or failing expression.
    public static func overrideValue(_ text: String, commands: CommandTable = .standard) throws -> Value {
        let expr = try Parser.expression(text, commands: commands, empty: "expected a value after '='") {
            "expected one value, found \($0.display) after it"
        }
        let scratch = Interpreter(commands: commands) { _ in }
        scratch.frames = [Frame(file: "<--set>", directory: ".", lineOffset: 0, callSite: nil)]
        return try scratch.evaluate(symbolizing(expr))
    }

    /// The expression with every bare name turned into a symbol.
    private static func symbolizing(_ expr: Expr) -> Expr {
        switch expr {
        case .name(let token): return .literal(.symbol(token.lexeme), token)
        case .list(let token, let items): return .list(token, items.map(symbolizing))
        case .unary(let op, let operand): return .unary(op, symbolizing(operand))
        case .binary(let left, let op, let right): return .binary(symbolizing(left), op, symbolizing(right))
        case .field(let base, let name): return .field(symbolizing(base), name)
        case .literal, .command, .range, .interpolation: return expr
        }
    }
}
