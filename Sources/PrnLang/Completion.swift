/// Tab completion, derived from the command table, the workspace and field declarations.
extension Interpreter {
    /// Candidates for the word `word`, which the user is typing after `before` on the current
    /// line: command words first in a statement, then forms, then `keyword=` parameter names,
    /// workspace names anywhere a value may go, and `name.field` after a dot.
    public func completions(before: String, word: String) -> [String] {
        let candidates = completionCandidates(before: before, word: word)
        var seen = Set<String>()
        return candidates.filter { $0.hasPrefix(word) && seen.insert($0).inserted }.sorted()
    }

    private func completionCandidates(before: String, word: String) -> [String] {
        if let dot = word.lastIndex(of: ".") {
            let base = String(word[..<dot])
            guard let value = workspace[base] else { return [] }
            return value.fields.map { "\(base).\($0.name)" }
        }
        var tokens = statementTokens(before)
        if tokens.count >= 2, tokens[0].kind == .name, tokens[1].kind == .equal { tokens.removeFirst(2) }
        if tokens.first?.kind == .print { tokens.removeFirst() }
        let values = workspace.names
        guard let first = tokens.first else {
            return commands.heads + ["print"] + values
        }
        guard first.kind == .name, commands.isCommand(first.lexeme) else {
            return values + commands.heads + Self.expressionKeywords
        }
        let head = first.lexeme
        let forms = commands.forms(of: head)
        if tokens.count == 1, !forms.isEmpty {
            return forms + (commands.command(head) == nil ? [] : values)
        }
        let form = tokens.count >= 2 && forms.contains(tokens[1].lexeme) ? tokens[1].lexeme : nil
        guard let command = commands.command(head, form: form) else { return [] }
        let arguments = Array(tokens.dropFirst(form == nil ? 1 : 2))
        if let last = arguments.last, last.kind == .equal, arguments.count >= 2 {
            // Completing a keyword's value: its symbols, then workspace values.
            let label = arguments[arguments.count - 2].lexeme
            let symbols = command.parameters.first { $0.name == label }?.type.symbols ?? []
            return symbols + values
        }
        let given = Set(arguments.indices.dropLast().filter { arguments[$0 + 1].kind == .equal }.map { arguments[$0].lexeme })
        let keywords = command.parameters.filter { $0.kind == .keyword && !given.contains($0.name) }.map { "\($0.name)=" }
        let positionals = command.positionals
        let index = Self.positionalCount(arguments)
        guard index < positionals.count else { return keywords }
        let next = positionals[index]
        switch next.type.completion {
        case .values:
            return (next.type.symbols ?? []) + keywords + values
        case .topics:
            return helpTopics
        case .forms:
            return arguments.last.map { commands.forms(of: $0.lexeme) } ?? []
        }
    }

    /// How many positional arguments `tokens` hold: operands outside brackets that are neither
    /// a `label` before `=` nor the value after it.
    private static func positionalCount(_ tokens: [Token]) -> Int {
        var count = 0, depth = 0
        for (i, token) in tokens.enumerated() {
            switch token.kind {
            case .leftBracket, .leftParen:
                if depth == 0 && !(i > 0 && tokens[i - 1].kind == .equal) { count += 1 }
                depth += 1
            case .rightBracket, .rightParen:
                depth = max(0, depth - 1)
            case .name, .integer, .float, .string, .true, .false, .none:
                let isLabel = i + 1 < tokens.count && tokens[i + 1].kind == .equal
                let isValue = i > 0 && (tokens[i - 1].kind == .equal || tokens[i - 1].kind == .dot || tokens[i - 1].kind == .minus)
                if depth == 0 && !isLabel && !isValue { count += 1 }
            default:
                break
            }
        }
        return count
    }

    /// Keywords that may appear inside an expression.
    static let expressionKeywords = ["true", "false", "none", "and", "or", "not"]

    /// The tokens of the statement being typed: those after the last newline or `;`.
    private func statementTokens(_ text: String) -> [Token] {
        var lexer = Lexer(text)
        let tokens = lexer.scan().filter { $0.kind != .eof }
        guard let last = tokens.lastIndex(where: { $0.kind == .newline || $0.kind == .semicolon }) else { return tokens }
        return Array(tokens[(last + 1)...])
    }
}
