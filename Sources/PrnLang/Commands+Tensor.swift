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
        Command("tensor rand", summary: "Uniform random numbers in [low, high).", example: "tensor rand [2, 3] seed=1") { p in
            let shape = shapeParameter(p)
            let low = p.keyword("low", default: 0.0, help: "lower bound")
            let high = p.keyword("high", default: 1.0, help: "upper bound")
            let seed = p.seed()
            return { args, interpreter in
                guard args[low] <= args[high] else { throw args.error("'low' (\(args[low])) is above 'high' (\(args[high]))", at: low) }
                return .tensor(Tensor.rand(args[shape], low: Float(args[low]), high: Float(args[high]),
                                           seed: interpreter.seed(args[seed], at: args.call)))
            }
        },
        Command("tensor randn", summary: "Normal random numbers.", example: "tensor randn [64, 32] seed=1") { p in
            let shape = shapeParameter(p)
            let mean = p.keyword("mean", default: 0.0, help: "mean")
            let std = p.keyword("std", default: 1.0, help: "standard deviation (≥ 0)")
            let seed = p.seed()
            return { args, interpreter in
                guard args[std] >= 0 else { throw args.error("'std' must be non-negative, got \(args[std])", at: std) }
                return .tensor(Tensor.randn(args[shape], mean: Float(args[mean]), std: Float(args[std]),
                                            seed: interpreter.seed(args[seed], at: args.call)))
            }
        },
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
