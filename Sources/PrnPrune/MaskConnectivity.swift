import PrnKernel
import PrnAutograd
import PrnNN

/// A prunable tensor's unpruned weights, and how many of them still lie on an input–output path.
public struct LayerConnectivity: Equatable, Sendable {
    public let path: String
    /// Weights in the tensor.
    public let total: Int
    /// Unpruned weights (mask 1).
    public let kept: Int
    /// Unpruned weights on some path from the input to the output.
    public let effective: Int

    /// `kept / total`.
    public var density: Double { total == 0 ? 1 : Double(kept) / Double(total) }
    /// `effective / total`: the density the network really has. Below `density` when pruning
    /// cut units off (layer collapse at extreme sparsity).
    public var effectiveDensity: Double { total == 0 ? 1 : Double(effective) / Double(total) }
}

/// Which unpruned weights still connect the input to the output (METHODS.md, effective density).
///
/// A weight is *effective* when it is unpruned, its input unit is reachable from the input, and
/// its output unit reaches the output. That is SynFlow's score on the mask network: with weights
/// `W̃ = c_l · m` (0/1 masks, dense layers all ones), biases 0, an all-ones input, and
/// `R = Σ outputs`, every activation is a positive sum over the paths that reach it and every
/// `∂R/∂W̃ᵢ` a positive sum over the paths through weight i, so
///
/// ```
/// effective_i  ⇔  (∂R/∂W̃ ⊙ W̃)_i > 0  ⇔  m_i = 1 and ∂R/∂W̃_i > 0
/// ```
///
/// Only positivity matters, so each layer's weights carry `c_l = 1/√fan_in`: a path's product is
/// then `∏ 1/√fan_in` and a dense layer multiplies activations by `√fan_in`, which keeps every
/// value between about `∏ fan_in^−½` and `∏ fan_in^½` — 10^±23 for VGG-16 and ResNet-20,
/// inside Float32 — where plain 0/1 weights would overflow (VGG-16 has ~10^44 paths) and
/// `1/fan_in` would underflow. A value that still overflows makes this throw.
///
/// Batch norm is treated as the identity for connectivity: γ = 1, β = 0, running mean 0 and
/// running variance 1 (a positive factor `1/√(1 + ε)`), since its parameters never cut a path.
/// ReLU passes positive values unchanged; average pooling and residual sums add paths. Max pooling
/// routes the gradient through one position per window (the first, on the ties an all-ones input
/// makes); a conv weight is shared across positions, so it still counts as effective wherever
/// its channels connect.
public enum Connectivity {
    /// 0/1 masks of the effective weights, per prunable path.
    public static func effectiveMasks(_ model: Model) throws -> [String: Tensor] {
        let paths = model.prunablePaths
        var state: [String: Tensor] = [:]
        var leaves: [Variable] = []
        for (path, slot) in model.slots {
            let shape = slot.shape
            switch slot.initializer {
            case .weight:
                let c = 1 / Float(Swift.max(slot.fanIn, 1)).squareRoot()
                let w = model.masks[path].map { $0.map { $0 != 0 ? c : 0 } } ?? Tensor(repeating: c, shape: shape)
                state[path] = w
                if slot.isPrunable { leaves.append(Variable(w, requiresGrad: true)) }
            case .bias, .normShift, .runningMean:
                state[path] = Tensor.zeros(shape)
            case .normScale, .runningVariance:
                state[path] = Tensor.ones(shape)
            }
        }
        let network = model.withMasks([:]).updating(state)
        let bound = Dictionary(uniqueKeysWithValues: zip(paths, leaves))
        let input = Tensor.ones([1] + model.architecture.inputShape)
        let r = network.forward(Variable(input), parameters: bound, training: false).output.sum()
        guard r.value.isFinite else { throw PruneError("effective density: path counts overflow Float32 on this model") }
        let gradients = grad(of: r, wrt: leaves)
        var result: [String: Tensor] = [:]
        for (path, (leaf, g)) in zip(paths, zip(leaves, gradients)) {
            guard g.value.isFinite else { throw PruneError("effective density: path counts overflow Float32 in \(path)") }
            result[path] = Tensor.zip(leaf.value, g.value) { w, g in w > 0 && g > 0 ? 1 : 0 }
        }
        return result
    }

    /// Per prunable tensor: total, kept and effective counts.
    public static func effectiveDensity(_ model: Model) throws -> [LayerConnectivity] {
        let effective = try effectiveMasks(model)
        return LayerDensity.of(model).map { layer in
            let count = effective[layer.path]!.scalars.reduce(0) { $0 + ($1 != 0 ? 1 : 0) }
            return LayerConnectivity(path: layer.path, total: layer.total, kept: layer.kept, effective: count)
        }
    }
}
