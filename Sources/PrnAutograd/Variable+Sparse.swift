import PrnKernel

/// A masked fully connected product as three recorded primitives that are each other's
/// gradients, computed over the kept weights only (`Tensor+Sparse.swift`).
///
/// With `P_S(w)` the weight with every entry outside the topology `S` set to 0, the trilinear form
/// `T(x, w, g) = ⟨x · P_S(w)ᵀ, g⟩` has the three ops as its partial derivatives:
///
///     ∂T/∂g = sparseLinear(x, w)
///     ∂T/∂x = sparseLinearInputGrad(g, w)
///     ∂T/∂w = sparseLinearWeightGrad(x, g)      (0 outside S)
///
/// The backward of each op with upstream gradient `u` differentiates `⟨op(a, b), u⟩`, which is `T`
/// with `u` in the op's output slot, so it is again two of the three ops:
///
///     sparseLinear(x, w):            x̄ = sparseLinearInputGrad(u, w),  w̄ = sparseLinearWeightGrad(x, u)
///     sparseLinearInputGrad(g, w):   ḡ = sparseLinear(u, w),            w̄ = sparseLinearWeightGrad(u, g)
///     sparseLinearWeightGrad(x, g):  x̄ = sparseLinearInputGrad(g, u),  ḡ = sparseLinear(x, u)
///
/// so double backward (GraSP's Hessian–vector products) stays exact and sparse. `w` is the dense
/// parameter; entries outside `S` are never read and get zero gradient, the same as through
/// `x.matmul(w * mask, transB: true)`. `w` may instead be compact (`SparseTopology.compact`: the
/// kept values only, as training binds it); its gradients are then compact too.
extension Variable {
    /// `x · P_S(w)ᵀ` for an input `[B, I]` and a weight `[O, I]` with kept positions `topology`.
    ///
    /// The products run on feature-major copies of their batch operands (`Tensor+Sparse.swift`):
    /// the forward's copy of `x` is kept for the weight gradient, and the backward transposes the
    /// upstream gradient once for both of its products. `featureMajor`, when the caller has it,
    /// is `x.value.transposed()` (every feature), and saves making it.
    public func sparseLinear(_ weight: Variable, _ topology: SparseTopology, featureMajor: Tensor? = nil) -> Variable {
        let x = self
        let xT = topology.featureMajorInput(x.value, transposed: featureMajor)
        return Variable.record(x.value.sparseLinear(weight.value, topology, featureMajor: xT), [x, weight]) { u in
            let uT = topology.featureMajorGradient(u.value)
            return [x.requiresGrad ? Variable.sparseLinearInputGrad(u, weight, topology, featureMajor: uT) : nil,
                    weight.requiresGrad ? Variable.sparseLinearWeightGrad(x, u, topology, weightShape: weight.shape,
                                                                          featureMajor: (xT, uT)) : nil]
        }
    }

    /// `x · P_S(w)ᵀ + b`, then `max(·, 0)` when `relu`: `sparseLinear` followed by
    /// `addingChannelBias(bias, relu:)` (a linear layer's bias and ReLU), as one node with their
    /// numbers, computed in fewer passes (`Tensor.sparseLinear(_:_:bias:relu:featureMajor:)`).
    /// The backward is the two nodes' backward in the same ops: the upstream gradient gated by
    /// the output's sign, then the three gradients from it.
    public func sparseLinear(_ weight: Variable, _ topology: SparseTopology, bias: Variable, relu: Bool,
                             featureMajor: Tensor? = nil) -> Variable {
        let x = self
        let xT = topology.featureMajorInput(x.value, transposed: featureMajor)
        let y = x.value.sparseLinear(weight.value, topology, bias: bias.value, relu: relu, featureMajor: xT)
        return Variable.record(y, [x, weight, bias]) { upstream in
            let u = relu ? upstream.reluGated(by: y) : upstream
            let uT = topology.featureMajorGradient(u.value)
            return [x.requiresGrad ? Variable.sparseLinearInputGrad(u, weight, topology, featureMajor: uT) : nil,
                    weight.requiresGrad ? Variable.sparseLinearWeightGrad(x, u, topology, weightShape: weight.shape,
                                                                          featureMajor: (xT, uT)) : nil,
                    bias.requiresGrad ? u.channelSum().reshaped(bias.shape) : nil]
        }
    }

