/// The single registry of commands. The parser asks it which names are commands, the
/// interpreter binds arguments against it, and help, completion and grammar.md read it.
public struct CommandTable {
    /// Every declaration, in declaration order.
    public let commands: [Command]
    private let index: [String: Int]

    public init(_ commands: [Command]) {
        var index: [String: Int] = [:]
        for (i, command) in commands.enumerated() {
            precondition(index[command.name] == nil, "command '\(command.name)' declared twice")
            index[command.name] = i
        }
        self.commands = commands
        self.index = index
    }

    /// The commands of the language.
    public static let standard = CommandTable(Commands.all)

    /// Command words, in declaration order.
    public var heads: [String] {
        var seen = Set<String>()
        return commands.map(\.head).filter { seen.insert($0).inserted }
    }

    public func isCommand(_ word: String) -> Bool {
        commands.contains { $0.head == word }
    }

    /// The form words of a command (`zeros`, `ones`, … for `tensor`).
    public func forms(of head: String) -> [String] {
        commands.compactMap { $0.head == head ? $0.form : nil }
    }

    /// The declaration for `head` with `form`, or the plain `head` when `form` is nil.
    public func command(_ head: String, form: String? = nil) -> Command? {
        let key = form.map { "\(head) \($0)" } ?? head
        return index[key].map { commands[$0] }
    }

    /// All declarations of a command: its plain form and its named forms.
    public func declarations(of head: String) -> [Command] {
        commands.filter { $0.head == head }
    }
}

/// The namespace where command declarations live, one file per area (`Commands+Tensor.swift`,
/// `Commands+Workspace.swift`). A new area adds a file with its `[Command]` and lists it in `all`.
public enum Commands {
    /// Every command, in the order help and grammar.md list them.
    public static var all: [Command] {
        tensor + workspace + data + model + training + timing + pruning + stats + plot + figures + tables + results
    }
}
