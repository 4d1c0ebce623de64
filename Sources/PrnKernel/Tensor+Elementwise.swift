import Foundation

/// Elementwise arithmetic with numpy broadcasting.
extension Tensor {
    /// Applies `f` to every scalar.
    @inlinable
    public func map(_ f: (Float) -> Float) -> Tensor {
        Tensor.build(shape) { out in
            scalars.withUnsafeBufferPointer { x in
                Parallel.forEach(x.count, grain: Tensor.elementwiseGrain) { range in
                    for i in range { out[i] = f(x[i]) }
                }
            }
        }
    }

    /// Elements per chunk of a parallel elementwise pass: below this a second thread costs more
    /// than it saves. Elementwise results do not depend on the chunking.
    @usableFromInline
    static let elementwiseGrain = 1 << 15

    /// Combines two tensors elementwise after broadcasting them to a common shape.
    @inlinable
    public static func zip(_ a: Tensor, _ b: Tensor, _ f: (Float, Float) -> Float) -> Tensor {
        withoutActuallyEscaping(f) { zip(a, b, ScalarClosure(function: $0)) }
    }

    /// `zip` with a scalar function type: specialized for `F`, so its loops vectorize on every
    /// thread (`ScalarBinaryFunction`).
    @inlinable
    static func zip<F: ScalarBinaryFunction>(_ a: Tensor, _ b: Tensor, _ f: F) -> Tensor {
        if a.shape == b.shape {
            return Tensor.build(a.shape) { out in
                a.scalars.withUnsafeBufferPointer { x in
                    b.scalars.withUnsafeBufferPointer { y in
                        Parallel.forEach(x.count, grain: elementwiseGrain) { range in
                            for i in range { out[i] = f(x[i], y[i]) }
                        }
                    }
                }
            }
        }
        let shape = try! Shape.broadcast(a.shape, b.shape)
        if b.count == 1 {
            let y = b.scalars[0]
            return a.broadcast(to: shape).map { f($0, y) }
        }
        if a.count == 1 {
            let x = a.scalars[0]
            return b.broadcast(to: shape).map { f(x, $0) }
        }
        let sa = broadcastStrides(a.shape, to: shape), sb = broadcastStrides(b.shape, to: shape)
        if shape == a.shape, let inner = shape.last, inner == b.count, sb.dropLast().allSatisfy({ $0 == 0 }) {
            // A row added to every row (a layer's bias): unit strides, so the loop vectorizes.
            return Tensor.build(shape) { out in
                a.scalars.withUnsafeBufferPointer { x in
                    b.scalars.withUnsafeBufferPointer { y in
                        Parallel.forEach(a.count / inner, grain: Swift.max(1, elementwiseGrain / inner)) { rows in
                            for row in rows {
                                let o = row * inner
                                for j in 0..<inner { out[o + j] = f(x[o + j], y[j]) }
                            }
                        }
                    }
                }
            }
        }
        return Tensor.build(shape) { out in
            a.scalars.withUnsafeBufferPointer { x in
                b.scalars.withUnsafeBufferPointer { y in
                    forEachRowInParallel(shape, sa, sb) { row, offA, offB, inner, strideA, strideB in
                        let o = row * inner
                        for j in 0..<inner { out[o + j] = f(x[offA + j * strideA], y[offB + j * strideB]) }
                    }
                }
            }
        }
    }

