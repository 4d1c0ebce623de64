import PrnKernel

/// Arithmetic, matmul and comparison on values.
///
/// Tensor operands are validated here — broadcast and matmul shapes, and the element cap — before
/// any kernel op runs, because the kernel treats a bad shape as a programmer error and traps.
enum Operators {
    static func unary(_ op: Token, _ value: Value) throws -> Value {
        switch (op.kind, value) {
        case (.minus, .int(let i)):
            guard i != Int.min else { throw Diagnostic("integer overflow in '-'", at: op) }
            return .int(-i)
        case (.minus, .float(let x)): return .float(-x)
        case (.minus, .tensor(let t)): return .tensor(-t)
        case (.not, .bool(let b)): return .bool(!b)
        case (.not, _):
            throw Diagnostic("'not' needs true or false, got \(value.typeName)", at: op)
        default:
            throw Diagnostic("cannot negate \(value.typeName)", at: op)
        }
    }

    static func binary(_ op: Token, _ left: Value, _ right: Value) throws -> Value {
        switch op.kind {
        case .plus, .minus, .star, .slash:
            return try arithmetic(op, left, right)
        case .at:
            return try matmul(op, left, right)
        case .equalEqual, .bangEqual, .less, .lessEqual, .greater, .greaterEqual:
            return try compare(op, left, right)
        default:
            throw Diagnostic("\(op.display) is not a binary operator", at: op)
        }
    }

    // MARK: - Arithmetic

    private static func arithmetic(_ op: Token, _ left: Value, _ right: Value) throws -> Value {
        switch (left, right) {
        case (.int(let a), .int(let b)):
            return try integer(op, a, b)
        case (.tensor(let a), .tensor(let b)):
            return .tensor(try tensors(op, a, b))
        case (.tensor(let a), _):
            guard let b = right.number else { throw mismatch(op, left, right) }
            let f: (Float, Float) -> Float = operation(op.kind)
            return .tensor(a.map { f($0, Float(b)) })
        case (_, .tensor(let b)):
            guard let a = left.number else { throw mismatch(op, left, right) }
            let f: (Float, Float) -> Float = operation(op.kind)
            return .tensor(b.map { f(Float(a), $0) })
        case (.string, _) where op.kind == .plus, (_, .string) where op.kind == .plus:
            return try join(op, left, right)
        default:
            guard let a = left.number, let b = right.number else { throw mismatch(op, left, right) }
            return .float(operation(op.kind)(a, b))
        }
    }

    /// Integer `+ - *` with overflow checks; `/` is true division and gives a float.
    private static func integer(_ op: Token, _ a: Int, _ b: Int) throws -> Value {
        let result: (partialValue: Int, overflow: Bool)
        switch op.kind {
        case .plus: result = a.addingReportingOverflow(b)
        case .minus: result = a.subtractingReportingOverflow(b)
        case .star: result = a.multipliedReportingOverflow(by: b)
        default: return .float(Double(a) / Double(b))
        }
        guard !result.overflow else { throw Diagnostic("integer overflow in \(op.display)", at: op) }
        return .int(result.partialValue)
    }

    /// `"acc-" + 0.9`: a string joined with a string, number, symbol or bool, written as `print`
    /// writes it.
    private static func join(_ op: Token, _ left: Value, _ right: Value) throws -> Value {
        guard left.isJoinable, right.isJoinable else { throw mismatch(op, left, right) }
        let a = left.printed, b = right.printed
        // The interpreter checks the result against its limit; this only keeps a runaway join from
        // allocating far past any limit first.
        guard a.utf8.count + b.utf8.count <= 2 * Limits.maxStringLength else {
            throw Diagnostic("string is longer than \(Limits.maxStringLength) bytes", at: op)
        }
        return .string(a + b)
    }

    /// `+ − * /` for a token, on any floating-point type: the one place the four are told apart
    /// (integers, which check for overflow, aside).
    private static func operation<T: FloatingPoint>(_ kind: TokenKind) -> (T, T) -> T {
        switch kind {
        case .plus: return (+)
        case .minus: return (-)
        case .star: return (*)
        default: return (/)
        }
    }

    private static func tensors(_ op: Token, _ a: Tensor, _ b: Tensor) throws -> Tensor {
        do {
            _ = try Shape.checkedCount(try Shape.broadcast(a.shape, b.shape))
        } catch let error as ShapeError {
            throw Diagnostic("cannot apply \(op.display) to tensors: \(error.description)", at: op)
        }
        return Tensor.zip(a, b, operation(op.kind))
    }

    private static func matmul(_ op: Token, _ left: Value, _ right: Value) throws -> Value {
        guard case .tensor(let a) = left, case .tensor(let b) = right else {
            throw Diagnostic("'@' needs two tensors, got \(left.typeName) and \(right.typeName)", at: op)
        }
        let shape: [Int]
        do {
            shape = try Shape.matmul(a.shape, b.shape)
            _ = try Shape.checkedCount(shape)
        } catch let error as ShapeError {
            throw Diagnostic("cannot apply '@': \(error.description)", at: op)
        }
        // An empty operand has no storage to hand the GEMM; its product is all zeros.
        if a.count == 0 || b.count == 0 { return .tensor(Tensor.zeros(shape)) }
        return .tensor(a.matmul(b))
    }

    private static func mismatch(_ op: Token, _ left: Value, _ right: Value) -> Diagnostic {
        Diagnostic("cannot apply \(op.display) to \(left.typeName) and \(right.typeName)", at: op)
    }

    // MARK: - Comparison

    private static func compare(_ op: Token, _ left: Value, _ right: Value) throws -> Value {
        if let a = left.number, let b = right.number {
            return .bool(ordered(op.kind, a, b))
        }
        let equality = op.kind == .equalEqual || op.kind == .bangEqual
        switch (left, right) {
        case (.string(let a), .string(let b)), (.symbol(let a), .symbol(let b)),
             (.string(let a), .symbol(let b)), (.symbol(let a), .string(let b)):
            return .bool(ordered(op.kind, a, b))
        case (.bool(let a), .bool(let b)) where equality:
            return .bool((a == b) == (op.kind == .equalEqual))
        case (.none, .none) where equality:
            return .bool(op.kind == .equalEqual)
        default:
            if equality, !left.isTensorLike, !right.isTensorLike {
                return .bool(op.kind == .bangEqual)   // values of different kinds are never equal
            }
            throw Diagnostic("cannot compare \(left.typeName) and \(right.typeName) with \(op.display)", at: op)
        }
    }

    private static func ordered<T: Comparable>(_ kind: TokenKind, _ a: T, _ b: T) -> Bool {
        switch kind {
        case .equalEqual: return a == b
        case .bangEqual: return a != b
        case .less: return a < b
        case .lessEqual: return a <= b
        case .greater: return a > b
        default: return a >= b
        }
    }
}

private extension Value {
    /// Values `+` joins to a string.
    var isJoinable: Bool {
        switch self {
        case .string, .symbol, .int, .float, .bool: return true
        default: return false
        }
    }

    /// Tensors and lists, whose comparison would be elementwise: not supported yet.
    var isTensorLike: Bool {
        switch self {
        case .tensor, .list: return true
        default: return false
        }
    }
}
