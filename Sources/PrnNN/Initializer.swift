import PrnKernel

/// How fresh parameters are drawn (METHODS.md, Initialization).
///
/// - `kaiming_normal`: weights `N(0, 2/fan_in)`, biases 0, batch-norm γ = 1, β = 0.
/// - `pytorch_default`: weights and biases `U(−1/√fan_in, 1/√fan_in)`.
/// - `xavier`: weights `N(0, 2/(fan_in + fan_out))`, biases 0.
/// Buffers start at their neutral values (running mean 0, running variance 1).
public enum Initializer: String, CaseIterable, Codable, Sendable {
    case kaimingNormal = "kaiming_normal"
    case pytorchDefault = "pytorch_default"
    case xavier

    /// What a slot is, which decides its distribution under each scheme.
    public enum Role: Sendable {
        case weight(fanOut: Int)
        case bias
        case normScale
        case normShift
        case runningMean
        case runningVariance
    }

    /// A fresh tensor for `slot`, drawn from `rng`.
    public func sample(_ slot: Slot, rng: inout RNG) -> Tensor {
        let fanIn = Float(Swift.max(slot.fanIn, 1))
        switch (self, slot.initializer) {
        case (.kaimingNormal, .weight):
            return Tensor.randn(slot.shape, std: (2 / fanIn).squareRoot(), rng: &rng)
        case (.xavier, .weight(let fanOut)):
            return Tensor.randn(slot.shape, std: (2 / (fanIn + Float(fanOut))).squareRoot(), rng: &rng)
        case (.pytorchDefault, .weight), (.pytorchDefault, .bias):
            let bound = 1 / fanIn.squareRoot()
            return Tensor.rand(slot.shape, low: -bound, high: bound, rng: &rng)
        case (_, .bias), (_, .normShift), (_, .runningMean):
            return Tensor.zeros(slot.shape)
        case (_, .normScale), (_, .runningVariance):
            return Tensor.ones(slot.shape)
        }
    }
}