    /// Strides that read `shape` as if it had `target`'s shape (0 along broadcast axes).
    @usableFromInline
    static func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
        let own = Shape.strides(shape)
        let pad = target.count - shape.count
        return (0..<target.count).map { i in
            i < pad || shape[i - pad] == 1 ? 0 : own[i - pad]
        }
    }

    /// Visits each row (all axes but the last) of `shape`, with the offsets of two operands.
    @usableFromInline
    static func forEachRow(_ shape: [Int], _ sa: [Int], _ sb: [Int],
                           _ body: (_ row: Int, _ offA: Int, _ offB: Int, _ inner: Int, _ strideA: Int, _ strideB: Int) -> Void) {
        forEachRow(shape, sa, sb, rows: 0..<rowCount(shape).rows, body)
    }

    /// `forEachRow` with the rows split across threads (each row is written by one thread).
    @usableFromInline
    static func forEachRowInParallel(_ shape: [Int], _ sa: [Int], _ sb: [Int],
                                     _ body: (_ row: Int, _ offA: Int, _ offB: Int, _ inner: Int, _ strideA: Int, _ strideB: Int) -> Void) {
        let (inner, rows) = rowCount(shape)
        Parallel.forEach(rows, grain: Swift.max(1, elementwiseGrain / Swift.max(inner, 1))) { range in
            forEachRow(shape, sa, sb, rows: range, body)
        }
    }

    /// The length of `shape`'s rows (its last axis; 1 for a scalar) and how many there are.
    private static func rowCount(_ shape: [Int]) -> (inner: Int, rows: Int) {
        let inner = shape.last ?? 1
        return (inner, inner == 0 ? 0 : Shape.count(shape) / inner)
    }

    /// Visits the rows in `rows`, starting from the offsets of the first.
    @usableFromInline
    static func forEachRow(_ shape: [Int], _ sa: [Int], _ sb: [Int], rows: Range<Int>,
                           _ body: (_ row: Int, _ offA: Int, _ offB: Int, _ inner: Int, _ strideA: Int, _ strideB: Int) -> Void) {
        let rank = shape.count
        let inner = rank == 0 ? 1 : shape[rank - 1]
        guard !rows.isEmpty else { return }
        let innerA = rank == 0 ? 0 : sa[rank - 1], innerB = rank == 0 ? 0 : sb[rank - 1]
        var index = [Int](repeating: 0, count: Swift.max(rank - 1, 0))
        var offA = 0, offB = 0
        var rest = rows.lowerBound
        for axis in stride(from: rank - 2, through: 0, by: -1) {
            index[axis] = rest % shape[axis]
            rest /= shape[axis]
            offA += index[axis] * sa[axis]
            offB += index[axis] * sb[axis]
        }
        for row in rows {
            body(row, offA, offB, inner, innerA, innerB)
            var axis = rank - 2
            while axis >= 0 {
                index[axis] += 1
                offA += sa[axis]
                offB += sb[axis]
                if index[axis] < shape[axis] { break }
                offA -= sa[axis] * index[axis]
                offB -= sb[axis] * index[axis]
                index[axis] = 0
                axis -= 1
            }
        }
    }

    /// This tensor repeated along broadcast axes to `target`.
    public func broadcast(to target: [Int]) -> Tensor {
        if shape == target { return self }
        precondition((try? Shape.broadcast(shape, target)) == target, "cannot broadcast \(shape) to \(target)")
        if count == 1 { return Tensor(repeating: scalars[0], shape: target) }
        let sa = Tensor.broadcastStrides(shape, to: target)
        return Tensor.build(target) { out in
            scalars.withUnsafeBufferPointer { x in
                Tensor.forEachRowInParallel(target, sa, sa) { row, off, _, inner, stride, _ in
                    let o = row * inner
                    for j in 0..<inner { out[o + j] = x[off + j * stride] }
                }
            }
        }
    }

    public static func + (a: Tensor, b: Tensor) -> Tensor { zip(a, b, ScalarSum()) }
    public static func - (a: Tensor, b: Tensor) -> Tensor { zip(a, b, ScalarDifference()) }
    public static func * (a: Tensor, b: Tensor) -> Tensor { zip(a, b, ScalarProduct()) }
    public static func / (a: Tensor, b: Tensor) -> Tensor { zip(a, b, ScalarQuotient()) }
    public static func + (a: Tensor, b: Float) -> Tensor { a.map { $0 + b } }
    public static func - (a: Tensor, b: Float) -> Tensor { a.map { $0 - b } }
    public static func * (a: Tensor, b: Float) -> Tensor { a.map { $0 * b } }
    public static func / (a: Tensor, b: Float) -> Tensor { a.map { $0 / b } }
    public static func * (a: Float, b: Tensor) -> Tensor { b.map { a * $0 } }
    public static prefix func - (a: Tensor) -> Tensor { a.map { -$0 } }

    public func exp() -> Tensor { map { Foundation.exp($0) } }
    public func log() -> Tensor { map { Foundation.log($0) } }
    public func sqrt() -> Tensor { map { $0.squareRoot() } }
    public func abs() -> Tensor { map { Swift.abs($0) } }
    public func relu() -> Tensor { map { $0 > 0 ? $0 : 0 } }
    /// 1 where the scalar is positive, else 0 (the derivative of ReLU).
    public func step() -> Tensor { map { $0 > 0 ? 1 : 0 } }

    /// `g · step(y)` in one pass, without the step tensor: the gradient `g` let through where
    /// `y` (a ReLU's input or output) is positive. The same multiplications as `g * y.step()`,
    /// so the same bits (a blocked gradient is `g · 0`: a signed zero, or NaN for an infinite g).
    public static func reluGated(_ g: Tensor, by y: Tensor) -> Tensor {
        precondition(g.shape == y.shape, "reluGated: gradient \(g.shape), gate \(y.shape)")
        return zip(g, y, ScalarReLUGate())
    }
    public func pow(_ p: Float) -> Tensor {
        if p == 2 { return map { $0 * $0 } }
        return map { Foundation.pow($0, p) }
    }
    public func sign() -> Tensor { map { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) } }

    /// True when no scalar is NaN or infinite.
    public var isFinite: Bool { scalars.allSatisfy { $0.isFinite } }
}

