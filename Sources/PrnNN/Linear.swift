import PrnKernel
import PrnAutograd

/// A fully connected layer: `y = x · Wᵀ + b`, with `W` of shape `[out, in]` (PyTorch's layout,
/// so checkpoints read the same in both). The weight is prunable; the bias is not.
public final class Linear: ReLUFusing {
    public let inputs: Int, outputs: Int, hasBias: Bool

    public init(_ inputs: Int, _ outputs: Int, bias: Bool = true) {
        self.inputs = inputs
        self.outputs = outputs
        self.hasBias = bias
    }

    public var slots: [Slot] {
        var s = [Slot("weight", [outputs, inputs], .parameter(prunable: true), initializer: .weight(fanOut: outputs), fanIn: inputs)]
        if hasBias { s.append(Slot("bias", [outputs], .parameter(prunable: false), initializer: .bias, fanIn: inputs)) }
        return s
    }

    public func forward(_ x: Variable, _ scope: Scope) -> Variable { forward(x, scope, relu: false) }

    /// The forward, followed by a ReLU when `relu`; the bias and the ReLU are one fused node
    /// (`addingChannelBias`: the features are channel axis 1 of `[B, out]`), with the numbers of
    /// `y + b` and `relu()`, the bias gradient summed over the batch in order as `sum(to:)` does.
    /// A weight that runs sparse takes its bias and ReLU in the same node
    /// (`sparseLinear(_:_:bias:relu:featureMajor:)`).
    public func forward(_ x: Variable, _ scope: Scope, relu: Bool) -> Variable {
        let y: Variable
        if let sparse = scope.sparse("weight") {
            let featureMajor = scope.context.featureMajor(of: x.value)
            if hasBias { return x.sparseLinear(sparse.parameter, sparse.topology, bias: scope["bias"], relu: relu, featureMajor: featureMajor) }
            y = x.sparseLinear(sparse.parameter, sparse.topology, featureMajor: featureMajor)
        } else {
            y = x.matmul(scope["weight"], transB: true)
        }
        guard hasBias else { return relu ? y.relu() : y }
        return y.addingChannelBias(scope["bias"], relu: relu)
    }
}

/// `max(x, 0)`.
public final class ReLU: Layer {
    public init() {}
    public func forward(_ x: Variable, _ scope: Scope) -> Variable { x.relu() }
}

/// Flattens every axis after the batch axis.
public final class Flatten: Layer {
    public init() {}
    public func forward(_ x: Variable, _ scope: Scope) -> Variable {
        x.reshaped([x.shape[0], x.shape.dropFirst().reduce(1, *)])
    }
}

/// Layers applied in order; children keep the names given (`fc1`, `conv1`, …). A `ReLUFusing`
/// layer followed by a ReLU runs as one fused node (the same numbers, one activation fewer kept).
public final class Sequential: Layer {
    public let children: [(name: String, layer: Layer)]

    public init(_ children: [(String, Layer)]) {
        self.children = children.map { (name: $0.0, layer: $0.1) }
    }

    public func forward(_ x: Variable, _ scope: Scope) -> Variable {
        var h = x, i = 0
        while i < children.count {
            let child = children[i]
            if let fusing = child.layer as? ReLUFusing, i + 1 < children.count, children[i + 1].layer is ReLU {
                h = fusing.forward(h, scope.child(child.name), relu: true)
                i += 2
            } else {
                h = child.layer.forward(h, scope.child(child.name))
                i += 1
            }
        }
        return h
    }
}
