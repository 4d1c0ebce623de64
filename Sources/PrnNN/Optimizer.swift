import PrnKernel

/// Updates parameters from their gradients. An optimizer defines only the per-parameter rule
/// `update(_:gradient:state:learningRate:)`; `step` maps it over the model's parameters by path.
public protocol Optimizer {
    /// Per-parameter state (momentum buffers, moments), by path.
    var state: [String: [Tensor]] { get set }
    /// Steps taken so far (Adam's bias correction uses it).
    var steps: Int { get set }
    /// One parameter's update: returns the new value and writes its new state.
    func update(_ parameter: inout Tensor, gradient: Tensor, state: inout [Tensor], learningRate: Float)
}

extension Optimizer {
    /// Applies one step to every parameter that has a gradient.
    public mutating func step(_ parameters: inout [String: Tensor], gradients: [String: Tensor], learningRate: Float) {
        steps += 1
        for path in gradients.keys.sorted() {
            guard var p = parameters[path], let g = gradients[path] else { continue }
            var s = state[path] ?? []
            update(&p, gradient: g, state: &s, learningRate: learningRate)
            parameters[path] = p
            state[path] = s
        }
    }
}

/// Stochastic gradient descent with momentum, optional Nesterov, and L2 weight decay, with
/// PyTorch's semantics (no dampening):
///
/// ```
/// g ← g + λ·w;   v ← μ·v + g;   w ← w − η·(nesterov ? g + μ·v : v)
/// ```
public struct SGD: Optimizer {
    public var momentum: Float, nesterov: Bool, weightDecay: Float
    public var state: [String: [Tensor]] = [:]
    public var steps = 0

    public init(momentum: Float = 0, nesterov: Bool = false, weightDecay: Float = 0) {
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
    }

    public func update(_ parameter: inout Tensor, gradient: Tensor, state: inout [Tensor], learningRate: Float) {
        if state.isEmpty { state = [Tensor.zeros(parameter.shape)] }
        let (mu, wd, lr, nesterov) = (momentum, weightDecay, learningRate, self.nesterov)
        parameter.scalars.withUnsafeMutableBufferPointer { w in
            state[0].scalars.withUnsafeMutableBufferPointer { v in
                gradient.scalars.withUnsafeBufferPointer { g in
                    for i in 0..<w.count {
                        let gi = g[i] + wd * w[i]
                        if mu == 0 { w[i] -= lr * gi; continue }
                        v[i] = mu * v[i] + gi
                        w[i] -= lr * (nesterov ? gi + mu * v[i] : v[i])
                    }
                }
            }
        }
    }
}

/// Adam (Kingma & Ba), with L2 weight decay added to the gradient as PyTorch's `Adam` does:
///
/// ```
/// m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  w ← w − η · m̂ / (√v̂ + ε)
/// ```
public struct Adam: Optimizer {
    public var beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float
    public var state: [String: [Tensor]] = [:]
    public var steps = 0

    public init(weightDecay: Float = 0) { self.weightDecay = weightDecay }

    public func update(_ parameter: inout Tensor, gradient: Tensor, state: inout [Tensor], learningRate: Float) {
        if state.isEmpty { state = [Tensor.zeros(parameter.shape), Tensor.zeros(parameter.shape)] }
        let (b1, b2, eps, wd) = (beta1, beta2, epsilon, weightDecay)
        let t = Float(Swift.max(steps, 1))
        let correction1 = 1 - Foundation.pow(b1, t), correction2 = 1 - Foundation.pow(b2, t)
        let stepSize = learningRate / correction1
        let root2 = correction2.squareRoot()
        var (first, second) = (state[0], state[1])
        state = []  // release the buffers so the moments below are updated in place
        parameter.scalars.withUnsafeMutableBufferPointer { w in
            first.scalars.withUnsafeMutableBufferPointer { m in
                second.scalars.withUnsafeMutableBufferPointer { v in
                    gradient.scalars.withUnsafeBufferPointer { g in
                        for i in 0..<w.count {
                            let gi = g[i] + wd * w[i]
                            m[i] = b1 * m[i] + (1 - b1) * gi
                            v[i] = b2 * v[i] + (1 - b2) * gi * gi
                            w[i] -= stepSize * m[i] / (v[i].squareRoot() / root2 + eps)
                        }
                    }
                }
            }
        }
        state = [first, second]
    }
}

/// The learning rate at each epoch.
public enum Schedule: Equatable, Sendable {
    case constant
    /// × `gamma` every `every` epochs.
    case step(every: Int, gamma: Float)
    /// × `gamma` at each listed epoch.
    case multiStep(milestones: [Int], gamma: Float)
    /// Cosine from the base rate to 0 over `epochs`.
    case cosine(epochs: Int)

    /// The rate for (zero-based) `epoch`.
    public func rate(base: Float, epoch: Int) -> Float {
        switch self {
        case .constant:
            return base
        case .step(let every, let gamma):
            return base * Foundation.pow(gamma, Float(epoch / Swift.max(every, 1)))
        case .multiStep(let milestones, let gamma):
            return base * Foundation.pow(gamma, Float(milestones.filter { epoch >= $0 }.count))
        case .cosine(let epochs):
            let progress = Double(epoch) / Double(Swift.max(epochs, 1))
            return base * Float(0.5 * (1 + Foundation.cos(Double.pi * progress)))
        }
    }
}

import Foundation
