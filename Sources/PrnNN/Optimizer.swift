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
    /// only at those flat indices. The gradient is dense (the parameter's shape), or, with
    /// `positions`, may be compact: one value per position, in order (`SparseTopology.compact`).
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
                    @inline(__always) func rule(_ i: Int, _ gradientIndex: Int) {
                        let gi = g[gradientIndex] + wd * w[i]
                        if mu == 0 { w[i] -= lr * gi; return }
                        v[i] = mu * v[i] + gi
                        w[i] -= lr * (nesterov ? gi + mu * v[i] : v[i])
                    }
                    forEachPosition(count: w.count, gradients: g.count, only: positions, grain: 1 << 15) { range in
                        for i in range { rule(i, i) }
                    } each: { rule($0, $1) }
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
                        @inline(__always) func rule(_ i: Int, _ gradientIndex: Int) {
                            let gi = g[gradientIndex] + wd * w[i]
                            m[i] = b1 * m[i] + (1 - b1) * gi
                            v[i] = b2 * v[i] + (1 - b2) * gi * gi
                            w[i] -= stepSize * m[i] / (v[i].squareRoot() / root2 + eps)
                        }
                        // Eight lanes at a time: the scalar loop does not vectorize (sqrt and divide).
                        @inline(__always) func rule8(_ w: SIMD8<Float>, _ m: SIMD8<Float>, _ v: SIMD8<Float>, _ g: SIMD8<Float>)
                            -> (w: SIMD8<Float>, m: SIMD8<Float>, v: SIMD8<Float>) {
                            let gi = g + wd * w
                            let mi = b1 * m + (1 - b1) * gi
                            let vi = b2 * v + (1 - b2) * gi * gi
                            return (w - stepSize * mi / (vi.squareRoot() / root2 + eps), mi, vi)
                        }
                        if let positions {
                            // Kept positions eight at a time (gathered and scattered back), the
                            // gradient read by entry when it comes compact.
                            // The threads split the kept positions (each updated once, the
                            // same way on any thread count).
                            let compact = isCompact(gradients: g.count, count: count, kept: positions.count)
                            let vectorized = positions.count / 8 * 8
                            positions.withUnsafeBufferPointer { at in
                                let at = at.baseAddress!
                                Parallel.forEach(vectorized / 8, grain: 1 << 9) { range in
                                    for block in range {
                                        let e = block * 8
                                        let i = UnsafeRawPointer(at + e).loadUnaligned(as: SIMD8<Int32>.self)
                                        let r = rule8(gather8(wp, i), gather8(mp, i), gather8(vp, i), compact ? load8(gp + e) : gather8(gp, i))
                                        scatter8(r.w, wp, i)
                                        scatter8(r.m, mp, i)
                                        scatter8(r.v, vp, i)
                                    }
                                }
                            }
                            forEachKept(positions, count: count, gradients: g.count, from: vectorized) { rule($0, $1) }
                            return
                        }
                        precondition(g.count == count, "Adam: gradient of \(g.count) for \(count)")
                        Parallel.forEach(count / 8, grain: 1 << 12) { range in
                            for block in range {
                                let i = block * 8
                                let r = rule8(load8(wp + i), load8(mp + i), load8(vp + i), load8(gp + i))
                                store8(r.w, wp + i)
                                store8(r.m, mp + i)
                                store8(r.v, vp + i)
                            }
                        }
                        for i in (count / 8 * 8)..<count { rule(i, i) }
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

@inline(__always) private func gather8(_ p: UnsafeMutablePointer<Float>, _ i: SIMD8<Int32>) -> SIMD8<Float> {
    SIMD8(p[Int(i[0])], p[Int(i[1])], p[Int(i[2])], p[Int(i[3])], p[Int(i[4])], p[Int(i[5])], p[Int(i[6])], p[Int(i[7])])
}

@inline(__always) private func gather8(_ p: UnsafePointer<Float>, _ i: SIMD8<Int32>) -> SIMD8<Float> {
    gather8(UnsafeMutablePointer(mutating: p), i)
}

/// Stores lane k at `p[i[k]]` (the indices are distinct).
@inline(__always) private func scatter8(_ x: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>, _ i: SIMD8<Int32>) {
    for k in 0..<8 { p[Int(i[k])] = x[k] }
}

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

/// Runs `whole` over `0..<count` in parallel chunks, or `forEachKept` on the listed positions.
@inline(__always)
private func forEachPosition(count: Int, gradients: Int, only positions: [Int32]?, grain: Int, _ whole: (Range<Int>) -> Void,
                             each: (Int, Int) -> Void) {
    if let positions {
        forEachKept(positions, count: count, gradients: gradients, each)
    } else {
        precondition(gradients == count, "Optimizer: gradient of \(gradients) for \(count)")
        Parallel.forEach(count, grain: grain, whole)
    }
}

/// `each(position, gradientIndex)` for the kept positions of a parameter of `count` scalars, in
/// order: a gradient of `count` scalars is read at the position, a compact one (one value per
/// kept position) at the entry.
@inline(__always)
private func forEachKept(_ positions: [Int32], count: Int, gradients: Int, from first: Int = 0, _ each: (Int, Int) -> Void) {
    let compact = isCompact(gradients: gradients, count: count, kept: positions.count)
    for e in first..<positions.count { each(Int(positions[e]), compact ? e : Int(positions[e])) }
}

/// Whether the gradient of a parameter of `count` scalars with `kept` kept positions comes
/// compact (one value per kept position) rather than dense.
@inline(__always)
private func isCompact(gradients: Int, count: Int, kept: Int) -> Bool {
    let compact = gradients != count
    precondition(!compact || gradients == kept, "Optimizer: gradient of \(gradients) for \(kept) kept of \(count)")
    return compact
}
