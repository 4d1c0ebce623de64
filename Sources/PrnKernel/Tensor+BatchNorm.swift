import Foundation

/// Batch normalization's passes over an `[N, C, …]` tensor, channel axis 1, instead of a chain
/// of broadcast ops and temporaries.
///
/// With `x̂ = (x − mean_c) · invStd_c` and `k_c = scale_c · invStd_c` per channel:
///
///     forward:       y  = x̂ · scale_c + shift_c          (optionally max(y, 0))
///     sums:          Σ g,  Σ g·x̂                       (over every axis but 1)
///     input grad:    dx = ((g − Σg/n) − x̂ · Σg·x̂/n) · k_c   (batch statistics)
///                    dx = g · k_c                         (fixed statistics)
///
/// With the batch's statistics, each channel's statistics need a sweep of the whole channel
/// before its outputs can be written, so the forward (statistics, then outputs) and the backward
/// (sums, then input gradient) run channel by channel, the second sweep reading the channel
/// again while it is in cache rather than from memory: these passes are bound by memory traffic.
///
/// Each scalar goes through the same floating-point operations, in the same order, as the
/// composition of ops spelled out in `Variable.batchNorm`'s backward: a per-channel sum is
/// `channelSums`' (eight lanes, below), a mean is that sum times `1/n`, so the fused and composed
/// results are bit-identical. Channels or planes are split across threads; each output is
/// computed by one thread in a fixed order, so results do not depend on the thread count.
extension Tensor {
    /// Σ over every axis but 1, shape `[C]`, in `ChannelPlanes.laneSum`'s order.
    public func channelSums() -> Tensor {
        let layout = ChannelPlanes(shape)
        if layout.plane == 1 { return rowSums(layout) }
        var sums = [Float](repeating: 0, count: layout.channels)
        scalars.withUnsafeBufferPointer { x in
            sums.withUnsafeMutableBufferPointer { out in
                layout.forEachChannel { c in
                    out[c] = layout.laneSum(of: c, { x.block($0) }, { x[$0] })
                }
            }
        }
        return Tensor(shape: [layout.channels], scalars: sums)
    }

