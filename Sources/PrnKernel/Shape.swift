import Foundation

/// A user-facing shape error: the message names both shapes.
public struct ShapeError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ message: String) { description = message }
}

/// Shape arithmetic and the throwing validators that front ends call before running an op.
public enum Shape {
    /// The element count of a shape (1 for a scalar).
    public static func count(_ shape: [Int]) -> Int { shape.reduce(1, *) }

    /// Row-major strides.
    public static func strides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var running = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[axis] = running
            running *= shape[axis]
        }
        return strides
    }

    /// The element count, or an error when a dimension is negative or the product overflows or
    /// exceeds `Tensor.maxElements`.
    public static func checkedCount(_ shape: [Int]) throws -> Int {
        var total = 1
        for dim in shape {
            guard dim >= 0 else { throw ShapeError("negative dimension \(dim) in shape \(shape)") }
            let (product, overflow) = total.multipliedReportingOverflow(by: dim)
            guard !overflow, product <= Tensor.maxElements else {
                throw ShapeError("shape \(shape) is too large (limit \(Tensor.maxElements) elements)")
            }
            total = product
        }
        return total
    }

    /// The numpy broadcast of two shapes.
    public static func broadcast(_ a: [Int], _ b: [Int]) throws -> [Int] {
        let rank = max(a.count, b.count)
        var out = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            guard da == db || da == 1 || db == 1 else {
                throw ShapeError("shapes \(a) and \(b) cannot be broadcast together")
            }
            out[i] = da == 1 ? db : da
        }
        return out
    }

    /// The shape of `op(a) @ op(b)` for rank-2 operands.
    public static func matmul(_ a: [Int], _ b: [Int], transA: Bool = false, transB: Bool = false) throws -> [Int] {
        guard a.count == 2, b.count == 2 else {
            throw ShapeError("matmul needs two matrices, got shapes \(a) and \(b)")
        }
        let (m, k1) = transA ? (a[1], a[0]) : (a[0], a[1])
        let (k2, n) = transB ? (b[1], b[0]) : (b[0], b[1])
        guard k1 == k2 else {
            throw ShapeError("matmul of \(a) and \(b): inner dimensions \(k1) and \(k2) differ")
        }
        return [m, n]
    }

    /// Normalizes possibly negative axes against a rank and checks them.
    public static func axes(_ axes: [Int], rank: Int) throws -> [Int] {
        try axes.map { axis in
            let a = axis < 0 ? axis + rank : axis
            guard a >= 0, a < rank else { throw ShapeError("axis \(axis) out of range for rank \(rank)") }
            return a
        }
    }
}

extension Tensor {
    /// The largest tensor prn will allocate: half of physical memory, as Float32.
    public nonisolated(unsafe) static var maxElements: Int = {
        let bytes = Int(clamping: ProcessInfo.processInfo.physicalMemory / 2)
        return Swift.max(bytes / MemoryLayout<Float>.size, 1 << 20)
    }()
}
