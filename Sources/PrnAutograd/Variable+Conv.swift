import PrnKernel

/// Convolution as three recorded primitives that are each other's gradients.
///
/// `y = conv2d(x, w)` is bilinear, so everything follows from the trilinear form
/// `T(x, w, gy) = ⟨conv2d(x, w), gy⟩`, whose partial derivatives are the three ops:
///
///     ∂T/∂gy = conv2d(x, w)
///     ∂T/∂x  = conv2dInputGrad(gy, w)      (the transposed convolution)
///     ∂T/∂w  = conv2dWeightGrad(x, gy)
///
/// The backward of each op with upstream gradient `g` differentiates `⟨op(a, b), g⟩`, which is
/// `T` with `g` in the op's output slot, so it is again two of the three ops:
///
///     conv2d(x, w):            x̄ = conv2dInputGrad(g, w),  w̄ = conv2dWeightGrad(x, g)
///     conv2dInputGrad(gy, w):  ḡy = conv2d(g, w),           w̄ = conv2dWeightGrad(g, gy)
///     conv2dWeightGrad(x, gy): x̄ = conv2dInputGrad(gy, g), ḡy = conv2d(x, g)
///
/// Backwards of backwards close over the same three ops, so double backward through a conv is
/// exact. Stride and padding (the same on both axes) are carried unchanged throughout. Gradients
/// are computed only for inputs that need them: the data batch feeding the first conv never
/// costs a transposed convolution.
extension Variable {
    /// `y[n, o, i, j] = Σ_{c,u,v} w[o, c, u, v] · x[n, c, i·s − p + u, j·s − p + v]` for an input
    /// `[N, C, H, W]` and weight `[O, C, KH, KW]`; no bias. Validate user shapes with
    /// `Shape.conv2d` first.
    public func conv2d(_ weight: Variable, stride: Int = 1, padding: Int = 0) -> Variable {
        let x = self
        return Variable.record(x.value.conv2d(weight.value, stride: stride, padding: padding), [x, weight]) { g in
            // Without a recorded graph, both gradients in one call (one pass over g where the
            // kernel can, `Tensor.conv2dGradients`); the same values as the two ops below.
            if !GradMode.isEnabled && x.requiresGrad && weight.requiresGrad {
                let (dx, dw) = Tensor.conv2dGradients(x.value, g.value, weight.value, stride: stride, padding: padding)
                return [Variable(dx), Variable(dw)]
            }
            return [x.requiresGrad ? Variable.conv2dInputGrad(g, weight, inputShape: x.shape, stride: stride, padding: padding) : nil,
             weight.requiresGrad ? Variable.conv2dWeightGrad(x, g, weightShape: weight.shape, stride: stride, padding: padding) : nil]
        }
    }

    /// `∂⟨conv2d(x, w), gy⟩/∂x` for an `x` of `inputShape`: the transposed convolution of `gy`.
    public static func conv2dInputGrad(_ gy: Variable, _ weight: Variable, inputShape: [Int],
                                       stride: Int = 1, padding: Int = 0) -> Variable {
        let value = Tensor.conv2dInputGrad(gy.value, weight.value, inputShape: inputShape, stride: stride, padding: padding)
        return record(value, [gy, weight]) { g in
            [gy.requiresGrad ? g.conv2d(weight, stride: stride, padding: padding) : nil,
             weight.requiresGrad ? conv2dWeightGrad(g, gy, weightShape: weight.shape, stride: stride, padding: padding) : nil]
        }
    }

    /// `∂⟨conv2d(x, w), gy⟩/∂w` for a `w` of `weightShape`.
    public static func conv2dWeightGrad(_ x: Variable, _ gy: Variable, weightShape: [Int],
                                        stride: Int = 1, padding: Int = 0) -> Variable {
        let value = Tensor.conv2dWeightGrad(x.value, gy.value, weightShape: weightShape, stride: stride, padding: padding)
        return record(value, [x, gy]) { g in
            [x.requiresGrad ? conv2dInputGrad(gy, g, inputShape: x.shape, stride: stride, padding: padding) : nil,
             gy.requiresGrad ? x.conv2d(g, stride: stride, padding: padding) : nil]
        }
    }
}
