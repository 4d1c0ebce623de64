import PrnKernel

/// A Swift type a command parameter can have, as `ExpressibleByArgument` is for
/// swift-argument-parser: the type says how its arguments are checked, shown in usage and
/// completed (`parameterType`), and how a checked argument becomes a value, so a command reads
/// `args[lr]` as a `Double`, never by name.
public protocol ArgumentValue {
    /// How an argument of this type is checked and shown; `name` is the parameter's (choices show
    /// it as their type's name in help).
    static func parameterType(named name: String) -> ParamType
    /// The value of an argument that `parameterType` has checked and converted.
    init(checked value: Value)
    /// The value in the language, for defaults in usage and help.
    var argumentValue: Value { get }
}

/// A closed set of names declared once, as a `CaseIterable` enum whose raw values are the names
/// users type: usage lists them, completion offers them, and any other name is an error with a
/// "did you mean". Conform an enum with `extension PruneScope: ChoiceArgument {}`.
public protocol ChoiceArgument: ArgumentValue, CaseIterable, RawRepresentable where RawValue == String {
    /// The type's name in help tables; nil (the default) shows the parameter's name.
    static var choiceName: String? { get }
}

extension ChoiceArgument {
    public static var choiceName: String? { nil }

    public static func parameterType(named name: String) -> ParamType {
        .symbol(allCases.map(\.rawValue), name: choiceName ?? name)
    }

    public init(checked value: Value) {
        self = value.checked { (value: Value) -> Self? in if case .symbol(let name) = value { Self(rawValue: name) } else { nil } }
    }

    public var argumentValue: Value { .symbol(rawValue) }
}

/// A parameter that may be left out reads as nil.
extension Optional: ArgumentValue where Wrapped: ArgumentValue {
    public static func parameterType(named name: String) -> ParamType { Wrapped.parameterType(named: name) }
    public init(checked value: Value) { self = Wrapped(checked: value) }
    public var argumentValue: Value { self?.argumentValue ?? .none }
}

/// Marks the optional types, whose parameters default to absent rather than required.
protocol OptionalArgument { static var absent: Self { get } }
extension Optional: OptionalArgument { static var absent: Self { nil } }

/// The payloads of the cases the basic argument types are, read by one accessor both when a
/// `ParamType` checks an argument and when `init(checked:)` takes it.
extension Value {
    var intValue: Int? { if case .int(let i) = self { i } else { nil } }
    var boolValue: Bool? { if case .bool(let b) = self { b } else { nil } }
    var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    var tensorValue: Tensor? { if case .tensor(let t) = self { t } else { nil } }
    var listValue: [Value]? { if case .list(let items) = self { items } else { nil } }
    /// A string's or a symbol's text.
    var symbolText: String? {
        switch self {
        case .symbol(let s), .string(let s): return s
        default: return nil
        }
    }

    /// What `payload` reads from an argument a parameter type has checked; a nil there is a bug
    /// in that type.
    func checked<T>(_ payload: (Value) -> T?) -> T {
        guard let result = payload(self) else { preconditionFailure("the parameter type let through \(self) for \(T.self)") }
        return result
    }
}

/// How an argument type that is one case of `Value` is checked, read and written: the simple
/// argument types are each declared by one of these, as a `CodedArgument`.
public struct ArgumentCoding<T> {
    let type: ParamType
    let read: (Value) -> T?
    let write: (T) -> Value
}

/// An `ArgumentValue` declared by its `ArgumentCoding`.
public protocol CodedArgument: ArgumentValue {
    static var coding: ArgumentCoding<Self> { get }
}

extension CodedArgument {
    public static func parameterType(named name: String) -> ParamType { coding.type }
    public init(checked value: Value) { self = value.checked(Self.coding.read) }
    public var argumentValue: Value { Self.coding.write(self) }
}

// Strings read the bare words or symbols of word-taking types too (`del x`, `metric=acc`).
extension Int: CodedArgument { public static var coding: ArgumentCoding<Int> { .init(type: .int, read: \.intValue, write: Value.int) } }
extension Double: CodedArgument { public static var coding: ArgumentCoding<Double> { .init(type: .number, read: \.number, write: Value.float) } }
extension String: CodedArgument { public static var coding: ArgumentCoding<String> { .init(type: .string, read: \.symbolText, write: Value.string) } }
extension Bool: CodedArgument { public static var coding: ArgumentCoding<Bool> { .init(type: .bool, read: \.boolValue, write: Value.bool) } }
extension Value: CodedArgument { public static var coding: ArgumentCoding<Value> { .init(type: .any, read: { $0 }, write: { $0 }) } }
extension Tensor: CodedArgument { public static var coding: ArgumentCoding<Tensor> { .init(type: .tensor, read: \.tensorValue, write: Value.tensor) } }

/// A list of integers: a shape (`[2, 3]`, the default type) or sizes (`widths=[300, 100]`).
extension Array: ArgumentValue where Element == Int {
    public static func parameterType(named name: String) -> ParamType { .shape }
    public init(checked value: Value) { self = value.checked(\.listValue).map { Int(checked: $0) } }
    public var argumentValue: Value { .list(map(Value.int)) }
}

/// A number in [0, 1]: a sparsity, a density, a momentum.
public struct Fraction: CodedArgument {
    public var value: Double
    public init(_ value: Double) { self.value = value }
    public static var coding: ArgumentCoding<Fraction> { .init(type: .fraction, read: { $0.number.map(Fraction.init) }, write: { .float($0.value) }) }
}

/// A finite number above 0: a learning rate, a compression.
public struct Positive: CodedArgument {
    public var value: Double
    public init(_ value: Double) { self.value = value }
    public static var coding: ArgumentCoding<Positive> { .init(type: .positive, read: { $0.number.map(Positive.init) }, write: { .float($0.value) }) }
}

/// A random seed given as `seed=N` (a non-negative integer).
public struct Seed: CodedArgument {
    public var value: UInt64
    public static var coding: ArgumentCoding<Seed> { .init(type: .seed, read: { $0.intValue.map { Seed(value: UInt64($0)) } }, write: { .int(Int($0.value)) }) }
}

extension LangObject {
    public static func parameterType(named name: String) -> ParamType {
        .object(Self.self, name: name, placeholder: name.uppercased())
    }
    public init(checked value: Value) {
        self = value.checked { (value: Value) -> Self? in if case .object(let object) = value { object as? Self } else { nil } }
    }
    public var argumentValue: Value { .object(self) }
}
