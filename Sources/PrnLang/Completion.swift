import Foundation

/// Tab completion, derived from the command table, the workspace, field declarations and
/// keywords; inside a string, file paths.
extension Interpreter {
    /// Candidates for the word `word`, which the user is typing after `before` on the current
    /// line: command words and statement keywords first in a statement, then forms, then
    /// `keyword=` parameter names, workspace names anywhere a value may go, `name.field` after a
    /// dot, and file paths inside an open string.
    public func completions(before: String, word: String) -> [String] {
        if let typed = Self.openString(before) {
            return Self.pathCompletions(typed: typed, word: word, directory: FileManager.default.currentDirectoryPath)
        }
        let candidates = completionCandidates(before: before, word: word)
        var seen = Set<String>()
        return candidates.filter { $0.hasPrefix(word) && seen.insert($0).inserted }.sorted()
    }

    private func completionCandidates(before: String, word: String) -> [String] {
        if let dot = word.lastIndex(of: ".") {
            let base = String(word[..<dot])
            guard let value = workspace[base] else { return [] }
            return value.fieldNames.map { "\(base).\($0)" }
        }
        let (tokens, afterBrace) = statementTokens(before)
        var rest = tokens[...]
        if rest.count >= 2, rest[rest.startIndex].kind == .name, rest[rest.startIndex + 1].kind == .equal { rest.removeFirst(2) }
        if rest.first?.kind == .print { rest.removeFirst() }
        let values = workspace.names
        guard let first = rest.first else {
            if tokens.isEmpty {
                return commands.heads + Self.statementKeywords + values + (afterBrace ? ["else"] : [])
            }
            return commands.heads + values + Self.expressionKeywords
        }
        switch first.kind {
        case .for:
            return rest.count == 2 ? ["in"] : (rest.count >= 3 ? values + ["range"] + Self.expressionKeywords : [])
        case .if:
            return values + commands.heads + Self.expressionKeywords
        case .name where commands.isCommand(first.lexeme):
            return commandCandidates(Array(rest))
        default:
            return values + commands.heads + Self.expressionKeywords
        }
    }

    /// Inside a command call: forms, `keyword=` names, symbols and values.
    private func commandCandidates(_ tokens: [Token]) -> [String] {
        let values = workspace.names
        let head = tokens[0].lexeme
        let forms = commands.forms(of: head)
        if tokens.count == 1, !forms.isEmpty {
            return forms + (commands.command(head) == nil ? [] : values)
        }
        let form = tokens.count >= 2 && forms.contains(tokens[1].lexeme) ? tokens[1].lexeme : nil
        guard let command = commands.command(head, form: form) else { return [] }
        let arguments = Array(tokens.dropFirst(form == nil ? 1 : 2))
        let table = arguments.first.flatMap { workspace[$0.lexeme]?.table }
        if let last = arguments.last, last.kind == .equal, arguments.count >= 2 {
            // Completing a keyword's value: its symbols (or the table's columns), then workspace values.
            let label = arguments[arguments.count - 2].lexeme
            guard let parameter = command.parameters.first(where: { $0.name == label }) else { return values }
            if parameter.type.completion == .columns { return table?.columns ?? [] }
            return (parameter.type.symbols ?? []) + values
        }
        let given = Set(arguments.indices.dropLast().filter { arguments[$0 + 1].kind == .equal }.map { arguments[$0].lexeme })
        var keywords = command.parameters.filter { $0.kind == .keyword && !given.contains($0.name) }.map { "\($0.name)=" }
        if command.restParameter != nil, let table {
            keywords += table.columns.filter { !given.contains($0) }.map { "\($0)=" }
        }
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
        case .columns:
            return table?.columns ?? []
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

    /// Keywords that start a statement.
    static let statementKeywords = ["print", "for", "if"]

    /// Keywords that may appear inside an expression.
    static let expressionKeywords = ["true", "false", "none", "and", "or", "not", "range"]

    /// The tokens of the statement being typed — those after the last newline, `;`, `{` or `}` —
    /// and whether a `}` came right before them (so `else` may follow).
    private func statementTokens(_ text: String) -> (tokens: [Token], afterBrace: Bool) {
        var lexer = Lexer(text)
        let tokens = lexer.scan().filter { $0.kind != .eof }
        let boundaries: Set<TokenKind> = [.newline, .semicolon, .leftBrace, .rightBrace]
        guard let last = tokens.lastIndex(where: { boundaries.contains($0.kind) }) else { return (tokens, false) }
        return (Array(tokens[(last + 1)...]), tokens[last].kind == .rightBrace)
    }

    // MARK: - File paths

    /// Whether `line` ends inside an open string, where completion offers file paths.
    public static func isInsideString(_ line: String) -> Bool { openString(line) != nil }

    /// The text of a string left open at the end of `line` (after its `"`), or nil when every
    /// string is closed.
    static func openString(_ line: String) -> String? {
        var inString = false
        var text = ""
        var escaped = false
        for c in line {
            if !inString {
                if c == "#" { return nil }
                if c == "\"" { inString = true; text = "" }
                continue
            }
            if escaped { escaped = false; text.append(c); continue }
            switch c {
            case "\\": escaped = true
            case "\"": inString = false
            default: text.append(c)
            }
        }
        return inString ? text : nil
    }

    /// Completions of `word`, the end of the path `typed + word` being typed in a string: the
    /// entries of its folder that start with its last component, as replacements for `word`.
    /// Folders end with `/`. Relative paths start from `directory`; `~` is the home folder.
    static func pathCompletions(typed: String, word: String, directory: String) -> [String] {
        let path = typed + word
        let slash = path.lastIndex(of: "/")
        let folderText = slash.map { String(path[...$0]) } ?? ""
        let stem = slash.map { String(path[path.index(after: $0)...]) } ?? path
        var folder = folderText.isEmpty ? directory : (folderText as NSString).expandingTildeInPath
        if !folder.hasPrefix("/") { folder = (directory as NSString).appendingPathComponent(folder) }
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return [] }
        let prefixLength = typed.count
        return entries.filter { $0.hasPrefix(stem) && ($0.first != "." || stem.first == ".") }.sorted().compactMap { entry in
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent(entry), isDirectory: &isDirectory)
            let full = folderText + entry + (isDirectory.boolValue ? "/" : "")
            guard full.count >= prefixLength else { return nil }
            return String(full.dropFirst(prefixLength))
        }
    }
}
