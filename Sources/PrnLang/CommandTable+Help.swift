import Foundation

/// Help text and the Markdown command reference, both rendered from the declarations.
extension CommandTable {
    /// The statements that are syntax rather than commands, for `help` and completion.
    static let statements: [(syntax: String, keyword: String?, summary: String)] = [
        ("NAME = EXPR", nil, "Bind a name to a value (a command call or an expression)."),
        ("print EXPR", "print", "Print a value; strings print without quotes."),
        ("EXPR", nil, "Show a value, as a notebook cell's output."),
        ("for NAME in LIST { … }", "for", "Run the block once per item, NAME bound to it; `[a, b]` of unbound names loops over symbols."),
        ("for NAME in range(N) { … }", "range", "Loop over 0, 1, …, N-1; range(A, B) runs from A to B-1."),
        ("if COND { … } else { … }", "if", "Run the first block whose condition is true; `else if` chains."),
        ("} else { … }", "else", "The block an if runs when no condition held; on the same line as the '}'."),
        ("for NAME in …", "in", "The word between a loop variable and what it loops over."),
    ]

    /// `help` with no topic: every command and statement with its summary.
    public var overview: String {
        var rows = commands.map { ["  " + $0.name, $0.summary] }
        rows += CommandTable.statements.map { ["  " + $0.syntax, $0.summary] }
        let table = TextTable.render(rows).split(separator: "\n", omittingEmptySubsequences: false)
        let commandLines = table.prefix(commands.count).joined(separator: "\n")
        let statementLines = table.dropFirst(commands.count).joined(separator: "\n")
        return "Commands:\n" + commandLines + "\nStatements:\n" + statementLines
            + "\nType `help NAME` for a command's parameters and an example."
    }

    /// `help tensor` (every form) or `help tensor rand` (one form); nil when there is no such command.
    public func help(for head: String, form: String? = nil) -> String? {
        let declarations = form == nil ? self.declarations(of: head) : command(head, form: form).map { [$0] } ?? []
        guard !declarations.isEmpty else { return nil }
        return declarations.map(Self.help(for:)).joined(separator: "\n\n")
    }

    static func help(for command: Command) -> String {
        var text = command.usage + "\n  " + command.summary
        if !command.parameters.isEmpty {
            let rows = command.parameters.map { ["    " + $0.name, $0.type.name, $0.defaultText, $0.help] }
            text += "\n" + TextTable.render(rows)
        }
        return text + "\n  example: " + command.example
    }

    /// The command reference as Markdown, for grammar.md's "Commands" section.
    public var markdownReference: String {
        var out = ""
        for command in commands {
            out += "### `\(command.name)`\n\n\(command.summary)\n\nUsage: `\(command.usage)`\n\n"
            if !command.parameters.isEmpty {
                out += "| parameter | type | default | description |\n| --- | --- | --- | --- |\n"
                for p in command.parameters {
                    out += "| `\(p.name)` | \(Self.cell(p.type.name)) | \(Self.cell(p.defaultText)) | \(Self.cell(p.help)) |\n"
                }
                out += "\n"
            }
            out += "Example: `\(command.example)`\n\n"
        }
        return out
    }

    private static func cell(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|")
    }
}
