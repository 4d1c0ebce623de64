import PrnKernel

extension Variable {
    /// `x + b` with `b` of shape `[C]` broadcast along channel axis 1 of an `[N, C, …]` input,
    /// then `max(·, 0)` when `relu`: one node, computed in one pass, with the numbers of
    /// `x + b.reshaped([1, C, 1, …])` followed by `relu()`. The backward is those ops' backward
    /// (`g · step(y)` for the ReLU, summed over every axis but 1 for the bias), in plain ops, so it
    /// is differentiable again.
    public func addingChannelBias(_ bias: Variable, relu: Bool) -> Variable {
        let x = self
        let perChannel = [1, bias.shape[0]] + [Int](repeating: 1, count: x.shape.count - 2)
        let y = x.value.addingChannelBias(bias.value, relu: relu)
        return Variable.record(y, [x, bias]) { upstream in
            let g = relu ? Variable.reluGate(upstream, output: y) : upstream
            return [x.requiresGrad ? g : nil, bias.requiresGrad ? g.sum(to: perChannel).reshaped(bias.shape) : nil]
        }
    }
}
