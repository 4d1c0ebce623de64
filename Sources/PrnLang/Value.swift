import PrnKernel
import PrnNotebook

/// A value of the language. Values are immutable: commands return new values and never change
/// their arguments (tensors are copy-on-write, so passing them around is cheap).
///
/// Kinds defined in lower layers (data sets, models, training results, tables) join through
/// `.object`, by conforming to `LangObject`; they need no new case here.
public enum Value {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    /// An unbound name accepted where a parameter takes a symbol (`tensor zeros`, `method=snip`).
    case symbol(String)
    case list([Value])
    case tensor(Tensor)
    case object(any LangObject)

    /// The kind's name, as `vars` and error messages show it.
    public var typeName: String {
        switch self {
        case .none: return "none"
        case .bool: return "bool"
        case .int: return "int"
        case .float: return "float"
        case .string: return "string"
        case .symbol: return "symbol"
        case .list: return "list"
        case .tensor: return "tensor"
        case .object(let object): return type(of: object).typeName
        }
    }

    /// The number this value holds, if it is an int or a float.
    public var number: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .float(let x): return x
        default: return nil
        }
    }

    /// The text `print` writes: strings and symbols without quotes, everything else as shown.
    public var printed: String {
        switch self {
        case .string(let s): return s
        default: return description
        }
    }

    /// A short size for the `vars` listing.
    public var size: String {
        switch self {
        case .none, .bool, .int, .float, .symbol: return "1"
        case .string(let s): return "\(s.count) chars"
        case .list(let items): return "\(items.count) items"
        case .tensor(let t): return t.shape.description
        case .object(let object): return object.size
        }
    }
}

extension Value: CustomStringConvertible {
    /// The value as a cell shows it: strings quoted, tensors numpy-like.
    public var description: String {
        switch self {
        case .none: return "none"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .float(let x): return Value.format(x)
        case .string(let s): return Value.quote(s)
        case .symbol(let s): return s
        case .list(let items): return "[" + items.map(\.description).joined(separator: ", ") + "]"
        case .tensor(let t): return t.description
        case .object(let object): return object.description
        }
    }

    static func format(_ x: Double) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x > 0 ? "inf" : "-inf" }
        return x.description
    }

    /// `s` as a prn string literal: it escapes exactly what the lexer unescapes.
    static func quote(_ s: String) -> String {
        var out = ""
        JSON.quote(s, into: &out, unicodeEscapes: false)
        return out
    }
}

/// A value kind defined outside the language core: a data set, a model, a training result.
///
/// ```swift
/// extension TrainResult: LangObject {
///     static let typeName = "result"
///     static let fields: [Field] = [
///         .of(TrainResult.self, "test_acc", "test accuracy after the last epoch") { .float($0.testAccuracy) },
///     ]
///     var size: String { "\(history.count) epochs" }
/// }
/// ```
public protocol LangObject: CustomStringConvertible {
    /// The type's name in the language.
    static var typeName: String { get }
    /// The fields `value.name` reads, declared once: they drive field access, help and completion.
    static var fields: [Field] { get }
    /// A short size for `vars`.
    var size: String { get }
    /// A field that depends on the value rather than its type, such as a table's column
    /// (`t.acc`); nil when there is none. Declared fields come first.
    func dynamicField(_ name: String) -> Value?
    /// The names `dynamicField` answers, for completion and error messages.
    var dynamicFieldNames: [String] { get }
}

extension LangObject {
    public func dynamicField(_ name: String) -> Value? { nil }
    public var dynamicFieldNames: [String] { [] }
}

extension Value {
    /// Whether `items`, counting the items of nested lists, number at most `limit`. The walk
    /// stops at the limit, so a list built by nesting a list in itself many times is cheap to
    /// check.
    static func fits(_ items: [Value], limit: Int) -> Bool {
        var count = 0
        var pending: [[Value]] = [items]
        while let next = pending.popLast() {
            count += next.count
            if count > limit { return false }
            for case .list(let inner) in next where !inner.isEmpty { pending.append(inner) }
        }
        return true
    }

    /// Declared and dynamic field names.
    public var fieldNames: [String] {
        var names = fields.map(\.name)
        if case .object(let object) = self { names += object.dynamicFieldNames.filter { !names.contains($0) } }
        return names
    }
}
