import PrnKernel

/// Expression evaluation: a switch over the tree, dispatching operators on token kinds.
extension Interpreter {
    func evaluate(_ expr: Expr) throws -> Value {
        switch expr {
        case .literal(let value, _):
            return value
        case .name(let name):
            return try lookup(name)
        case .list(let open, let items):
            let values = try items.map(evaluate)
            guard Value.fits(values, limit: limits.listCount) else {
                throw Diagnostic("list has more than \(limits.listCount) items, counting those of nested lists", at: open)
            }
            return .list(values)
        case .range(let keyword, let first, let second):
            let (start, count) = try rangeBounds(keyword, first, second, limit: limits.listCount)
            return .list((0..<count).map { .int(start + $0) })
        case .interpolation(let token, let parts):
            var text = ""
            for part in parts {
                switch part {
                case .text(let s): text += s
                case .expr(let expr): text += try evaluate(expr).printed
                }
                guard text.utf8.count <= limits.stringLength else {
                    throw Diagnostic("string is longer than \(limits.stringLength) bytes", at: token)
                }
            }
            return .string(text)
        case .unary(let op, let operand):
            return try Operators.unary(op, try evaluate(operand))
        case .binary(let left, let op, let right):
            switch op.kind {
            case .and, .or:
                return try logical(left, op, right)
            default:
                let value = try Operators.binary(op, try evaluate(left), try evaluate(right))
                if case .string(let s) = value, s.utf8.count > limits.stringLength {
                    throw Diagnostic("string is longer than \(limits.stringLength) bytes", at: op)
                }
                return value
            }
        case .field(let base, let name):
            return try field(of: try evaluate(base), name)
        case .command(let call):
            return try self.call(call)
        }
    }

    /// The value bound to a name, or an "unknown name" error with a suggestion.
    func lookup(_ name: Token, alsoSuggesting extra: [String] = []) throws -> Value {
        if let value = workspace[name.lexeme] { return value }
        throw unknownName(name, alsoSuggesting: extra)
    }

    func unknownName(_ name: Token, alsoSuggesting extra: [String] = []) -> Diagnostic {
        if commands.isCommand(name.lexeme) {
            return Diagnostic("'\(name.lexeme)' is a command; to use its value in an expression, put it in parentheses, as (\(name.lexeme) …)",
                              at: name)
        }
        let candidates = workspace.names + extra + commands.heads
        return Diagnostic(Suggest.message("unknown name '\(name.lexeme)'", for: name.lexeme, in: candidates), at: name)
    }

    /// `and` / `or`, short-circuiting, on booleans.
    private func logical(_ left: Expr, _ op: Token, _ right: Expr) throws -> Value {
        guard case .bool(let l) = try evaluate(left) else {
            throw Diagnostic("'\(op.lexeme)' needs true or false on its left", at: op)
        }
        if op.kind == .and && !l { return .bool(false) }
        if op.kind == .or && l { return .bool(true) }
        guard case .bool(let r) = try evaluate(right) else {
            throw Diagnostic("'\(op.lexeme)' needs true or false on its right", at: op)
        }
        return .bool(r)
    }

    private func field(of value: Value, _ name: Token) throws -> Value {
        let fields = value.fields
        guard let field = fields.first(where: { $0.name == name.lexeme }) else {
            if case .object(let object) = value, let dynamic = object.dynamicField(name.lexeme) { return dynamic }
            let names = value.fieldNames
            if names.isEmpty { throw Diagnostic("\(value.typeName) has no fields", at: name) }
            throw Diagnostic(Suggest.message("\(value.typeName) has no field '\(name.lexeme)'", for: name.lexeme, in: names)
                             + " (fields: \(names.joined(separator: ", ")))", at: name)
        }
        do {
            return try field.read(value)
        } catch let error as Diagnostic {
            throw error
        } catch {
            throw Diagnostic("cannot read field '\(name.lexeme)': \(error)", at: name)
        }
    }
}