/// A function of two scalars that `Tensor.zip` applies elementwise.
///
/// `zip`'s loops that run on the worker pool are closures of their own, so a closure passed to
/// `zip` reaches them only as a pointer: they call it once per element and do not vectorize
/// (only the one-thread path, inlined at the call site, sees the closure itself). A conforming
/// type is a generic parameter instead, `zip` is specialized for it, and every thread's loop
/// vectorizes: the arithmetic operators and `reluGated`, which a training step runs on whole
/// activations, use one.
@usableFromInline
protocol ScalarBinaryFunction {
    func callAsFunction(_ a: Float, _ b: Float) -> Float
}

/// A closure as a `ScalarBinaryFunction` (`Tensor.zip`'s public form).
@usableFromInline
struct ScalarClosure: ScalarBinaryFunction {
    @usableFromInline let function: (Float, Float) -> Float
    @inlinable init(function: @escaping (Float, Float) -> Float) { self.function = function }
    @inlinable func callAsFunction(_ a: Float, _ b: Float) -> Float { function(a, b) }
}

@usableFromInline struct ScalarSum: ScalarBinaryFunction {
    @inlinable init() {}
    @inlinable func callAsFunction(_ a: Float, _ b: Float) -> Float { a + b }
}

@usableFromInline struct ScalarDifference: ScalarBinaryFunction {
    @inlinable init() {}
    @inlinable func callAsFunction(_ a: Float, _ b: Float) -> Float { a - b }
}

@usableFromInline struct ScalarProduct: ScalarBinaryFunction {
    @inlinable init() {}
    @inlinable func callAsFunction(_ a: Float, _ b: Float) -> Float { a * b }
}

@usableFromInline struct ScalarQuotient: ScalarBinaryFunction {
    @inlinable init() {}
    @inlinable func callAsFunction(_ a: Float, _ b: Float) -> Float { a / b }
}

/// `g · step(y)`: the gradient `g` let through where `y` is positive (`Tensor.reluGated`).
@usableFromInline struct ScalarReLUGate: ScalarBinaryFunction {
    @inlinable init() {}
    @inlinable func callAsFunction(_ g: Float, _ y: Float) -> Float { g * (y > 0 ? 1 : 0) }
}
