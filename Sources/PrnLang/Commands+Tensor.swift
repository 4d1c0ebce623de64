import PrnKernel

extension Commands {
    /// `tensor …`: creating tensors.
    static let tensor: [Command] = [
        Command("tensor", summary: "A tensor from a nested list of numbers (rectangular), or from a number.",
                example: "tensor [[1, 2], [3, 4]]") { p in
            let values = p.positional("values", Value.self, type: .tensorData, help: "a nested list such as [[1, 2], [3, 4]], or a number")
            return { args, _ in
                do { return .tensor(try TensorLiteral.tensor(from: args[values])) } catch let error as ArgumentError {
                    throw args.error(error.message, at: values)
                }
            }
        },
        Command("tensor zeros", summary: "A tensor of zeros.", example: "tensor zeros [2, 3]") { p in
            let shape = shapeParameter(p)
            return { args, _ in .tensor(Tensor.zeros(args[shape])) }
        },
        Command("tensor ones", summary: "A tensor of ones.", example: "tensor ones [2, 3]") { p in
            let shape = shapeParameter(p)
            return { args, _ in .tensor(Tensor.ones(args[shape])) }
        },
        random("tensor rand", summary: "Uniform random numbers in [low, high).", example: "tensor rand [2, 3] seed=1",
               ("low", 0, "lower bound"), ("high", 1, "upper bound"),
               problem: { low, high in low <= high ? nil : ("'low' (\(low)) is above 'high' (\(high))", "low") },
               draw: { Tensor.rand($0, low: $1, high: $2, seed: $3) }),
        random("tensor randn", summary: "Normal random numbers.", example: "tensor randn [64, 32] seed=1",
               ("mean", 0, "mean"), ("std", 1, "standard deviation (≥ 0)"),
               problem: { _, std in std >= 0 ? nil : ("'std' must be non-negative, got \(std)", "std") },
               draw: { Tensor.randn($0, mean: $1, std: $2, seed: $3) }),
        Command("tensor arange", summary: "The vector 0, 1, …, n-1.", example: "tensor arange 10") { p in
            let n = p.positional("n", Int.self, type: .int(0...Int.max), help: "the number of elements")
            return { args, _ in
                do { _ = try Shape.checkedCount([args[n]]) } catch let error as ShapeError {
                    throw args.error(error.description, at: n)
                }
                return .tensor(Tensor.arange(args[n]))
            }
        },
    ]

    /// A random `tensor` form: a shape, the distribution's two parameters (name, default, help),
    /// and a seed. `problem` says what is wrong with the parameters, and at which, or nil.
    private static func random(_ name: String, summary: String, example: String,
                               _ first: (name: String, value: Double, help: String),
                               _ second: (name: String, value: Double, help: String),
                               problem: @escaping (Double, Double) -> (message: String, at: String)?,
                               draw: @escaping ([Int], Float, Float, UInt64) -> Tensor) -> Command {
        Command(name, summary: summary, example: example) { p in
            let shape = shapeParameter(p)
            let a = p.keyword(first.name, default: first.value, help: first.help)
            let b = p.keyword(second.name, default: second.value, help: second.help)
            let seed = p.seed()
            return { args, interpreter in
                if let problem = problem(args[a], args[b]) { throw args.error(problem.message, at: problem.at) }
                return .tensor(draw(args[shape], Float(args[a]), Float(args[b]), interpreter.seed(args[seed], at: args.call)))
            }
        }
    }

    /// The shape every `tensor` form but the literal takes first.
    private static func shapeParameter(_ p: ParameterList) -> Arg<[Int]> {
        p.positional("shape", [Int].self, help: "the dimensions, e.g. [2, 3]")
    }
}

extension ParamType {
    /// A nested list of numbers, a number, or a tensor: the contents of a tensor literal.
    public static let tensorData = ParamType("list", "LIST") { value in
        switch value {
        case .list, .int, .float, .tensor: return value
        default: throw mismatch("a nested list of numbers", value)
        }
    }
}

/// Converts nested lists to tensors, checking that they are rectangular.
enum TensorLiteral {
    static func tensor(from value: Value) throws -> Tensor {
        if case .tensor(let t) = value { return t }
        let shape = inferShape(value)
        let count: Int
        do { count = try Shape.checkedCount(shape) } catch let error as ShapeError {
            throw ArgumentError(error.description)
        }
        var scalars: [Float] = []
        scalars.reserveCapacity(count)
        try flatten(value, shape: shape, axis: 0, path: [], into: &scalars)
        return Tensor(shape: shape, scalars: scalars)
    }

    /// The shape read along the first element of each level.
    private static func inferShape(_ value: Value) -> [Int] {
        var shape: [Int] = []
        var level = value
        while case .list(let items) = level {
            shape.append(items.count)
            guard let first = items.first else { break }
            level = first
        }
        return shape
    }

    private static func flatten(_ value: Value, shape: [Int], axis: Int, path: [Int], into out: inout [Float]) throws {
        var at: String { path.isEmpty ? "" : " at " + path.map { "[\($0)]" }.joined() }
        if axis == shape.count {
            guard let x = value.number else {
                if case .list = value { throw ArgumentError("nested list is not rectangular: a list\(at) where a number was expected") }
                throw ArgumentError("tensor elements must be numbers, got \(value.typeName)\(at)")
            }
            out.append(Float(x))
            return
        }
        guard case .list(let items) = value else {
            throw ArgumentError("nested list is not rectangular: a \(value.typeName)\(at) where a list of \(shape[axis]) was expected")
        }
        guard items.count == shape[axis] else {
            throw ArgumentError("nested list is not rectangular: the list\(at) has length \(items.count), expected \(shape[axis])")
        }
        for (i, item) in items.enumerated() {
            try flatten(item, shape: shape, axis: axis + 1, path: path + [i], into: &out)
        }
    }
}