    /// `g · P_S(w)`: the gradient of `sparseLinear` with respect to its input. `featureMajor`,
    /// when the caller has it, is `topology.featureMajorGradient(g.value)`.
    public static func sparseLinearInputGrad(_ g: Variable, _ weight: Variable, _ topology: SparseTopology,
                                             featureMajor: Tensor? = nil) -> Variable {
        record(Tensor.sparseLinearInputGrad(g.value, weight.value, topology, featureMajor: featureMajor), [g, weight]) { u in
            [g.requiresGrad ? u.sparseLinear(weight, topology) : nil,
             weight.requiresGrad ? sparseLinearWeightGrad(u, g, topology, weightShape: weight.shape) : nil]
        }
    }

    /// `P_S(gᵀ · x)` of `weightShape`: the gradient of `sparseLinear` with respect to its weight.
    /// `featureMajor`, when the caller has them, are `topology.featureMajorInput(x.value)` and
    /// `topology.featureMajorGradient(g.value)`.
    public static func sparseLinearWeightGrad(_ x: Variable, _ g: Variable, _ topology: SparseTopology,
                                              weightShape: [Int], featureMajor: (x: Tensor, g: Tensor)? = nil) -> Variable {
        let value = Tensor.sparseLinearWeightGrad(x.value, g.value, topology, weightShape: weightShape, featureMajor: featureMajor)
        return record(value, [x, g]) { u in
            [x.requiresGrad ? sparseLinearInputGrad(g, u, topology) : nil,
             g.requiresGrad ? x.sparseLinear(u, topology) : nil]
        }
    }
}

/// The convolution family of `Variable+Conv.swift` over a masked weight's kept positions: the
/// same trilinear closure, with `P_S` applied to the weight slot throughout.
extension Variable {
    /// `conv2d(x, P_S(w))`.
    public func sparseConv2d(_ weight: Variable, _ topology: SparseTopology, stride: Int = 1, padding: Int = 0) -> Variable {
        let x = self
        return Variable.record(x.value.sparseConv2d(weight.value, topology, stride: stride, padding: padding), [x, weight]) { u in
            [x.requiresGrad ? Variable.sparseConv2dInputGrad(u, weight, topology, inputShape: x.shape, stride: stride, padding: padding) : nil,
             weight.requiresGrad ? Variable.sparseConv2dWeightGrad(x, u, topology, weightShape: weight.shape, stride: stride, padding: padding) : nil]
        }
    }

    /// `conv2dInputGrad(gy, P_S(w))`.
    public static func sparseConv2dInputGrad(_ gy: Variable, _ weight: Variable, _ topology: SparseTopology, inputShape: [Int],
                                             stride: Int = 1, padding: Int = 0) -> Variable {
        let value = Tensor.sparseConv2dInputGrad(gy.value, weight.value, topology, inputShape: inputShape, stride: stride, padding: padding)
        return record(value, [gy, weight]) { u in
            [gy.requiresGrad ? u.sparseConv2d(weight, topology, stride: stride, padding: padding) : nil,
             weight.requiresGrad ? sparseConv2dWeightGrad(u, gy, topology, weightShape: weight.shape, stride: stride, padding: padding) : nil]
        }
    }

    /// `P_S(conv2dWeightGrad(x, gy))`.
    public static func sparseConv2dWeightGrad(_ x: Variable, _ gy: Variable, _ topology: SparseTopology, weightShape: [Int],
                                              stride: Int = 1, padding: Int = 0) -> Variable {
        let value = Tensor.sparseConv2dWeightGrad(x.value, gy.value, topology, weightShape: weightShape, stride: stride, padding: padding)
        return record(value, [x, gy]) { u in
            [x.requiresGrad ? sparseConv2dInputGrad(gy, u, topology, inputShape: x.shape, stride: stride, padding: padding) : nil,
             gy.requiresGrad ? x.sparseConv2d(u, topology, stride: stride, padding: padding) : nil]
        }
    }
}

/// A compact weight (`SparseTopology.compact`: its kept values only) and its dense form `P_S(w)`,
/// as two recorded primitives that are each other's adjoints, so a layer bound compact can still
/// run a dense product (and double backward stays exact).
extension Variable {
    /// The dense weight of the topology's shape holding this compact weight's values at the kept
    /// positions and zeros elsewhere; its gradient is the upstream gradient gathered there.
    public func sparseExpanded(_ topology: SparseTopology) -> Variable {
        precondition(topology.isCompact(shape), "sparseExpanded: \(shape) is not compact for \(topology.count) kept weights")
        return Variable.record(topology.gradient(value.scalars, shape: topology.shape), [self]) { u in
            [u.sparseGathered(topology)]
        }
    }

    /// The compact weight of a dense one: its values at the kept positions, in row order.
    public func sparseGathered(_ topology: SparseTopology) -> Variable {
        Variable.record(topology.compact(value), [self]) { u in [u.sparseExpanded(topology)] }
    }
}
