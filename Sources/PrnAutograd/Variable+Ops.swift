import PrnKernel

/// The primitive ops. Each pairs its forward value with its backward rule, written in these
/// same ops so that it can be differentiated again. Everything else is composed from them.
extension Variable {
    // MARK: Arithmetic with broadcasting

    public static func + (a: Variable, b: Variable) -> Variable {
        record(a.value + b.value, [a, b]) { g in
            [a.requiresGrad ? g.sum(to: a.shape) : nil, b.requiresGrad ? g.sum(to: b.shape) : nil]
        }
    }

    public static func - (a: Variable, b: Variable) -> Variable {
        record(a.value - b.value, [a, b]) { g in
            [a.requiresGrad ? g.sum(to: a.shape) : nil, b.requiresGrad ? (-g).sum(to: b.shape) : nil]
        }
    }

    public static func * (a: Variable, b: Variable) -> Variable {
        record(a.value * b.value, [a, b]) { g in
            [a.requiresGrad ? (g * b).sum(to: a.shape) : nil, b.requiresGrad ? (g * a).sum(to: b.shape) : nil]
        }
    }

    public static func / (a: Variable, b: Variable) -> Variable {
        record(a.value / b.value, [a, b]) { g in
            [a.requiresGrad ? (g / b).sum(to: a.shape) : nil, b.requiresGrad ? (-(g * a) / (b * b)).sum(to: b.shape) : nil]
        }
    }

    public static prefix func - (a: Variable) -> Variable {
        record(-a.value, [a]) { g in [-g] }
    }

    public static func * (a: Variable, s: Float) -> Variable {
        record(a.value * s, [a]) { g in [g * s] }
    }

    public static func + (a: Variable, s: Float) -> Variable {
        record(a.value + s, [a]) { g in [g] }
    }

    public static func * (s: Float, a: Variable) -> Variable { a * s }
    public static func - (a: Variable, s: Float) -> Variable { a + (-s) }
    public static func / (a: Variable, s: Float) -> Variable { a * (1 / s) }

    // MARK: Elementwise functions

    public func exp() -> Variable {
        Variable.record(value.exp(), [self]) { g in [g * self.exp()] }
    }

    public func log() -> Variable {
        Variable.record(value.log(), [self]) { g in [g / self] }
    }

    /// `max(x, 0)`. Its derivative is a constant step, so its second derivative is zero.
    public func relu() -> Variable {
        Variable.record(value.relu(), [self]) { g in [g.reluGated(by: self.value)] }
    }

    /// `g · step(y)` for a constant `y` (a ReLU's input or output): the gradient through a
    /// ReLU, one pass with the bits of `g * Variable(y.step())`. Linear in `g`, so its backward
    /// is the same gate.
    public func reluGated(by y: Tensor) -> Variable {
        Variable.record(Tensor.reluGated(value, by: y), [self]) { g in [g.reluGated(by: y)] }
    }

    /// `x^p` for a constant exponent.
    public func pow(_ p: Float) -> Variable {
        Variable.record(value.pow(p), [self]) { g in [g * (self.pow(p - 1) * p)] }
    }

    public func sqrt() -> Variable { pow(0.5) }

    /// `|x|`, with derivative `sign(x)` (0 at 0).
    public func abs() -> Variable {
        Variable.record(value.abs(), [self]) { g in [g * Variable(self.value.sign())] }
    }

    // MARK: Shape

    public func reshaped(_ shape: [Int]) -> Variable {
        let original = self.shape
        return Variable.record(value.reshaped(shape), [self]) { g in [g.reshaped(original)] }
    }

    public func permuted(_ order: [Int]) -> Variable {
        var inverse = [Int](repeating: 0, count: order.count)
        for (i, axis) in order.enumerated() { inverse[axis] = i }
        return Variable.record(value.permuted(order), [self]) { g in [g.permuted(inverse)] }
    }

    public func broadcast(to shape: [Int]) -> Variable {
        let original = self.shape
        return Variable.record(value.broadcast(to: shape), [self]) { g in [g.sum(to: original)] }
    }

    /// Sums broadcast axes away, down to `shape` (the adjoint of `broadcast(to:)`).
    public func sum(to shape: [Int]) -> Variable {
        if self.shape == shape { return self }
        let original = self.shape
        return Variable.record(value.sum(to: shape), [self]) { g in [g.broadcast(to: original)] }
    }

    // MARK: Reductions

    public func sum(axes: [Int]? = nil, keepDims: Bool = false) -> Variable {
        let original = shape
        let axes = axes ?? Array(0..<shape.count)
        let kept = Tensor.reducedShape(original, axes: axes.map { $0 < 0 ? $0 + original.count : $0 }, keepDims: true)
        return Variable.record(value.sum(axes: axes, keepDims: keepDims), [self]) { g in
            [g.reshaped(kept).broadcast(to: original)]
        }
    }

    public func mean(axes: [Int]? = nil, keepDims: Bool = false) -> Variable {
        let axes = axes ?? Array(0..<shape.count)
        let n = axes.reduce(1) { $0 * shape[$1 < 0 ? $1 + shape.count : $1] }
        return sum(axes: axes, keepDims: keepDims) * (1 / Float(Swift.max(n, 1)))
    }

    // MARK: Matrix product

    /// `op(self) @ op(other)`; the backward uses transposed products, never a transposed copy.
    public func matmul(_ other: Variable, transA: Bool = false, transB: Bool = false) -> Variable {
        let a = self, b = other
        return Variable.record(a.value.matmul(b.value, transA: transA, transB: transB), [a, b]) { g in
            // Only inputs that need a gradient get one: the data batch feeding the first layer
            // never costs a product.
            let ga = !a.requiresGrad ? nil : transA ? b.matmul(g, transA: transB, transB: true) : g.matmul(b, transB: !transB)
            let gb = !b.requiresGrad ? nil : transB ? g.matmul(a, transA: true, transB: transA) : a.matmul(g, transA: !transA)
            return [ga, gb]
        }
    }
}

// MARK: Compositions (no backward code of their own)

extension Variable {
    /// `log(softmax(x))` along the last axis. The max shift is a constant, so it needs no gradient.
    public func logSoftmax() -> Variable {
        let shifted = self - Variable(value.max(axes: [-1], keepDims: true))
        return shifted - shifted.exp().sum(axes: [-1], keepDims: true).log()
    }

    public func softmax() -> Variable { logSoftmax().exp() }
}
