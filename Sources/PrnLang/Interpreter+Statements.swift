/// Executing statements: assignment, print, shown values, loops and conditionals.
extension Interpreter {
    func execute(_ statement: Stmt) throws {
        try step(at: statement.location)
        switch statement {
        case .expression(let expr):
            let value = try evaluate(expr)
            if case .none = value { return }
            sink(.value(value))
        case .assign(let name, let expr):
            let value = try evaluate(expr)
            workspace.bind(name.lexeme, value)
        case .print(_, let expr):
            sink(.text(try evaluate(expr).printed))
        case .forLoop(let loop):
            try executeFor(loop)
        case .ifElse(let chain):
            for branch in chain.branches {
                let value = try evaluate(branch.condition)
                guard case .bool(let taken) = value else {
                    throw Diagnostic("'if' needs true or false, got \(value.typeName)", at: branch.condition.location)
                }
                if taken { return try execute(branch.body) }
            }
            if let otherwise = chain.otherwise { try execute(otherwise) }
        }
    }

    /// Runs a block's statements, one level deeper; Ctrl-C is checked before each.
    func execute(_ block: Block) throws {
        try deeper(at: block.open.location) {
            for statement in block.statements {
                try Interrupt.check()
                try execute(statement)
            }
        }
    }

    /// Runs `body` one block (or `run`) deeper, failing past `maxExecutionDepth`.
    func deeper(at location: SourceLocation, _ body: () throws -> Void) throws {
        guard executionDepth < Self.maxExecutionDepth else {
            throw Diagnostic("blocks and runs are nested too deeply (limit \(Self.maxExecutionDepth) levels)", at: location)
        }
        executionDepth += 1
        defer { executionDepth -= 1 }
        try body()
    }

    /// Blocks and `run`s nested at once, across files.
    static let maxExecutionDepth = 512

    /// Counts one step against the budget, if there is one.
    func step(at location: SourceLocation) throws {
        guard budget != nil else { return }
        budget?.steps -= 1
        if let budget, budget.steps < 0 {
            throw Diagnostic("step budget exhausted", at: location)
        }
    }

    // MARK: - Loops

    /// What a `for` iterates over: a lazy range, or the items of a list.
    enum LoopValues {
        case range(Int, count: Int)
        case items([Value])

        var count: Int {
            switch self {
            case .range(_, let count): return count
            case .items(let items): return items.count
            }
        }

        subscript(k: Int) -> Value {
            switch self {
            case .range(let start, _): return .int(start + k)
            case .items(let items): return items[k]
            }
        }
    }

    /// `for x in …`: binds `x` to each value in turn and runs the body; Ctrl-C is checked before
    /// each iteration. A top-level loop starts a nest whose innermost iterations are the work
    /// units of scale-out (shards, jobs, results files); the indices of all enclosing loops feed
    /// derived seeds.
    private func executeFor(_ loop: ForLoop) throws {
        let values = try loopValues(loop.iterable, loop: loop.keyword)
        let enclosing = loopIndices.count
        if enclosing == 0 { scaleOut?.enterNest(loop) }
        defer { if enclosing == 0 { scaleOut?.leaveNest() } }
        let units = scaleOut.flatMap { $0.isUnitLevel(enclosing: enclosing) ? $0 : nil }
        for k in 0..<values.count {
            try Interrupt.check()
            try step(at: loop.keyword.location)
            workspace.bind(loop.variable.lexeme, values[k])
            loopIndices.append(k)
            defer { loopIndices.removeLast() }
            if let units {
                try runUnit(units, loop: loop.keyword) { try execute(loop.body) }
            } else {
                try execute(loop.body)
            }
        }
    }

    /// The values of a loop's iterable. A list literal whose items are all unbound names is a
    /// list of symbols (`for method in [random, snip]`); anything else is evaluated.
    private func loopValues(_ iterable: Expr, loop: Token) throws -> LoopValues {
        switch iterable {
        case .range(let keyword, let first, let second):
            let (start, count) = try rangeBounds(keyword, first, second, limit: limits.rangeCount)
            return .range(start, count: count)
        case .list(_, let items) where !items.isEmpty && items.allSatisfy({ isUnboundName($0) }):
            return .items(items.compactMap { item in
                if case .name(let name) = item { return .symbol(name.lexeme) }
                return nil
            })
        default:
            let value = try evaluate(iterable)
            guard case .list(let items) = value else {
                throw Diagnostic("'for' needs a list or range(…), got \(value.typeName)", at: iterable.location)
            }
            return .items(items)
        }
    }

    private func isUnboundName(_ expr: Expr) -> Bool {
        if case .name(let name) = expr { return workspace[name.lexeme] == nil }
        return false
    }

    /// `range(n)` or `range(a, b)` as a start and a count, checked against `limit`.
    func rangeBounds(_ keyword: Token, _ first: Expr, _ second: Expr?, limit: Int) throws -> (start: Int, count: Int) {
        func integer(_ expr: Expr) throws -> Int {
            let value = try evaluate(expr)
            guard case .int(let i) = value else {
                throw Diagnostic("range needs integers, got \(value.typeName)", at: expr.location)
            }
            return i
        }
        let start = second == nil ? 0 : try integer(first)
        let end = try second.map(integer) ?? integer(first)
        let (span, overflow) = end.subtractingReportingOverflow(start)
        guard !overflow, span <= limit else {
            throw Diagnostic("range from \(start) to \(end) has more than \(limit) numbers", at: keyword)
        }
        return (start, max(0, span))
    }
}
