import PrnKernel

/// The type of a command parameter: how it reads in usage lines, which bare names it accepts as
/// symbols, and how an argument value is checked and converted.
///
/// Later layers add their own as static members, e.g.
/// `static let model = ParamType("model", "MODEL") { v in … }` in `Commands+Model.swift`.
public struct ParamType {
    /// The name in help tables ("shape", "int").
    public let name: String
    /// The placeholder in usage lines ("SHAPE", "INT").
    public let placeholder: String
    /// Unbound names this type takes as symbols: `nil` for none (an unbound name is an error),
    /// an empty list for any name.
    public let symbols: [String]?
    /// The parameter takes the bare word itself, never evaluated (`del x`, `help tensor`).
    public let takesWord: Bool
    /// With `takesWord`: anything but a bare word (or a list of bare words) is evaluated, so
    /// `pivot=ablation` names a column even when `ablation` is bound, and `pivot="ablation"` or
    /// `pivot=col` with parentheses, `pivot=(col)`, computes it.
    public let evaluatesOtherwise: Bool
    /// What tab completion offers for this parameter.
    public let completion: CompletionKind
    /// Checks and converts an argument; throws `ArgumentError` with a message naming the problem.
    public let convert: (Value) throws -> Value

    public init(_ name: String, _ placeholder: String, symbols: [String]? = nil, takesWord: Bool = false,
                evaluatesOtherwise: Bool = false, completion: CompletionKind = .values,
                convert: @escaping (Value) throws -> Value) {
        self.name = name
        self.placeholder = placeholder
        self.symbols = symbols
        self.takesWord = takesWord
        self.evaluatesOtherwise = evaluatesOtherwise
        self.completion = completion
        self.convert = convert
    }
}

/// What tab completion offers for a parameter's value.
public enum CompletionKind {
    /// The type's symbols and the workspace names.
    case values
    /// Help topics: commands, statement keywords and workspace names.
    case topics
    /// Column names of the table given as the command's first argument.
    case columns
    /// The forms of the command named by the previous argument (`help tensor r<TAB>`).
    case forms
}

/// A problem with one argument; the interpreter adds the parameter's name, the argument's
/// location and the usage line.
public struct ArgumentError: Error {
    public enum Style {
        /// Reads after the parameter's name: "'shape' expects a shape, got string".
        case predicate
        /// Follows the name and a colon: "'shape': negative dimension -1 in shape [2, -1]".
        case detail
    }

    public let message: String
    public let style: Style

    public init(_ message: String, style: Style = .detail) {
        self.message = message
        self.style = style
    }

    /// "expects X, got <type>".
    public static func expects(_ expected: String, got value: Value) -> ArgumentError {
        ArgumentError("expects \(expected), got \(value.typeName)", style: .predicate)
    }

    /// The message with the parameter's name in front.
    func message(for parameter: String) -> String {
        switch style {
        case .predicate: return "'\(parameter)' \(message)"
        case .detail: return "'\(parameter)': \(message)"
        }
    }
}

extension ParamType {
    /// Any value.
    public static let any = ParamType("any", "VALUE") { $0 }

    /// A type whose arguments are the values `payload` reads (`Value.intValue`, …), unchanged.
    static func holding<T>(_ name: String, _ placeholder: String, expects: String, _ payload: @escaping (Value) -> T?) -> ParamType {
        ParamType(name, placeholder) { value in
            guard payload(value) != nil else { throw mismatch(expects, value) }
            return value
        }
    }

    /// An integer.
    public static let int = holding("int", "INT", expects: "an integer", \.intValue)

    /// An integer in `range`.
    public static func int(_ range: ClosedRange<Int>) -> ParamType {
        ParamType("int", "INT") { value in
            guard let i = value.intValue else { throw mismatch("an integer", value) }
            guard range.contains(i) else {
                throw ArgumentError(range.upperBound == Int.max
                    ? "expects an integer ≥ \(range.lowerBound), got \(i)"
                    : "expects an integer from \(range.lowerBound) to \(range.upperBound), got \(i)", style: .predicate)
            }
            return value
        }
    }

    /// A seed: a non-negative integer.
    public static let seed = ParamType("int", "INT") { value in
        guard let i = value.intValue else { throw mismatch("an integer seed", value) }
        guard i >= 0 else { throw ArgumentError("expects a non-negative seed, got \(i)", style: .predicate) }
        return value
    }

    /// An int or a float, converted to a float.
    public static let number = ParamType("number", "NUMBER") { value in
        guard let x = value.number else { throw mismatch("a number", value) }
        return .float(x)
    }

    /// A string.
    public static let string = holding("string", "STRING", expects: "a string", \.stringValue)

    /// `true` or `false`.
    public static let bool = holding("bool", "BOOL", expects: "true or false", \.boolValue)

    /// A tensor shape: a list of non-negative ints, or one int for a vector. The element count
    /// is checked against `Tensor.maxElements`.
    public static let shape = ParamType("shape", "SHAPE") { value in
        let dims: [Int]
        switch value {
        case .int(let n): dims = [n]
        case .list(let items):
            dims = try items.map { item in
                guard case .int(let d) = item else { throw mismatch("a list of integers", value) }
                return d
            }
        default: throw mismatch("a shape such as [2, 3]", value)
        }
        guard dims.count <= Limits.maxRank else {
            throw ArgumentError("a shape has at most \(Limits.maxRank) dimensions, got \(dims.count)")
        }
        do { _ = try Shape.checkedCount(dims) } catch let error as ShapeError {
            throw ArgumentError(error.description)
        }
        return .list(dims.map(Value.int))
    }

    /// A tensor.
    public static let tensor = holding("tensor", "TENSOR", expects: "a tensor", \.tensorValue)

    /// A list of any values.
    public static let list = holding("list", "LIST", expects: "a list", \.listValue)

    /// A bare word, not evaluated: a workspace name or a help topic.
    public static let word = ParamType("name", "NAME", symbols: [], takesWord: true) { $0 }

    /// One of a fixed set of names, given bare (`method=snip`) or as a bound symbol or string.
    public static func symbol(_ choices: [String], name: String = "symbol") -> ParamType {
        ParamType(name, choices.joined(separator: "|"), symbols: choices) { value in
            guard let text = value.symbolText else { throw mismatch("one of \(choices.joined(separator: ", "))", value) }
            guard choices.contains(text) else {
                throw ArgumentError(Suggest.message("expects one of \(choices.joined(separator: ", ")), got '\(text)'",
                                                    for: text, in: choices), style: .predicate)
            }
            return .symbol(text)
        }
    }

    /// "expects X, got <type>".
    public static func mismatch(_ expected: String, _ value: Value) -> ArgumentError {
        .expects(expected, got: value)
    }

    /// A value of a `LangObject` type: `.object(Model.self, name: "model", placeholder: "MODEL")`.
    public static func object<T: LangObject>(_ type: T.Type, name: String, placeholder: String) -> ParamType {
        ParamType(name, placeholder) { value in
            guard case .object(let object) = value, object is T else { throw mismatch("a \(T.typeName)", value) }
            return value
        }
    }

    /// A help topic: a command, a statement keyword or a variable, not evaluated.
    public static let topic = ParamType("topic", "TOPIC", symbols: [], takesWord: true, completion: .topics) { $0 }

    /// A form of the command named by the previous argument, not evaluated.
    public static let form = ParamType("form", "FORM", symbols: [], takesWord: true, completion: .forms) { $0 }
}
