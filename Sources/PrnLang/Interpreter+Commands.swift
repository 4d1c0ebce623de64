import PrnKernel

/// Calling commands: arguments are matched to the declaration, checked and converted, then the
/// implementation runs. Every message names the parameter and shows the usage line.
extension Interpreter {
    func call(_ call: CommandCall) throws -> Value {
        let arguments = try bind(call)
        do {
            return try call.command.run(arguments, self)
        } catch let error as Diagnostic {
            throw error
        } catch let error as Interrupted {
            throw error
        } catch let error as NestedFailure {
            throw error
        } catch let error as ArgumentError {
            throw Diagnostic(error.message, at: call.name)
        } catch let error as ShapeError {
            throw Diagnostic(error.description, at: call.name)
        } catch {
            throw Diagnostic("\(call.command.name): \(error)", at: call.name)
        }
    }

    private func bind(_ call: CommandCall) throws -> Arguments {
        let command = call.command
        let usage = ["usage: \(command.usage)"]
        var values: [String: Value] = [:]
        var locations: [String: SourceLocation] = [:]
        var rest: [(name: String, value: Value)] = []
        /// Positional arguments fill the parameters after the last one filled by position.
        var nextPositional = 0
        for argument in call.arguments {
            let parameter: Parameter
            if let label = argument.label {
                let named = command.parameters.first { $0.name == label.lexeme && $0.kind != .rest }
                if named == nil, let collector = command.restParameter {
                    guard !rest.contains(where: { $0.name == label.lexeme }) else {
                        throw Diagnostic("'\(label.lexeme)' is given twice", at: label, notes: usage)
                    }
                    rest.append((label.lexeme, try value(of: argument.value, for: collector, in: command, usage: usage,
                                                         label: label.lexeme)))
                    continue
                }
                guard let named else {
                    let names = command.parameters.map(\.name)
                    let message = names.isEmpty
                        ? "'\(command.name)' takes no arguments"
                        : Suggest.message("unknown keyword '\(label.lexeme)' for '\(command.name)'", for: label.lexeme, in: names)
                    throw Diagnostic(message, at: label, notes: usage)
                }
                parameter = named
            } else {
                guard let index = positionalSlot(for: argument.value, in: command, from: nextPositional, filled: values) else {
                    let message = command.positionals.isEmpty
                        ? "'\(command.name)' takes no positional arguments"
                        : "too many arguments for '\(command.name)'"
                    throw Diagnostic(message, at: argument.value.location, notes: usage)
                }
                parameter = command.positionals[index]
                nextPositional = index + 1
            }
            let at = argument.label?.location ?? argument.value.location
            guard values[parameter.name] == nil else {
                throw Diagnostic("'\(parameter.name)' is given twice", at: at, notes: usage)
            }
            values[parameter.name] = try value(of: argument.value, for: parameter, in: command, usage: usage)
            locations[parameter.name] = at
        }
        for parameter in command.parameters where values[parameter.name] == nil {
            switch parameter.defaultValue {
            case .required:
                throw Diagnostic("missing argument '\(parameter.name)' for '\(command.name)'", at: call.name, notes: usage)
            case .value(let value):
                values[parameter.name] = value
            case .absent:
                break
            }
        }
        return Arguments(call: call.name, command: command, values: values, locations: locations, rest: rest)
    }

    /// Evaluates one argument as its parameter's type asks: a bare word, a symbol, or a value.
    /// `label` names a `.rest` argument in messages.
    private func value(of expr: Expr, for parameter: Parameter, in command: Command, usage: [String],
                       label: String? = nil) throws -> Value {
        let type = parameter.type
        let raw: Value
        if type.takesWord, let words = Self.words(expr, lists: type.evaluatesOtherwise) {
            raw = words
        } else if type.takesWord, !type.evaluatesOtherwise {
            throw Diagnostic("'\(label ?? parameter.name)' expects a name", at: expr.location, notes: usage)
        } else if case .name(let name) = expr, workspace[name.lexeme] == nil {
            guard type.symbols != nil else {
                throw unknownName(name, alsoSuggesting: commands.forms(of: command.head))
            }
            raw = .symbol(name.lexeme)
        } else {
            raw = try evaluate(expr)
        }
        do {
            return try type.convert(raw)
        } catch let error as ArgumentError {
            throw Diagnostic(error.message(for: label ?? parameter.name), at: expr.location, notes: usage)
        }
    }

    /// The positional parameter an argument fills: the next free one from `start`, except that a
    /// bare unbound word one of the later parameters takes as a symbol goes to that parameter, so
    /// optional marker words (`… to "x.svg"` when `vs` was left out) find their place.
    private func positionalSlot(for expr: Expr, in command: Command, from start: Int, filled: [String: Value]) -> Int? {
        let positionals = command.positionals
        let free = positionals.indices.filter { $0 >= start && filled[positionals[$0].name] == nil }
        if case .name(let word) = expr, workspace[word.lexeme] == nil,
           let marked = free.first(where: { positionals[$0].type.symbols?.contains(word.lexeme) ?? false }) {
            return marked
        }
        return free.first
    }

    /// A bare word as a symbol, or (when `lists`) a list literal of bare words as a list of symbols.
    private static func words(_ expr: Expr, lists: Bool) -> Value? {
        switch expr {
        case .name(let word):
            return .symbol(word.lexeme)
        case .list(_, let items) where lists && !items.isEmpty:
            let words = items.compactMap { item -> Value? in
                if case .name(let word) = item { return .symbol(word.lexeme) }
                return nil
            }
            return words.count == items.count ? .list(words) : nil
        default:
            return nil
        }
    }

    // MARK: - Help

    /// Help for a command, a statement keyword, or a workspace variable; nil if there is none.
    public func help(topic: String, form: String?) -> String? {
        if commands.isCommand(topic) { return commands.help(for: topic, form: form) }
        guard form == nil else { return nil }
        if let statement = CommandTable.statements.first(where: { $0.keyword == topic }) {
            return "\(statement.syntax)\n  \(statement.summary)"
        }
        if let value = workspace[topic] {
            var text = "\(topic): \(value.typeName), \(value.size)"
            let fields = value.fields
            if !fields.isEmpty {
                text += "\n" + TextTable.render(fields.map { ["  \(topic).\($0.name)", $0.summary] })
            }
            return text
        }
        return nil
    }

    /// Everything `help` has a page for.
    var helpTopics: [String] {
        commands.heads + CommandTable.statements.compactMap(\.keyword) + workspace.names
    }
}
