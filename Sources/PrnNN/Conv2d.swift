import PrnKernel
import PrnAutograd

/// A 2-D convolution over `[N, C, H, W]` inputs: `y = conv2d(x, W) + b` with `W` of shape
/// `[out, in, k, k]` (PyTorch's layout), square kernel, stride and zero padding. The weight is
/// prunable; the bias (absent when a batch norm follows) is not. `fan_in = in·k·k`.
public final class Conv2d: ReLUFusing {
    public let inputs: Int, outputs: Int, kernel: Int, stride: Int, padding: Int, hasBias: Bool

    public init(_ inputs: Int, _ outputs: Int, kernel: Int = 3, stride: Int = 1, padding: Int = 1, bias: Bool = true) {
        self.inputs = inputs
        self.outputs = outputs
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.hasBias = bias
    }

    public var slots: [Slot] {
        let fanIn = inputs * kernel * kernel
        var s = [Slot("weight", [outputs, inputs, kernel, kernel], .parameter(prunable: true),
                      initializer: .weight(fanOut: outputs * kernel * kernel), fanIn: fanIn)]
        if hasBias { s.append(Slot("bias", [outputs], .parameter(prunable: false), initializer: .bias, fanIn: fanIn)) }
        return s
    }

    public func forward(_ x: Variable, _ scope: Scope) -> Variable { forward(x, scope, relu: false) }

    /// The forward, followed by a ReLU when `relu`; the bias and the ReLU are one fused node.
    public func forward(_ x: Variable, _ scope: Scope, relu: Bool) -> Variable {
        let y: Variable
        if let sparse = scope.sparse("weight"),
           SparseSelection.convolutionRunsSparse(input: x.shape, weight: sparse.mask.shape, stride: stride, padding: padding,
                                                 density: sparse.topology.density, mode: SparseMode.current) {
            y = x.sparseConv2d(sparse.parameter, sparse.topology, stride: stride, padding: padding)
        } else {
            y = x.conv2d(scope["weight"], stride: stride, padding: padding)
        }
        guard hasBias else { return relu ? y.relu() : y }
        return y.addingChannelBias(scope["bias"], relu: relu)
    }
}

/// Max over `k × k` windows with stride `k`.
public final class MaxPool2d: Layer {
    public let kernel: Int
    public init(_ kernel: Int = 2) { self.kernel = kernel }
    public func forward(_ x: Variable, _ scope: Scope) -> Variable { x.maxPool2d(kernel: kernel) }
}

/// Mean over `k × k` windows with stride `k`.
public final class AvgPool2d: Layer {
    public let kernel: Int
    public init(_ kernel: Int = 2) { self.kernel = kernel }
    public func forward(_ x: Variable, _ scope: Scope) -> Variable { x.avgPool2d(kernel: kernel) }
}

/// Mean over the spatial axes: `[N, C, H, W]` → `[N, C]`.
public final class GlobalAvgPool: Layer {
    public init() {}
    public func forward(_ x: Variable, _ scope: Scope) -> Variable { x.mean(axes: [2, 3]) }
}

/// The basic residual block of CIFAR ResNets (He et al. 2016):
/// `relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))`, where the shortcut is the identity,
/// or a 1×1 convolution with batch norm when the block changes shape (open_lth's choice).
public final class ResidualBlock: Layer {
    let body: [(name: String, layer: Layer)]
    let shortcut: Sequential?

    public init(_ inputs: Int, _ outputs: Int, stride: Int) {
        body = [("conv1", Conv2d(inputs, outputs, kernel: 3, stride: stride, padding: 1, bias: false)),
                ("bn1", BatchNorm(outputs)),
                ("conv2", Conv2d(outputs, outputs, kernel: 3, stride: 1, padding: 1, bias: false)),
                ("bn2", BatchNorm(outputs))]
        shortcut = (stride != 1 || inputs != outputs)
            ? Sequential([("0", Conv2d(inputs, outputs, kernel: 1, stride: stride, padding: 0, bias: false)),
                          ("1", BatchNorm(outputs))])
            : nil
    }

    public var children: [(name: String, layer: Layer)] {
        body + (shortcut.map { [(name: "shortcut", layer: $0 as Layer)] } ?? [])
    }

    public func forward(_ x: Variable, _ scope: Scope) -> Variable {
        func apply(_ i: Int, _ h: Variable) -> Variable { body[i].layer.forward(h, scope.child(body[i].name)) }
        let bn1 = body[1].layer as! BatchNorm, bn2 = body[3].layer as! BatchNorm
        let h = apply(2, bn1.forward(apply(0, x), scope.child(body[1].name), relu: true))
        let skip = shortcut.map { $0.forward(x, scope.child("shortcut")) } ?? x
        // bn2, the sum and the ReLU are one node: one pass, one tensor kept.
        return bn2.forward(h, scope.child(body[3].name), relu: true, adding: skip)
    }
}
