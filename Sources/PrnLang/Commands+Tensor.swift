import PrnKernel

extension Commands {
    /// `tensor …`: creating tensors.
    static let tensor: [Command] = [
        Command("tensor", summary: "A tensor from a nested list of numbers (rectangular), or from a number.",
                parameters: [.positional("values", .tensorData, help: "a nested list such as [[1, 2], [3, 4]], or a number")],
                example: "tensor [[1, 2], [3, 4]]") { args, _ in
            guard let value = args.value("values") else { return .none }
            do { return .tensor(try TensorLiteral.tensor(from: value)) } catch let error as ArgumentError {
                throw args.error(error.message, at: "values")
            }
        },
        Command("tensor zeros", summary: "A tensor of zeros.",
                parameters: [.positional("shape", .shape, help: "the dimensions, e.g. [2, 3]")],
                example: "tensor zeros [2, 3]") { args, _ in
            .tensor(Tensor.zeros(try args.shape("shape")))
        },
        Command("tensor ones", summary: "A tensor of ones.",
                parameters: [.positional("shape", .shape, help: "the dimensions, e.g. [2, 3]")],
                example: "tensor ones [2, 3]") { args, _ in
            .tensor(Tensor.ones(try args.shape("shape")))
        },
        Command("tensor rand", summary: "Uniform random numbers in [low, high).",
                parameters: [
                    .positional("shape", .shape, help: "the dimensions, e.g. [2, 3]"),
                    .keyword("low", .number, default: .value(.float(0)), help: "lower bound"),
                    .keyword("high", .number, default: .value(.float(1)), help: "upper bound"),
                    .seed,
                ],
                example: "tensor rand [2, 3] seed=1") { args, interpreter in
            let low = try args.double("low"), high = try args.double("high")
            guard low <= high else { throw args.error("'low' (\(low)) is above 'high' (\(high))", at: "low") }
            return .tensor(Tensor.rand(try args.shape("shape"), low: Float(low), high: Float(high),
                                       seed: try interpreter.seed(args)))
        },
        Command("tensor randn", summary: "Normal random numbers.",
                parameters: [
                    .positional("shape", .shape, help: "the dimensions, e.g. [2, 3]"),
                    .keyword("mean", .number, default: .value(.float(0)), help: "mean"),
                    .keyword("std", .number, default: .value(.float(1)), help: "standard deviation (≥ 0)"),
                    .seed,
                ],
                example: "tensor randn [64, 32] seed=1") { args, interpreter in
            let std = try args.double("std")
            guard std >= 0 else { throw args.error("'std' must be non-negative, got \(std)", at: "std") }
            return .tensor(Tensor.randn(try args.shape("shape"), mean: Float(try args.double("mean")), std: Float(std),
                                        seed: try interpreter.seed(args)))
        },
        Command("tensor arange", summary: "The vector 0, 1, …, n-1.",
                parameters: [.positional("n", .int(0...Int.max), help: "the number of elements")],
                example: "tensor arange 10") { args, _ in
            let n = try args.int("n")
            do { _ = try Shape.checkedCount([n]) } catch let error as ShapeError {
                throw args.error(error.description, at: "n")
            }
            return .tensor(Tensor.arange(n))
        },
    ]
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
