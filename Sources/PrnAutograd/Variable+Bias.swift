import PrnKernel

extension Variable {
    /// `x + b` with `b` of shape `[C]` broadcast along channel axis 1 of an `[N, C, …]` input,
    /// then `max(·, 0)` when `relu`: one node, computed in one pass, with the numbers of
    /// `x + b.reshaped([1, C, 1, …])` followed by `relu()`. The backward is those ops' backward
    /// (`g · step(y)` for the ReLU; for the bias, `g` summed over every axis but 1 by
    /// `channelSum`, batch norm's vectorized order), in differentiable ops.
    public func addingChannelBias(_ bias: Variable, relu: Bool) -> Variable {
        let x = self
        let y = x.value.addingChannelBias(bias.value, relu: relu)
        return Variable.record(y, [x, bias]) { upstream in
            let g = relu ? upstream.reluGated(by: y) : upstream
            return [x.requiresGrad ? g : nil, bias.requiresGrad ? g.channelSum().reshaped(bias.shape) : nil]
        }
    }
}
