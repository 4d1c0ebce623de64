import PrnKernel

/// One command, declared once: its name, parameters, help and implementation. Argument checking,
/// `help`, tab completion and grammar.md's command reference are all derived from this.
///
/// A name of two words declares a *form* of a command: `tensor zeros`, `tensor rand` and `tensor`
/// itself (from a nested list) are three declarations of the command `tensor`.
///
/// Each parameter is one declaration, which returns the typed handle the implementation reads
/// its argument with (see `ParameterList`):
///
/// ```swift
/// Command("tensor rand", summary: "Uniform random numbers in [low, high).", example: "tensor rand [2, 3] seed=1") { p in
///     let shape = p.positional("shape", [Int].self, help: "the dimensions, e.g. [2, 3]")
///     let low = p.keyword("low", default: 0.0, help: "lower bound")
///     let high = p.keyword("high", default: 1.0, help: "upper bound")
///     let seed = p.seed()
///     return { args, interpreter in
///         .tensor(Tensor.rand(args[shape], low: Float(args[low]), high: Float(args[high]),
///                             seed: interpreter.seed(args[seed], at: args.call)))
///     }
/// }
/// ```
public struct Command {
    /// The command word.
    public let head: String
    /// The form word after it, if this declaration is a form (`zeros` in `tensor zeros`).
    public let form: String?
    public let summary: String
    public let parameters: [Parameter]
    /// A complete statement using the command, shown by `help` and in grammar.md.
    public let example: String
    /// Runs the command on checked arguments. Throws `Diagnostic`, `ArgumentError` or `ShapeError`.
    public let run: (Arguments, Interpreter) throws -> Value

    init(_ name: String, summary: String, parameters: [Parameter], example: String,
         run: @escaping (Arguments, Interpreter) throws -> Value) {
        let words = name.split(separator: " ").map(String.init)
        precondition(words.count == 1 || words.count == 2, "command name '\(name)' must be one or two words")
        head = words[0]
        form = words.count == 2 ? words[1] : nil
        self.summary = summary
        self.parameters = parameters
        self.example = example
        self.run = run
        let names = parameters.map(\.name)
        precondition(Set(names).count == names.count, "duplicate parameter in '\(name)'")
        precondition(parameters.filter { $0.kind == .rest }.count <= 1, "more than one rest parameter in '\(name)'")
    }

    /// "tensor zeros" or "tensor".
    public var name: String { form.map { "\(head) \($0)" } ?? head }

    /// Parameters taken by position, in order.
    public var positionals: [Parameter] { parameters.filter { $0.kind == .positional } }

    /// The parameter collecting other `name=value` arguments, if any.
    public var restParameter: Parameter? { parameters.first { $0.kind == .rest } }

    /// The usage line: `tensor rand SHAPE [low=0] [high=1] [seed=INT]`.
    public var usage: String {
        ([name] + parameters.map(\.usage)).joined(separator: " ")
    }
}

/// A declared parameter of a command.
public struct Parameter {
    public enum Kind: Equatable {
        /// Given by position (or by name, `shape=[2, 3]`).
        case positional
        /// Given only as `name=value`.
        case keyword
        /// Every other `name=value`, in order (`row t method=snip acc=0.9`): the names are the
        /// caller's, the parameter's type checks each value. At most one per command.
        case rest
    }

    /// What happens when the argument is left out.
    public enum Default {
        /// The argument must be given.
        case required
        /// The command sees no value and decides (e.g. a seed derived from the position).
        case absent
        /// This value is used.
        case value(Value)
    }

    public let name: String
    public let type: ParamType
    public let kind: Kind
    public let defaultValue: Default
    /// One line for help tables.
    public let help: String

    public init(_ name: String, _ type: ParamType, kind: Kind, default defaultValue: Default, help: String) {
        self.name = name
        self.type = type
        self.kind = kind
        self.defaultValue = defaultValue
        self.help = help
    }

    /// A positional parameter (required unless a default is given).
    public static func positional(_ name: String, _ type: ParamType, default defaultValue: Default = .required,
                                  help: String) -> Parameter {
        Parameter(name, type, kind: .positional, default: defaultValue, help: help)
    }

    /// A `name=value` parameter.
    public static func keyword(_ name: String, _ type: ParamType, default defaultValue: Default,
                               help: String) -> Parameter {
        Parameter(name, type, kind: .keyword, default: defaultValue, help: help)
    }

    /// Every other `name=value` argument, each checked by `type` (read with `Arguments.rest`).
    public static func rest(_ name: String, _ type: ParamType, help: String) -> Parameter {
        Parameter(name, type, kind: .rest, default: .absent, help: help)
    }

    public var isRequired: Bool {
        if case .required = defaultValue { return true }
        return false
    }

    /// The default as help shows it.
    public var defaultText: String {
        switch defaultValue {
        case .required: return "required"
        case .absent: return "—"
        case .value(let v): return v.description
        }
    }

    /// This parameter in a usage line.
    public var usage: String {
        switch (kind, defaultValue) {
        case (.rest, _): return "NAME=\(type.placeholder)…"
        case (.positional, .required): return type.placeholder
        case (.positional, _): return "[\(type.placeholder)]"
        case (.keyword, .required): return "\(name)=\(type.placeholder)"
        case (.keyword, .value(let v)): return "[\(name)=\(v.description)]"
        case (.keyword, .absent): return "[\(name)=\(type.placeholder)]"
        }
    }
}

/// The checked arguments of one command call, with typed accessors.
public struct Arguments {
    /// The command's name token, for errors and derived seeds.
    public let call: Token
    public let command: Command
    private let values: [String: Value]
    private let locations: [String: SourceLocation]
    /// The `name=value` arguments a `.rest` parameter collected, in the order written.
    public let rest: [(name: String, value: Value)]

    init(call: Token, command: Command, values: [String: Value], locations: [String: SourceLocation],
         rest: [(name: String, value: Value)] = []) {
        self.call = call
        self.command = command
        self.values = values
        self.locations = locations
        self.rest = rest
    }

    /// The value, or nil when the argument was absent and has no default. Commands read their
    /// arguments through the typed handles their declarations return (`args[lr]`).
    func value(_ name: String) -> Value? { values[name] }

    /// Where the argument was written (the command name when it was defaulted).
    public func location(of name: String) -> SourceLocation { locations[name] ?? call.location }

    /// A diagnostic pointing at an argument.
    func error(_ message: String, at name: String) -> Diagnostic {
        Diagnostic(message, at: location(of: name))
    }
}
