import Foundation
import PrnKernel

/// Updates parameters from their gradients. An optimizer defines only the per-parameter rule
/// `update(_:gradient:moments:learningRate:only:)`; `step` maps it over the model's parameters by
/// path. Masked weights are updated at their kept positions only: a pruned weight and its
/// optimizer state are never touched (and cost nothing at high sparsity).
public protocol Optimizer {
    /// Per-parameter state (momentum buffers, moments), by path.
    var state: [String: Moments] { get set }
    /// Steps taken so far (Adam's bias correction uses it).
    var steps: Int { get set }
    /// How many running buffers per parameter.
    static var bufferCount: Int { get }
    /// One parameter's update, in place, with `moments` updated in place too; with `positions`,
    /// only at those flat indices.
    func update(_ parameter: inout Tensor, gradient: Tensor, moments: Moments, learningRate: Float, only positions: [Int32]?)
}

/// An optimizer's running buffers for one parameter. A class, so the buffers are updated in place
/// without copy-on-write copies.
public final class Moments {
    public var buffers: [[Float]]
    init(count: Int, size: Int) { buffers = Array(repeating: [Float](repeating: 0, count: size), count: count) }
}

extension Optimizer {
    /// Applies one step to every parameter that has a gradient; a parameter listed in `kept` is
    /// updated at those flat positions only (`Model.keptPositions`).
    public mutating func step(_ parameters: inout [String: Tensor], gradients: [String: Tensor], learningRate: Float,
                              kept: [String: [Int32]] = [:]) {
        steps += 1
        for path in gradients.keys.sorted() {
            // Taken out of the dictionary, the tensor is uniquely referenced (once the tape is
            // gone), so the update writes into its buffer without a copy.
            guard let g = gradients[path], var p = parameters.removeValue(forKey: path) else { continue }
            let moments = state[path] ?? Moments(count: Self.bufferCount, size: p.count)
            state[path] = moments
            update(&p, gradient: g, moments: moments, learningRate: learningRate, only: kept[path])
            parameters[path] = p
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
    public var state: [String: Moments] = [:]
    public var steps = 0

    public init(momentum: Float = 0, nesterov: Bool = false, weightDecay: Float = 0) {
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
    }

    public static var bufferCount: Int { 1 }

    public func update(_ parameter: inout Tensor, gradient: Tensor, moments: Moments, learningRate: Float, only positions: [Int32]?) {
        let (mu, wd, lr, nesterov) = (momentum, weightDecay, learningRate, self.nesterov)
        var velocity = moments.buffers[0]
        moments.buffers = []  // so the buffer below is uniquely referenced and updated in place
        parameter.scalars.withUnsafeMutableBufferPointer { w in
            velocity.withUnsafeMutableBufferPointer { v in
                gradient.scalars.withUnsafeBufferPointer { g in
                    @inline(__always) func rule(_ i: Int) {
                        let gi = g[i] + wd * w[i]
                        if mu == 0 { w[i] -= lr * gi; return }
                        v[i] = mu * v[i] + gi
                        w[i] -= lr * (nesterov ? gi + mu * v[i] : v[i])
                    }
                    forEachPosition(count: w.count, only: positions, grain: 1 << 15) { range in
                        for i in range { rule(i) }
                    } each: { rule($0) }
                }
            }
        }
        moments.buffers = [velocity]
    }
}

/// Adam (Kingma & Ba), with L2 weight decay added to the gradient as PyTorch's `Adam` does:
///
/// ```
/// m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  w ← w − η · m̂ / (√v̂ + ε)
/// ```
public struct Adam: Optimizer {
    public var beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float
    public var state: [String: Moments] = [:]
    public var steps = 0

    public init(weightDecay: Float = 0) { self.weightDecay = weightDecay }

    public static var bufferCount: Int { 2 }

    public func update(_ parameter: inout Tensor, gradient: Tensor, moments: Moments, learningRate: Float, only positions: [Int32]?) {
        let (b1, b2, eps, wd) = (beta1, beta2, epsilon, weightDecay)
        let t = Float(Swift.max(steps, 1))
        let stepSize = learningRate / (1 - Foundation.pow(b1, t))
        let root2 = (1 - Foundation.pow(b2, t)).squareRoot()
        let count = parameter.count
        var first = moments.buffers[0], second = moments.buffers[1]
        moments.buffers = []  // so the two buffers below are uniquely referenced and updated in place
        parameter.scalars.withUnsafeMutableBufferPointer { w in
            first.withUnsafeMutableBufferPointer { m in
                second.withUnsafeMutableBufferPointer { v in
                    gradient.scalars.withUnsafeBufferPointer { g in
                        let (wp, mp, vp, gp) = (w.baseAddress!, m.baseAddress!, v.baseAddress!, g.baseAddress!)
                        // The scalar rule, lane for lane the vector one below (same operations, no fusion).
                        @inline(__always) func rule(_ i: Int) {
                            let gi = g[i] + wd * w[i]
                            m[i] = b1 * m[i] + (1 - b1) * gi
                            v[i] = b2 * v[i] + (1 - b2) * gi * gi
                            w[i] -= stepSize * m[i] / (v[i].squareRoot() / root2 + eps)
                        }
                        if let positions {
                            for i in positions { rule(Int(i)) }
                            return
                        }
                        Parallel.forEach(count / 8, grain: 1 << 12) { range in
                            // Eight lanes at a time: the scalar loop does not vectorize (sqrt and divide).
                            for block in range {
                                let i = block * 8
                                let gi = load8(gp + i) + wd * load8(wp + i)
                                let mi = b1 * load8(mp + i) + (1 - b1) * gi
                                let vi = b2 * load8(vp + i) + (1 - b2) * gi * gi
                                store8(mi, mp + i)
                                store8(vi, vp + i)
                                store8(load8(wp + i) - stepSize * mi / (vi.squareRoot() / root2 + eps), wp + i)
                            }
                        }
                        for i in (count / 8 * 8)..<count { rule(i) }
                    }
                }
            }
        }
        moments.buffers = [first, second]
    }
}

@inline(__always) private func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always) private func load8(_ p: UnsafeMutablePointer<Float>) -> SIMD8<Float> { load8(UnsafePointer(p)) }

@inline(__always) private func store8(_ x: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: x, as: SIMD8<Float>.self)
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

    /// The schedules by name, without their settings (`schedule=step` in prn).
    public enum Kind: String, CaseIterable, Sendable { case constant, step, multistep, cosine }

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

/// Runs `whole` over `0..<count` in parallel chunks, or `each` on the listed positions in order.
@inline(__always)
private func forEachPosition(count: Int, only positions: [Int32]?, grain: Int, _ whole: (Range<Int>) -> Void,
                             each: (Int) -> Void) {
    if let positions {
        for i in positions { each(Int(i)) }
    } else {
        Parallel.forEach(count, grain: grain, whole)
    }
}
