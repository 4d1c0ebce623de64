import PrnKernel

/// A field a value exposes to `value.name`, declared once with its help line.
public struct Field {
    public let name: String
    public let summary: String
    /// Reads the field; called only with values of the type that declares it.
    public let read: (Value) throws -> Value

    public init(_ name: String, _ summary: String, read: @escaping (Value) throws -> Value) {
        self.name = name
        self.summary = summary
        self.read = read
    }

    /// A field of a `LangObject` type, with the cast done once here.
    public static func of<T: LangObject>(_ type: T.Type, _ name: String, _ summary: String,
                                         _ get: @escaping (T) throws -> Value) -> Field {
        Field(name, summary) { value in
            guard case .object(let object) = value, let typed = object as? T else {
                throw FieldTypeMismatch()
            }
            return try get(typed)
        }
    }
}

/// Raised when a field reader gets a value of another type: a programmer error in a field table.
struct FieldTypeMismatch: Error {}

extension Value {
    /// The fields of this value's type.
    public var fields: [Field] {
        switch self {
        case .tensor: return Value.tensorFields
        case .list: return Value.listFields
        case .string: return Value.stringFields
        case .object(let object): return type(of: object).fields
        case .none, .bool, .int, .float, .symbol: return []
        }
    }

    static let tensorFields: [Field] = [
        Field("shape", "the dimensions, as a list of ints") { value in
            guard case .tensor(let t) = value else { throw FieldTypeMismatch() }
            return .list(t.shape.map(Value.int))
        },
        Field("rank", "the number of dimensions") { value in
            guard case .tensor(let t) = value else { throw FieldTypeMismatch() }
            return .int(t.rank)
        },
        Field("count", "the number of elements") { value in
            guard case .tensor(let t) = value else { throw FieldTypeMismatch() }
            return .int(t.count)
        },
    ]

    static let listFields: [Field] = [
        Field("count", "the number of items") { value in
            guard case .list(let items) = value else { throw FieldTypeMismatch() }
            return .int(items.count)
        },
    ]

    static let stringFields: [Field] = [
        Field("count", "the number of characters") { value in
            guard case .string(let s) = value else { throw FieldTypeMismatch() }
            return .int(s.count)
        },
    ]
}
