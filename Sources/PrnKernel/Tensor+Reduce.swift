import Foundation

/// Reductions along axes, softmax and log-softmax. Sums run sequentially in index order, so
/// results do not depend on the thread count.
extension Tensor {
    /// The shape left after reducing `axes` (kept as size 1 when `keepDims`).
    public static func reducedShape(_ shape: [Int], axes: [Int], keepDims: Bool) -> [Int] {
        var out: [Int] = []
        for (i, d) in shape.enumerated() {
            if axes.contains(i) { if keepDims { out.append(1) } } else { out.append(d) }
        }
        return out
    }

    /// Folds every scalar into the slot of its reduced position: `combine(slot, value)`.
    private func reduce(axes rawAxes: [Int], keepDims: Bool, initial: Float,
                        _ combine: (Float, Float) -> Float) -> Tensor {
        let axes = try! Shape.axes(rawAxes, rank: rank)
        let keptShape = Tensor.reducedShape(shape, axes: axes, keepDims: true)
        let outStrides = Tensor.broadcastStrides(keptShape, to: shape)
        var out = [Float](repeating: initial, count: Shape.count(keptShape))
        let inner = rank == 0 ? 1 : shape[rank - 1]
        if rank > 0, outStrides[rank - 1] == 0, out.count > 1, count >= 2 * Tensor.elementwiseGrain {
            // The last axis is reduced: each output is one sequential fold over whole rows. Split
            // the outputs across threads; each thread walks every row's offset and folds only the
            // rows of its outputs, in row order, so every output sees the same sequence.
            out.withUnsafeMutableBufferPointer { o in
                scalars.withUnsafeBufferPointer { x in
                    Parallel.forEach(o.count, grain: Swift.max(1, o.count * Tensor.elementwiseGrain / count)) { mine in
                        Tensor.forEachRow(shape, outStrides, outStrides) { row, off, _, _, _, _ in
                            guard mine.contains(off) else { return }
                            let base = row * inner
                            var acc = o[off]
                            for j in 0..<inner { acc = combine(acc, x[base + j]) }
                            o[off] = acc
                        }
                    }
                }
            }
            return Tensor(shape: Tensor.reducedShape(shape, axes: axes, keepDims: keepDims), scalars: out)
        }
        out.withUnsafeMutableBufferPointer { o in
            scalars.withUnsafeBufferPointer { x in
                Tensor.forEachRow(shape, outStrides, outStrides) { row, off, _, inner, stride, _ in
                    let base = row * inner
                    if stride == 0 {
                        var acc = o[off]
                        for j in 0..<inner { acc = combine(acc, x[base + j]) }
                        o[off] = acc
                    } else {
                        for j in 0..<inner { o[off + j] = combine(o[off + j], x[base + j]) }
                    }
                }
            }
        }
        return Tensor(shape: Tensor.reducedShape(shape, axes: axes, keepDims: keepDims), scalars: out)
    }

    /// Sum over `axes` (all axes when nil).
    public func sum(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        reduce(axes: axes ?? Array(0..<rank), keepDims: keepDims, initial: 0, +)
    }

    /// Mean over `axes` (all axes when nil).
    public func mean(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let axes = try! Shape.axes(axes ?? Array(0..<rank), rank: rank)
        let n = axes.reduce(1) { $0 * shape[$1] }
        return sum(axes: axes, keepDims: keepDims) * (1 / Float(Swift.max(n, 1)))
    }

    /// Maximum over `axes` (all axes when nil).
    public func max(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        reduce(axes: axes ?? Array(0..<rank), keepDims: keepDims, initial: -.infinity) { Swift.max($0, $1) }
    }

    /// Sums a broadcast tensor back down to `target`, the adjoint of `broadcast(to:)`.
    public func sum(to target: [Int]) -> Tensor {
        if shape == target { return self }
        let pad = rank - target.count
        var axes = Array(0..<pad)
        for i in 0..<target.count where target[i] == 1 && shape[pad + i] != 1 { axes.append(pad + i) }
        let width = Shape.count(target)
        if axes == Array(0..<axes.count) && width > 0 {
            // Leading axes only (a layer's bias gradient): the rows added in order from 0, as the
            // general fold does, with every column a lane.
            return Tensor.build(target) { out in
                out.update(repeating: 0)
                scalars.withUnsafeBufferPointer { x in Tensor.addRows(x.baseAddress!, rows: count / width, width: width, into: out.baseAddress!) }
            }
        }
        return sum(axes: axes, keepDims: true).reshaped(target)
    }

    /// Index of the largest scalar along the last axis, per row (first one on ties).
    public func argmaxLastAxis() -> [Int] {
        let inner = shape.last ?? 1
        guard inner > 0 else { return [] }
        return scalars.withUnsafeBufferPointer { x in
            (0..<(count / inner)).map { row in
                var best = 0
                for j in 1..<inner where x[row * inner + j] > x[row * inner + best] { best = j }
                return best
            }
        }
    }

    /// `log(softmax(x))` along the last axis, computed stably as `x - max - log(Σ exp(x - max))`.
    public func logSoftmaxLastAxis() -> Tensor {
        let inner = shape.last ?? 1
        return Tensor.build(shape) { out in
            scalars.withUnsafeBufferPointer { x in
                for row in 0..<(inner == 0 ? 0 : count / inner) {
                    let base = row * inner
                    var m = -Float.infinity
                    for j in 0..<inner { m = Swift.max(m, x[base + j]) }
                    var s: Float = 0
                    for j in 0..<inner { s += Foundation.exp(x[base + j] - m) }
                    let lse = m + Foundation.log(s)
                    for j in 0..<inner { out[base + j] = x[base + j] - lse }
                }
            }
        }
    }

    /// `softmax(x)` along the last axis.
    public func softmaxLastAxis() -> Tensor { logSoftmaxLastAxis().exp() }
}
