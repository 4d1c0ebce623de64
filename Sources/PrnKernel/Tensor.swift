/// An n-dimensional array of `Float`, contiguous and row-major.
///
/// Storage is a Swift array, so copies are cheap and copy-on-write: a value passed around the
/// workspace shares its buffer until someone mutates it. Shapes are checked by the throwing
/// validators in `Shape`; the arithmetic below assumes valid shapes (a mismatch is a programmer
/// error and traps), so front ends validate user input first.
///
/// ```swift
/// let a = Tensor.randn([64, 32], seed: 1)
/// let b = Tensor.randn([32, 16], seed: 2)
/// let c = a.matmul(b)          // shape [64, 16]
/// ```
public struct Tensor: Sendable, Equatable {
    public private(set) var shape: [Int]
    /// The values in row-major order. Mutate elements freely, but never the count. (No property
    /// observer guards this: an observer makes every in-place mutation copy the whole buffer.)
    public var scalars: [Float]

    /// A tensor with the given shape and scalars in row-major order.
    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        precondition(scalars.count == Shape.count(shape), "\(scalars.count) scalars for shape \(shape)")
        self.shape = shape
        self.scalars = scalars
    }

    /// A tensor filled with `value`.
    public init(repeating value: Float, shape: [Int]) {
        self.init(shape: shape, scalars: [Float](repeating: value, count: Shape.count(shape)))
    }

    /// A rank-0 tensor.
    public init(_ value: Float) { self.init(shape: [], scalars: [value]) }

    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(repeating: 0, shape: shape) }
    public static func ones(_ shape: [Int]) -> Tensor { Tensor(repeating: 1, shape: shape) }

    public var count: Int { scalars.count }
    public var rank: Int { shape.count }
    /// The value of a tensor with exactly one element.
    public var item: Float {
        precondition(count == 1, "item of a tensor with \(count) elements")
        return scalars[0]
    }

    /// The same scalars viewed with another shape of equal element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, scalars: scalars)
    }

    /// Creates a tensor by filling a fresh buffer of `count` elements.
    @inlinable
    public static func build(_ shape: [Int], _ fill: (UnsafeMutableBufferPointer<Float>) -> Void) -> Tensor {
        _ = HeapReuse.enabled
        let n = Shape.count(shape)
        let values = [Float](unsafeUninitializedCapacity: n) { buffer, initialized in
            fill(buffer)
            initialized = n
        }
        return Tensor(shape: shape, scalars: values)
    }
}

extension Tensor: CustomStringConvertible {
    /// A compact, numpy-like rendering; long dimensions are elided with `…`.
    public var description: String { TensorFormatter.format(self) }
}

extension Optional {
    /// Runs `body` with the array's buffer, or nil: the scalars of an optional operand (a mask,
    /// a residual) for kernels that take one.
    public func withOptionalBuffer<Element, R>(_ body: (UnsafeBufferPointer<Element>?) -> R) -> R where Wrapped == [Element] {
        switch self {
        case .some(let array): return array.withUnsafeBufferPointer { body($0) }
        case .none: return body(nil)
        }
    }

    /// Runs `body` with the array's mutable buffer, or nil: an optional output of a kernel.
    mutating func withOptionalMutableBuffer<Element, R>(_ body: (UnsafeMutableBufferPointer<Element>?) -> R) -> R
        where Wrapped == [Element] {
        guard self != nil else { return body(nil) }
        return self!.withUnsafeMutableBufferPointer { body($0) }
    }
}
