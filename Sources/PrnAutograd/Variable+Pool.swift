import PrnKernel

/// Pooling as recorded primitives. Both poolings are linear once the argmax is fixed, so each
/// backward is an adjoint and each adjoint's backward is the forward map again:
///
///     max pool:  y = S x            x̄ = Sᵀ g   (scatter-add at the argmax)
///                Sᵀ's backward:     ḡ = S g'   (gather at the same argmax)
///     avg pool:  y = A x            x̄ = Aᵀ g,  and Aᵀ's backward is A
///
/// The argmax is a constant of the graph (its derivative is zero almost everywhere), so double
/// backward through max pooling routes second-order gradients through the same positions.
extension Variable {
    /// Max over each `kernel × kernel` window (stride defaults to the kernel; zero-padding at most
    /// `kernel / 2`). Validate user shapes with `Shape.pool2d` first.
    public func maxPool2d(kernel: Int, stride: Int? = nil, padding: Int = 0) -> Variable {
        let (values, argmax) = value.maxPool2d(kernel: kernel, stride: stride, padding: padding)
        // Given its argmax, max pooling is the gather at it: same value, same backward.
        return gathered(at: argmax, value: values)
    }

    /// `y[e] = x[argmax[e]]`, linear in `x`; backward is `scatterAdded(at:)`.
    public func gathered(at argmax: PoolArgmax) -> Variable {
        gathered(at: argmax, value: value.gathered(at: argmax))
    }

    private func gathered(at argmax: PoolArgmax, value: Tensor) -> Variable {
        Variable.record(value, [self]) { g in [g.scatterAdded(at: argmax)] }
    }

    /// `dx[argmax[e]] += g[e]` into zeros of the pooled input's shape; backward is `gathered(at:)`.
    public func scatterAdded(at argmax: PoolArgmax) -> Variable {
        Variable.record(value.scatterAdded(at: argmax), [self]) { g in [g.gathered(at: argmax)] }
    }

    /// Mean over each `kernel × kernel` window, padded positions counted as zeros.
    public func avgPool2d(kernel: Int, stride: Int? = nil, padding: Int = 0) -> Variable {
        let inputShape = shape
        return Variable.record(value.avgPool2d(kernel: kernel, stride: stride, padding: padding), [self]) { g in
            [g.avgPool2dAdjoint(inputShape: inputShape, kernel: kernel, stride: stride, padding: padding)]
        }
    }

    /// The transpose of `avgPool2d` for an input of `inputShape`; backward is `avgPool2d`.
    public func avgPool2dAdjoint(inputShape: [Int], kernel: Int, stride: Int? = nil, padding: Int = 0) -> Variable {
        let value = self.value.avgPool2dAdjoint(inputShape: inputShape, kernel: kernel, stride: stride, padding: padding)
        return Variable.record(value, [self]) { g in
            [g.avgPool2d(kernel: kernel, stride: stride, padding: padding)]
        }
    }
}
