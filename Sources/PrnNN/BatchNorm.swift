import PrnKernel
import PrnAutograd

/// Batch normalization over the channel axis (axis 1) of `[N, C]` or `[N, C, H, W]` inputs:
///
/// ```
/// y = γ · (x − μ) / √(σ² + ε) + β
/// ```
///
/// In training mode μ and σ² are the batch's (biased variance), and the running statistics move
/// toward them with `momentum` (PyTorch's convention, unbiased variance in the running
/// estimate); in eval mode the running statistics are used. γ and β are parameters, never
/// prunable; the running statistics are buffers.
public final class BatchNorm: Layer {
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

    public func forward(_ x: Variable, _ scope: Scope) -> Variable {
        // Statistics over every axis but the channel axis; per-channel tensors broadcast as [1, C, 1, …].
        let axes = [0] + Array(2..<x.shape.count)
        let channelShape = [1, channels] + [Int](repeating: 1, count: x.shape.count - 2)
        let mean: Variable, variance: Variable
        if scope.training {
            mean = x.mean(axes: axes, keepDims: true)
            let centered = x - mean
            variance = (centered * centered).mean(axes: axes, keepDims: true)
            let n = Float(axes.reduce(1) { $0 * x.shape[$1] })
            let unbiased = variance.value * (n / Swift.max(n - 1, 1))
            scope.update("running_mean", scope["running_mean"].value * (1 - momentum) + mean.value.reshaped([channels]) * momentum)
            scope.update("running_var", scope["running_var"].value * (1 - momentum) + unbiased.reshaped([channels]) * momentum)
        } else {
            mean = scope["running_mean"].reshaped(channelShape)
            variance = scope["running_var"].reshaped(channelShape)
        }
        let normalized = (x - mean) / (variance + epsilon).sqrt()
        return normalized * scope["weight"].reshaped(channelShape) + scope["bias"].reshaped(channelShape)
    }
}
