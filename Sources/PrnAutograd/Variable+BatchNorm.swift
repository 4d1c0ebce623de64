import PrnKernel

/// Batch normalization as one recorded primitive, over the channel axis (1) of `[N, C, …]`:
///
///     x̂ = (x − μ) · (σ² + ε)^(−1/2),    y = x̂ · γ + β        (μ, σ², γ, β per channel)
///
/// With the batch's statistics (training), μ and σ² depend on x and the input gradient is
///
///     dx = ((g − mean(g)) − x̂ · mean(g·x̂)) · γ(σ² + ε)^(−1/2),   dγ = Σ g·x̂,   dβ = Σ g
///
/// (means and sums over every axis but 1); with fixed running statistics (eval), `dx = g·γ(σ² + ε)^(−1/2)`.
/// With `relu`, the output is `max(y, 0)` and `g` is first gated by `y > 0` (read on the fly by
/// the fused kernels, from the gate's bits): one node instead of two, so the pre-activation `y`
/// is never kept for the backward. An upstream gradient in two parts (the node's output used
/// twice) is added as the kernel reads it (`Variable.backwardOfSum`). With a residual `r`, the output is `y + r` (then the ReLU), and `r`'s gradient is
/// the (gated) `g`: a residual block's sum and ReLU add no pass and keep no tensor of their own.
///
/// The forward and, when no graph is being recorded, the backward run as fused kernels
/// (`Tensor+BatchNorm.swift`): a few sweeps of memory and no temporaries. When the backward is
/// itself recorded (`createGraph`, as GraSP's Hessian–vector product needs), the same formulas
/// are built from differentiable ops — μ, σ² and x̂ recomputed from x — so every higher derivative
/// is exact. The kernels perform exactly the floating-point operations of that composition, in
/// the same order, so both routes give the same bits.
extension Variable {
    /// Batch norm with the batch's own statistics; returns the output and the batch's mean and
    /// biased variance (shape `[C]`) for the running estimates. `scale` (γ) and `shift` (β) have
    /// shape `[C]`. With `residual` (of `x`'s shape), the output is `bn(x) + residual` before the
    /// optional ReLU — a residual block's `relu(bn(h) + skip)` as one node.
    public func batchNorm(scale: Variable, shift: Variable, epsilon: Float, relu: Bool = false,
                          adding residual: Variable? = nil) -> (output: Variable, mean: Tensor, variance: Tensor) {
        let forward = value.batchNormalized(scale: scale.value, shift: shift.value, epsilon: epsilon, relu: relu,
                                            adding: residual?.value)
        let output = recorded(forward.output, scale: scale, shift: shift, mean: forward.mean, variance: forward.variance,
                              invStd: forward.invStd, batchStatistics: true, epsilon: epsilon, gate: forward.gate, residual: residual)
        return (output, forward.mean, forward.variance)
    }

    /// Batch norm with fixed statistics `mean` and `variance` (shape `[C]`, constants: no
    /// gradient reaches them); `residual` as above.
    public func batchNorm(scale: Variable, shift: Variable, mean: Tensor, variance: Tensor, epsilon: Float,
                          relu: Bool = false, adding residual: Variable? = nil) -> Variable {
        let invStd = (variance + epsilon).pow(-0.5)
        let forward = value.batchNormalized(mean: mean, invStd: invStd, scale: scale.value, shift: shift.value, relu: relu,
                                            adding: residual?.value)
        return recorded(forward.output, scale: scale, shift: shift, mean: mean, variance: variance, invStd: invStd,
                        batchStatistics: false, epsilon: epsilon, gate: forward.gate, residual: residual)
    }

    /// The node of both batch norms, whose output `y` is computed: `mean` and `variance` are the
    /// batch's own (`batchStatistics`, then they depend on x) or fixed, `invStd` is
    /// `(variance + ε)^(−1/2)`; `gate` is the forward's, with its ReLU.
    private func recorded(_ y: Tensor, scale: Variable, shift: Variable, mean: Tensor, variance: Tensor, invStd: Tensor,
                          batchStatistics: Bool, epsilon: Float, gate: ReLUGate?, residual: Variable?) -> Variable {
        let x = self
        // Without a recorded graph: the kernel, reading the upstream gradient `g` (plus
        // `addend`, the sum's second part, when given) once. The residual's gradient is the
        // gated gradient itself: the kernel writes it out as it reads it.
        func kernel(_ g: Tensor, plus addend: Tensor?) -> [Variable?] {
            let result = Tensor.batchNormBackward(g, plus: addend, x.value, mean: mean, invStd: invStd, scale: scale.value,
                                                  batchStatistics: batchStatistics, gate: gate,
                                                  keepGated: residual != nil, inputGradient: x.requiresGrad)
            return [result.dx.map { Variable($0) }, Variable(result.sums.projection), Variable(result.sums.gradient)]
                + (residual.map { [$0.requiresGrad ? Variable(result.gated ?? g) : nil] } ?? [])
        }
        return Variable.record(y, [x, scale, shift] + (residual.map { [$0] } ?? []), backwardOfSum: { kernel($0, plus: $1) }) { upstream in
            guard GradMode.isEnabled else { return kernel(upstream.value, plus: nil) }
            let g = gate != nil ? upstream.reluGated(by: y) : upstream
            return Variable.batchNormBackward(g, x, scale, statistics: batchStatistics ? nil : (mean, variance), epsilon: epsilon)
                + (residual.map { [$0.requiresGrad ? g : nil] } ?? [])
        }
    }

    /// Σ over every axis but 1 of an `[N, C, …]` input, shaped `[1, C, 1, …]`, in
    /// `Tensor.channelSums`' order (the order of batch norm's fused kernels); backward broadcasts.
    public func channelSum() -> Variable {
        let shape = self.shape
        let kept = [1, shape[1]] + [Int](repeating: 1, count: shape.count - 2)
        return Variable.record(value.channelSums().reshaped(kept), [self]) { g in [g.broadcast(to: shape)] }
    }

    /// `[dx, dγ, dβ]` from differentiable ops: the formulas above with μ, σ² and x̂ recomputed
    /// from `x` (batch statistics, `statistics` nil) or taken as constants. Each step is the
    /// `Tensor` op the fused kernels replicate, in their order.
    static func batchNormBackward(_ g: Variable, _ x: Variable, _ scale: Variable,
                                  statistics: (mean: Tensor, variance: Tensor)?, epsilon: Float) -> [Variable?] {
        let axes = [0] + Array(2..<x.shape.count)
        let channels = x.shape[1]
        let perChannel = [1, channels] + [Int](repeating: 1, count: x.shape.count - 2)
        let normalized: Variable, invStd: Variable
        let invN = 1 / Float(Swift.max(axes.reduce(1) { $0 * x.shape[$1] }, 1))
        if let statistics {
            invStd = Variable((statistics.variance + epsilon).pow(-0.5).reshaped(perChannel))
            normalized = (x - Variable(statistics.mean.reshaped(perChannel))) * invStd
        } else {
            let mean = x.channelSum() * invN
            let centered = x - mean
            invStd = ((centered * centered).channelSum() * invN + epsilon).pow(-0.5)
            normalized = centered * invStd
        }
        let gradientSum = g.channelSum()
        let projectionSum = (g * normalized).channelSum()
        let k = scale.reshaped(perChannel) * invStd
        var dx: Variable?
        if x.requiresGrad {
            if statistics == nil {
                dx = ((g - gradientSum * invN) - normalized * (projectionSum * invN)) * k
            } else {
                dx = g * k
            }
        }
        return [dx, projectionSum.reshaped([channels]), gradientSum.reshaped([channels])]
    }
}
