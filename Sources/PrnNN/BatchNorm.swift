import PrnKernel
import PrnAutograd

/// Batch normalization over the channel axis (axis 1) of `[N, C]` or `[N, C, H, W]` inputs:
///
/// ```
/// y = γ · (x − μ) · (σ² + ε)^(−1/2) + β
/// ```
///
/// In training mode μ and σ² are the batch's (biased variance), and the running statistics move
/// toward them with `momentum` (PyTorch's convention, unbiased variance in the running
/// estimate); in eval mode the running statistics are used. γ and β are parameters, never
/// prunable; the running statistics are buffers (constants of the graph). Both modes are the
/// fused primitive `Variable.batchNorm`.
public final class BatchNorm: ReLUFusing {
    public let channels: Int
    public let epsilon: Float = 1e-5
    public let momentum: Float = 0.1

    public init(_ channels: Int) { self.channels = channels }

    public var slots: [Slot] {
        [Slot("weight", [channels], .parameter(prunable: false), initializer: .normScale, fanIn: 1),
         Slot("bias", [channels], .parameter(prunable: false), initializer: .normShift, fanIn: 1),
         Slot("running_mean", [channels], .buffer, initializer: .runningMean, fanIn: 1),
         Slot("running_var", [channels], .buffer, initializer: .runningVariance, fanIn: 1)]
    }

    public func forward(_ x: Variable, _ scope: Scope) -> Variable { forward(x, scope, relu: false) }

    public func forward(_ x: Variable, _ scope: Scope, relu: Bool) -> Variable { forward(x, scope, relu: relu, adding: nil) }

    /// The forward, plus `residual` when given, followed by a ReLU when `relu`: one fused node
    /// (`ResidualBlock` ends with `relu(bn2(h) + skip)` this way).
    public func forward(_ x: Variable, _ scope: Scope, relu: Bool, adding residual: Variable?) -> Variable {
        let scale = scope["weight"], shift = scope["bias"]
        guard scope.training else {
            return x.batchNorm(scale: scale, shift: shift, mean: scope["running_mean"].value,
                               variance: scope["running_var"].value, epsilon: epsilon, relu: relu, adding: residual)
        }
        let (y, mean, variance) = x.batchNorm(scale: scale, shift: shift, epsilon: epsilon, relu: relu, adding: residual)
        let n = Float(x.shape[0] * x.shape.dropFirst(2).reduce(1, *))
        let unbiased = variance * (n / Swift.max(n - 1, 1))
        scope.update("running_mean", scope["running_mean"].value * (1 - momentum) + mean * momentum)
        scope.update("running_var", scope["running_var"].value * (1 - momentum) + unbiased * momentum)
        return y
    }
}
