import Foundation
import PrnKernel

/// Updates parameters from their gradients. An optimizer defines only the per-parameter rule
/// `update(_:gradient:moments:learningRate:only:)`; `step` maps it over the model's parameters by
/// path. Masked weights are updated at their kept positions only: a pruned weight is never
/// touched and has no optimizer state (a masked weight's moments are compact, one per kept
/// position), so it costs nothing at high sparsity.
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
    /// With `positions`, the moments are compact too (as `step` makes them), or dense (a
    /// checkpoint written before moments were compact) and read at the positions.
    func update(_ parameter: inout Tensor, gradient: Tensor, moments: Moments, learningRate: Float, only positions: [Int32]?)
}

/// An optimizer's running buffers for one parameter: one value per scalar, or per kept position
/// of a masked weight. A class, so the buffers are updated in place without copy-on-write copies.
public final class Moments {
    public var buffers: [[Float]]
    init(count: Int, size: Int) { buffers = Array(repeating: [Float](repeating: 0, count: size), count: count) }
}

extension Optimizer {
    /// Applies one step to every parameter that has a gradient; a parameter listed in `kept` is
    /// updated at those flat positions only (`Model.keptPositions`), its moments compact.
    public mutating func step(_ parameters: inout [String: Tensor], gradients: [String: Tensor], learningRate: Float,
                              kept: [String: [Int32]] = [:]) {
        steps += 1
        for path in gradients.keys.sorted() {
            // Taken out of the dictionary, the tensor is uniquely referenced (once the tape is
            // gone), so the update writes into its buffer without a copy.
            guard let g = gradients[path], var p = parameters.removeValue(forKey: path) else { continue }
            let moments = state[path] ?? Moments(count: Self.bufferCount, size: kept[path]?.count ?? p.count)
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
                    // The scalar rule, lane for lane the vector one below (same operations, no fusion).
                    @inline(__always) func rule(_ i: Int, _ at: KeptIndex) {
                        let gi = g[at.gradient] + wd * w[i]
                        if mu == 0 { w[i] -= lr * gi; return }
                        v[at.moment] = mu * v[at.moment] + gi
                        w[i] -= lr * (nesterov ? gi + mu * v[at.moment] : v[at.moment])
                    }
                    guard let positions else {
                        precondition(g.count == w.count, "SGD: gradient of \(g.count) for \(w.count)")
                        // Eight lanes at a time: the scalar loop compiled to one scalar per
                        // iteration, with the momentum and Nesterov tests inside (2 % of a VGG-16 step).
                        let (wp, vp, gp) = (w.baseAddress!, v.baseAddress!, g.baseAddress!)
                        Parallel.forEach(w.count / 8, grain: 1 << 12) { blocks in
                            if mu == 0 {
                                for block in blocks {
                                    let i = block * 8
                                    store8(load8(wp + i) - lr * (load8(gp + i) + wd * load8(wp + i)), wp + i)
                                }
                            } else {
                                for block in blocks {
                                    let i = block * 8
                                    let wi = load8(wp + i), gi = load8(gp + i) + wd * wi
                                    let vi = mu * load8(vp + i) + gi
                                    store8(vi, vp + i)
                                    store8(wi - lr * (nesterov ? gi + mu * vi : vi), wp + i)
                                }
                            }
                        }
                        for i in (w.count / 8 * 8)..<w.count { rule(i, KeptIndex(gradient: i, moment: i)) }
                        return
                    }
                    let layout = KeptLayout(positions, count: w.count, gradients: g.count, moments: v.count)
                    for e in 0..<positions.count { rule(Int(positions[e]), layout.index(e, position: Int(positions[e]))) }
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
                        @inline(__always) func rule(_ i: Int, _ at: KeptIndex) {
                            let (gi, k) = (g[at.gradient] + wd * w[i], at.moment)
                            m[k] = b1 * m[k] + (1 - b1) * gi
                            v[k] = b2 * v[k] + (1 - b2) * gi * gi
                            w[i] -= stepSize * m[k] / (v[k].squareRoot() / root2 + eps)
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
                            // Kept positions in runs of `run`: the weights gathered into a
                            // contiguous buffer, updated eight lanes at a time beside the compact
                            // moments and gradient, scattered back (gathering straight into
                            // vectors compiled to scalar square roots and divisions: 16% of a
                            // LeNet-300-100 step at density 0.1). Dense moments or gradient are
                            // gathered and scattered likewise. The threads split the runs (each
                            // position updated once, the same way on any thread count).
                            let layout = KeptLayout(positions, count: count, gradients: g.count, moments: m.count)
                            let run = 256, vectorized = positions.count / 8 * 8
                            positions.withUnsafeBufferPointer { at in
                                let at = at.baseAddress!
                                Parallel.forEach((vectorized + run - 1) / run, grain: 16) { runs in
                                    withUnsafeTemporaryAllocation(of: Float.self, capacity: 4 * run) { buffer in
                                        let bw = buffer.baseAddress!
                                        for r in runs {
                                            let first = r * run, n = Swift.min(run, vectorized - first)
                                            let bm = layout.compactMoments ? mp + first : bw + run
                                            let bv = layout.compactMoments ? vp + first : bw + 2 * run
                                            let bg = layout.compactGradient ? gp + first : UnsafePointer(bw + 3 * run)
                                            for j in 0..<n {
                                                let i = Int(at[first + j])
                                                bw[j] = wp[i]
                                                if !layout.compactMoments { (bm[j], bv[j]) = (mp[i], vp[i]) }
                                                if !layout.compactGradient { bw[3 * run + j] = gp[i] }
                                            }
                                            for j in stride(from: 0, to: n, by: 8) {
                                                let r = rule8(load8(bw + j), load8(bm + j), load8(bv + j), load8(bg + j))
                                                store8(r.w, bw + j)
                                                store8(r.m, bm + j)
                                                store8(r.v, bv + j)
                                            }
                                            for j in 0..<n {
                                                let i = Int(at[first + j])
                                                wp[i] = bw[j]
                                                if !layout.compactMoments { (mp[i], vp[i]) = (bm[j], bv[j]) }
                                            }
                                        }
                                    }
                                }
                            }
                            for e in vectorized..<positions.count { rule(Int(positions[e]), layout.index(e, position: Int(positions[e]))) }
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
                        for i in (count / 8 * 8)..<count { rule(i, KeptIndex(gradient: i, moment: i)) }
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

/// Where a kept weight's gradient and moments are read: at its entry (compact) or its position.
private struct KeptIndex {
    let gradient: Int, moment: Int
}

/// How a masked weight's gradient and moments are laid out: compact (one value per kept
/// position, in order) or dense (the parameter's shape, read at the positions).
private struct KeptLayout {
    let compactGradient: Bool, compactMoments: Bool

    /// For a parameter of `count` scalars with `positions` kept, a gradient of `gradients`
    /// scalars and moments of `moments`.
    init(_ positions: [Int32], count: Int, gradients: Int, moments: Int) {
        compactGradient = gradients != count
        compactMoments = moments != count
        precondition(!compactGradient || gradients == positions.count,
                     "Optimizer: gradient of \(gradients) for \(positions.count) kept of \(count)")
        precondition(!compactMoments || moments == positions.count,
                     "Optimizer: moments of \(moments) for \(positions.count) kept of \(count)")
    }

    @inline(__always)
    func index(_ entry: Int, position: Int) -> KeptIndex {
        KeptIndex(gradient: compactGradient ? entry : position, moment: compactMoments ? entry : position)
    }
}
