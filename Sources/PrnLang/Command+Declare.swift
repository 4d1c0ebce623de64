/// The typed handle a parameter declaration returns; the command's implementation reads its
/// argument with it (`args[lr]`), so the name is written once, in the declaration.
public struct Arg<T> {
    public let name: String
    fileprivate let read: (Arguments) -> T
}

/// Collects a command's parameters, in order, as its declaration makes them. Each method
/// declares one parameter and returns its handle; a type's `parameterType` supplies the checks,
/// the usage placeholder, the choices and completion unless `type:` names a narrower one
/// (`.int(1...65_536)`).
///
/// ```swift
/// Command("eval", summary: "…", example: "e = eval r data=d") { p in
///     let split = p.keyword("split", default: SplitName.test, help: "the split to measure")
///     return { args, _ in … args[split] … }
/// }
/// ```
public final class ParameterList {
    private(set) var parameters: [Parameter] = []

    /// A parameter given by position (or as `name=value`): required unless it has a default or
    /// its type is optional (then absent reads nil).
    public func positional<T: ArgumentValue>(_ name: String, _: T.Type = T.self, default value: T? = nil, type: ParamType? = nil,
                                             help: String) -> Arg<T> {
        declare(name, .positional, value, type, help)
    }

    /// A `name=value` parameter: required unless it has a default or its type is optional (then
    /// absent reads nil).
    public func keyword<T: ArgumentValue>(_ name: String, _: T.Type = T.self, default value: T? = nil, type: ParamType? = nil,
                                          help: String) -> Arg<T> {
        declare(name, .keyword, value, type, help)
    }

    /// The `seed=` every random command takes (see `Interpreter.seed`).
    public func seed() -> Arg<Seed?> {
        keyword("seed", Seed?.self,
                help: "random seed; when absent, derived from `set seed`, the statement's position and loop indices")
    }

    /// Every other `name=value` argument, each checked by `type`, in the order written.
    public func rest<T: ArgumentValue>(_ name: String, _: T.Type = T.self, type: ParamType? = nil,
                                       help: String) -> Arg<[(name: String, value: T)]> {
        parameters.append(Parameter(name, type ?? T.parameterType(named: name), kind: .rest, default: .absent, help: help))
        return Arg(name: name) { args in args.rest.map { ($0.name, T(checked: $0.value)) } }
    }

    private func declare<T: ArgumentValue>(_ name: String, _ kind: Parameter.Kind, _ value: T?, _ type: ParamType?,
                                           _ help: String) -> Arg<T> {
        let absent: Parameter.Default = T.self is OptionalArgument.Type ? .absent : .required
        parameters.append(Parameter(name, type ?? T.parameterType(named: name), kind: kind,
                                    default: value.map { .value($0.argumentValue) } ?? absent, help: help))
        return Arg(name: name) { args in
            if let value = args.value(name) { return T(checked: value) }
            guard let absent = T.self as? OptionalArgument.Type else { preconditionFailure("required '\(name)' is absent") }
            return absent.absent as! T
        }
    }
}

extension Command {
    /// A command whose parameters are declared by `declare`, which returns the implementation;
    /// the implementation reads each argument through the handle its declaration returned.
    public init(_ name: String, summary: String, example: String,
                declare: (ParameterList) -> (Arguments, Interpreter) throws -> Value) {
        let list = ParameterList()
        let run = declare(list)
        self.init(name, summary: summary, parameters: list.parameters, example: example, run: run)
    }
}

extension Arguments {
    /// The argument of a declared parameter, typed; nil for an optional one left out.
    public subscript<T>(_ parameter: Arg<T>) -> T { parameter.read(self) }

    /// Whether the argument was given (or has a default).
    public func has<T>(_ parameter: Arg<T>) -> Bool { value(parameter.name) != nil }

    /// A diagnostic pointing at an argument.
    public func error<T>(_ message: String, at parameter: Arg<T>) -> Diagnostic { error(message, at: parameter.name) }

}