    /// Batch norm with the batch's own statistics, in one sweep per channel: the channel's mean
    /// `Σx · (1/n)` and biased variance `Σ(x − mean)² · (1/n)`, `invStd = (variance + ε)^(−1/2)`,
    /// then its planes normalized as `batchNormalized(mean:invStd:…)` does, while they are still
    /// in cache (a channel of a 128 × 32 × 32 batch is 512 KB). Returns the output and the `[C]`
    /// statistics, the same bits as `channelSums`-ordered sums followed by the tensor ops
    /// `(variance + ε).pow(-0.5)` and `batchNormalized`.
    public func batchNormalized(scale: Tensor, shift: Tensor, epsilon: Float, relu: Bool = false, adding residual: Tensor? = nil)
        -> (output: Tensor, mean: Tensor, variance: Tensor, invStd: Tensor) {
        let layout = ChannelPlanes(shape)
        if let residual { precondition(residual.shape == shape, "batchNormalized: residual \(residual.shape), input \(shape)") }
        let invN = layout.inverseCount
        var mean = [Float](repeating: 0, count: layout.channels)
        var variance = mean, invStd = mean
        let y = Tensor.build(shape) { y in
            scalars.withUnsafeBufferPointer { x in
                (residual?.scalars).withOptionalBuffer { r in
                    scale.scalars.withUnsafeBufferPointer { a in
                        shift.scalars.withUnsafeBufferPointer { b in
                            mean.withUnsafeMutableBufferPointer { m in
                                variance.withUnsafeMutableBufferPointer { v in
                                    invStd.withUnsafeMutableBufferPointer { s in
                                        layout.forEachChannel { c in
                                            let mu = layout.laneSum(of: c, { x.block($0) }, { x[$0] }) * invN
                                            let centre = SIMD8<Float>(repeating: mu)
                                            let squares = layout.laneSum(of: c, { i in
                                                let d = x.block(i) - centre
                                                return d * d
                                            }, { i in
                                                let d = x[i] - mu
                                                return d * d
                                            })
                                            (m[c], v[c]) = (mu, squares * invN)
                                            s[c] = Foundation.pow(v[c] + epsilon, -0.5)
                                            let affine = ChannelAffine(mean: mu, invStd: s[c], scale: a[c], shift: b[c])
                                            layout.forEachRun(of: c) { affine.normalize($0, x, into: y, adding: r, relu: relu) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return (y, Tensor(shape: [layout.channels], scalars: mean), Tensor(shape: [layout.channels], scalars: variance),
                Tensor(shape: [layout.channels], scalars: invStd))
    }

    /// `y = ((x − mean_c) · invStd_c) · scale_c + shift_c`, plus `residual` (of this tensor's
    /// shape) when given, then `max(y, 0)` with `relu` (as `+` and `relu()` compute them); the
    /// per-channel tensors have shape `[C]`. One pass: a residual block's `relu(bn(h) + skip)`
    /// writes only its output.
    public func batchNormalized(mean: Tensor, invStd: Tensor, scale: Tensor, shift: Tensor, relu: Bool = false,
                                adding residual: Tensor? = nil) -> Tensor {
        let layout = ChannelPlanes(shape)
        if let residual { precondition(residual.shape == shape, "batchNormalized: residual \(residual.shape), input \(shape)") }
        return Tensor.build(shape) { y in
            scalars.withUnsafeBufferPointer { x in
                (residual?.scalars).withOptionalBuffer { r in
                    layout.forEachPlane { run, c in
                        let affine = ChannelAffine(mean: mean.scalars[c], invStd: invStd.scalars[c],
                                                   scale: scale.scalars[c], shift: shift.scalars[c])
                        affine.normalize(run, x, into: y, adding: r, relu: relu)
                    }
                }
            }
        }
    }

    /// Batch norm's backward without a recorded graph, in one sweep per channel: first the sums
    /// every gradient needs, `Σ g` and `Σ g · x̂` with `x̂ = (x − mean_c) · invStd_c` (in
    /// `channelSums`' order), then, while the channel is still in cache, the input gradient
    ///
    ///     dx = ((g − Σg · (1/n)) − x̂ · (Σg·x̂ · (1/n))) · k_c     (batchStatistics)
    ///     dx = g · k_c                                          (fixed statistics)
    ///
    /// with `k_c = scale_c · invStd_c` (`dx` only with `inputGradient`). With `gate`, `g` is first
    /// `Tensor.reluGated(g, by: gate)`, read on the fly; with `keepGated` too, that gated gradient
    /// is also written out and returned (a residual's gradient). Each scalar goes through the
    /// operations of the composition in `Variable.batchNormBackward`, in its order.
    public static func batchNormBackward(_ g: Tensor, _ x: Tensor, mean: Tensor, invStd: Tensor, scale: Tensor,
                                         batchStatistics: Bool, gate: Tensor? = nil, keepGated: Bool = false,
                                         inputGradient: Bool = true)
        -> (dx: Tensor?, sums: (gradient: Tensor, projection: Tensor), gated: Tensor?) {
        precondition(g.shape == x.shape, "batchNormBackward: gradient \(g.shape), input \(x.shape)")
        let layout = ChannelPlanes(x.shape)
        let invN = layout.inverseCount
        var sums = [Float](repeating: 0, count: layout.channels), projections = sums
        var dx: [Float]? = inputGradient ? [Float](unsafeUninitializedCapacity: x.count) { $1 = x.count } : nil
        var gated: [Float]? = keepGated && gate != nil ? [Float](unsafeUninitializedCapacity: x.count) { $1 = x.count } : nil
        GatedGradient.with(g, gate: gate) { gradient in
            x.scalars.withUnsafeBufferPointer { xs in
                sums.withUnsafeMutableBufferPointer { sum in
                    projections.withUnsafeMutableBufferPointer { projection in
                        dx.withOptionalMutableBuffer { dx in
                            gated.withOptionalMutableBuffer { kept in
                                layout.forEachChannel { c in
                                    let (mu, inv) = (mean.scalars[c], invStd.scalars[c])
                                    let (muBlock, invBlock) = (SIMD8<Float>(repeating: mu), SIMD8<Float>(repeating: inv))
                                    (sum[c], projection[c]) = layout.laneSums(of: c, { i in
                                        let g = gradient.block(i)
                                        if let kept { UnsafeMutableRawPointer(kept.baseAddress! + i).storeBytes(of: g, as: SIMD8<Float>.self) }
                                        return (g, g * ((xs.block(i) - muBlock) * invBlock))
                                    }, { i in
                                        let g = gradient[i]
                                        kept?[i] = g
                                        return (g, g * ((xs[i] - mu) * inv))
                                    })
                                    guard let dx else { return }
                                    // The gated copy, when written, is the gradient already gated.
                                    let gs = kept.map { GatedGradient(g: UnsafeBufferPointer($0), gate: nil) } ?? gradient
                                    let k = scale.scalars[c] * inv
                                    guard batchStatistics else {
                                        layout.forEachRun(of: c) { run in for i in run { dx[i] = gs[i] * k } }
                                        return
                                    }
                                    let gMean = sum[c] * invN, projectionMean = projection[c] * invN
                                    layout.forEachRun(of: c) { run in
                                        for i in run { dx[i] = ((gs[i] - gMean) - ((xs[i] - mu) * inv) * projectionMean) * k }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        let channelShape = [layout.channels]
        return (dx.map { Tensor(shape: x.shape, scalars: $0) },
                (Tensor(shape: channelShape, scalars: sums), Tensor(shape: channelShape, scalars: projections)),
                gated.map { Tensor(shape: x.shape, scalars: $0) })
    }
}

/// One channel's normalization `((x − mean) · invStd) · scale + shift`, then `+ r` and the ReLU
/// when asked: the scalar operations, in order, of the tensor ops it replaces.
struct ChannelAffine {
    let mean: Float, invStd: Float, scale: Float, shift: Float

    /// Writes `y[i]` for `i` in `run`.
    @inline(__always)
    func normalize(_ run: Range<Int>, _ x: UnsafeBufferPointer<Float>, into y: UnsafeMutableBufferPointer<Float>,
                   adding r: UnsafeBufferPointer<Float>?, relu: Bool) {
        let (mu, inv, gamma, beta) = (mean, invStd, scale, shift)
        switch (r, relu) {
        case (nil, false):
            for i in run { y[i] = ((x[i] - mu) * inv) * gamma + beta }
        case (nil, true):
            for i in run {
                let v = ((x[i] - mu) * inv) * gamma + beta
                y[i] = v > 0 ? v : 0
            }
        case (let r?, false):
            for i in run { y[i] = (((x[i] - mu) * inv) * gamma + beta) + r[i] }
        case (let r?, true):
            for i in run {
                let v = (((x[i] - mu) * inv) * gamma + beta) + r[i]
                y[i] = v > 0 ? v : 0
            }
        }
    }
}

/// A gradient read through an optional ReLU gate: `g[i] · step(gate[i])`, the multiplication
/// `Tensor.reluGated` does, so batch norm's fused backward can take the gradient before its
/// ReLU without a gated copy.
struct GatedGradient {
    let g: UnsafeBufferPointer<Float>
    let gate: UnsafeBufferPointer<Float>?

    /// Runs `body` with `g` seen through `gate` (when given, of `g`'s shape).
    static func with<R>(_ g: Tensor, gate: Tensor?, _ body: (GatedGradient) -> R) -> R {
        g.scalars.withUnsafeBufferPointer { gs in
            guard let gate else { return body(GatedGradient(g: gs, gate: nil)) }
            precondition(gate.shape == g.shape, "gated gradient \(g.shape), gate \(gate.shape)")
            return gate.scalars.withUnsafeBufferPointer { body(GatedGradient(g: gs, gate: $0)) }
        }
    }

    @inline(__always)
    subscript(i: Int) -> Float {
        guard let gate else { return g[i] }
        return g[i] * (gate[i] > 0 ? 1 : 0)
    }

    /// Entries `i..<i+8`.
    @inline(__always)
    func block(_ i: Int) -> SIMD8<Float> {
        guard let gate else { return g.block(i) }
        return g.block(i) * SIMD8<Float>(repeating: 0).replacing(with: 1, where: gate.block(i) .> 0)
    }
}

extension Tensor {
    /// `x + bias_c` over channel axis 1 of an `[N, C, …]` tensor (`bias` of shape `[C]`), then
    /// `max(·, 0)` with `relu`: the same operations as the broadcast `+` and `relu()`, in one pass.
    public func addingChannelBias(_ bias: Tensor, relu: Bool) -> Tensor {
        let layout = ChannelPlanes(shape)
        precondition(bias.shape == [layout.channels], "addingChannelBias: bias \(bias.shape) for input \(shape)")
        if layout.plane == 1 { return addingRowBias(bias, relu: relu, layout) }
        return Tensor.build(shape) { y in
            scalars.withUnsafeBufferPointer { x in
                layout.forEachPlane { run, c in
                    let b = bias.scalars[c]
                    if relu {
                        for i in run {
                            let v = x[i] + b
                            y[i] = v > 0 ? v : 0
                        }
                    } else {
                        for i in run { y[i] = x[i] + b }
                    }
                }
            }
        }
    }
}

/// The channel passes for planes of one scalar (`[N, C]`, a linear layer's output): each row of
/// `C` features at once, sixteen channels per vector, instead of `N·C` one-scalar planes.
extension Tensor {
    /// `addingChannelBias` over rows: the same addition and ReLU per scalar.
    fileprivate func addingRowBias(_ bias: Tensor, relu: Bool, _ layout: ChannelPlanes) -> Tensor {
        let width = layout.channels
        return Tensor.build(shape) { y in
            scalars.withUnsafeBufferPointer { x in
                bias.scalars.withUnsafeBufferPointer { b in
                    Parallel.forEach(layout.batch, grain: Swift.max(1, Tensor.elementwiseGrain / Swift.max(width, 1))) { rows in
                        for row in rows {
                            let (from, to) = (x.baseAddress! + row * width, y.baseAddress! + row * width)
                            var j = 0
                            while j + 16 <= width {
                                let v = UnsafeRawPointer(from + j).loadUnaligned(as: SIMD16<Float>.self)
                                    + UnsafeRawPointer(b.baseAddress! + j).loadUnaligned(as: SIMD16<Float>.self)
                                // `v > 0 ? v : 0` per lane (NaN gives 0, as in `relu()`).
                                let out = relu ? SIMD16<Float>().replacing(with: v, where: v .> 0) : v
                                UnsafeMutableRawPointer(to + j).storeBytes(of: out, as: SIMD16<Float>.self)
                                j += 16
                            }
                            while j < width {
                                let v = from[j] + b[j]
                                to[j] = relu ? (v > 0 ? v : 0) : v
                                j += 1
                            }
                        }
                    }
                }
            }
        }
    }

    /// `channelSums` over rows: each channel's scalars added in batch order from +0, sixteen
    /// channels per vector. That is `laneSum`'s order for planes of one scalar (every scalar
    /// goes to lane 0, the other lanes stay +0 and adding them changes nothing: a sum that
    /// starts at +0 is never −0), and `sum(to:)`'s, so a linear layer's bias gradient is the
    /// same through either.
    fileprivate func rowSums(_ layout: ChannelPlanes) -> Tensor {
        let width = layout.channels
        return Tensor.build([width]) { out in
            out.update(repeating: 0)
            scalars.withUnsafeBufferPointer { x in Tensor.addRows(x.baseAddress!, rows: layout.batch, width: width, into: out.baseAddress!) }
        }
    }

    /// `out[j] = out[j] + x[row · width + j]` for the rows in order: every column its own chain.
    static func addRows(_ x: UnsafePointer<Float>, rows: Int, width: Int, into out: UnsafeMutablePointer<Float>) {
        for row in 0..<rows {
            let from = x + row * width
            var j = 0
            while j + 16 <= width {
                let sum = UnsafeRawPointer(out + j).loadUnaligned(as: SIMD16<Float>.self)
                    + UnsafeRawPointer(from + j).loadUnaligned(as: SIMD16<Float>.self)
                UnsafeMutableRawPointer(out + j).storeBytes(of: sum, as: SIMD16<Float>.self)
                j += 16
            }
            while j < width {
                out[j] = out[j] + from[j]
                j += 1
            }
        }
    }
}

/// An `[N, C, …]` tensor as `N·C` planes of `plane` contiguous scalars, channel `c` owning planes
/// `n·C + c`.
struct ChannelPlanes {
    let batch: Int, channels: Int, plane: Int

    init(_ shape: [Int]) {
        precondition(shape.count >= 2, "batch norm needs an input [batch, channels, …], got \(shape)")
        batch = shape[0]
        channels = shape[1]
        plane = shape.dropFirst(2).reduce(1, *)
    }

    /// `1 / n` for the `n = N · plane` scalars of a channel, as `Tensor.mean` computes it.
    var inverseCount: Float { 1 / Float(Swift.max(batch * plane, 1)) }

    /// Runs `body(c)` for every channel, channels split across threads.
    func forEachChannel(_ body: (Int) -> Void) {
        let perChannel = Swift.max(batch * plane, 1)
        Parallel.forEach(channels, grain: Swift.max(1, Tensor.elementwiseGrain / perChannel)) { range in
            for c in range { body(c) }
        }
    }

    /// The sum of `term(i)` over channel `c`'s scalars in a fixed order that vectorizes: eight
    /// lanes, scalar `j` of each plane going to lane `j mod 8` (`block(i)` gives the terms of
    /// scalars `i..<i+8` at once, `single(i)` one term), planes in batch order, then the lanes
    /// added pairwise. The order depends on the shape alone.
    @inline(__always)
    func laneSum(of c: Int, _ block: (Int) -> SIMD8<Float>, _ single: (Int) -> Float) -> Float {
        var lanes = SIMD8<Float>()
        for n in 0..<batch {
            let start = (n * channels + c) * plane, end = start + plane
            var i = start
            while i + 8 <= end {
                lanes += block(i)
                i += 8
            }
            var lane = 0
            while i < end {
                lanes[lane] += single(i)
                i += 1
                lane += 1
            }
        }
        return ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]))
    }

    /// Two `laneSum`s in one sweep of channel `c` (each term pair read once): each sum in
    /// `laneSum`'s order, so with the same bits.
    @inline(__always)
    func laneSums(of c: Int, _ block: (Int) -> (SIMD8<Float>, SIMD8<Float>),
                  _ single: (Int) -> (Float, Float)) -> (Float, Float) {
        var first = SIMD8<Float>(), second = SIMD8<Float>()
        for n in 0..<batch {
            let start = (n * channels + c) * plane, end = start + plane
            var i = start
            while i + 8 <= end {
                let (a, b) = block(i)
                first += a
                second += b
                i += 8
            }
            var lane = 0
            while i < end {
                let (a, b) = single(i)
                first[lane] += a
                second[lane] += b
                i += 1
                lane += 1
            }
        }
        func total(_ l: SIMD8<Float>) -> Float { ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7])) }
        return (total(first), total(second))
    }

    /// Runs `body(run)` for each of channel `c`'s planes, in batch order, on this thread.
    @inline(__always)
    func forEachRun(of c: Int, _ body: (Range<Int>) -> Void) {
        for n in 0..<batch {
            let start = (n * channels + c) * plane
            body(start..<start + plane)
        }
    }

    /// Runs `body(run, c)` for every plane with its channel, planes split across threads.
    func forEachPlane(_ body: (Range<Int>, Int) -> Void) {
        let plane = self.plane, channels = self.channels
        Parallel.forEach(batch * channels, grain: Swift.max(1, Tensor.elementwiseGrain / Swift.max(plane, 1))) { range in
            for q in range { body(q * plane..<(q + 1) * plane, q % channels) }
        }
    }
}

extension UnsafeBufferPointer where Element == Float {
    /// Scalars `i..<i+8` as one vector.
    @inline(__always)
    func block(_ i: Int) -> SIMD8<Float> { UnsafeRawPointer(baseAddress! + i).loadUnaligned(as: SIMD8<Float>.self) }
}
