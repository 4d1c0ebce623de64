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
    /// `(variance + ε).pow(-0.5)` and `batchNormalized`. With `relu`, also the gate the
    /// backward reads (`ReLUGate`).
    public func batchNormalized(scale: Tensor, shift: Tensor, epsilon: Float, relu: Bool = false, adding residual: Tensor? = nil)
        -> (output: Tensor, mean: Tensor, variance: Tensor, invStd: Tensor, gate: ReLUGate?) {
        let layout = ChannelPlanes(shape)
        if let residual { precondition(residual.shape == shape, "batchNormalized: residual \(residual.shape), input \(shape)") }
        let invN = layout.inverseCount
        var mean = [Float](repeating: 0, count: layout.channels)
        var variance = mean, invStd = mean
        var bits = ReLUGate.bitsBuffer(relu: relu, layout, count: count)
        let y = Tensor.build(shape) { y in
            scalars.withUnsafeBufferPointer { x in
                (residual?.scalars).withOptionalBuffer { r in
                    bits.withOptionalMutableBuffer { bits in
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
                                                layout.forEachRun(of: c) { affine.normalize($0, x, into: y, adding: r, relu: relu, bits: bits) }
                                            }
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
                Tensor(shape: [layout.channels], scalars: invStd), ReLUGate(relu: relu, output: y, bits: bits))
    }

    /// `y = ((x − mean_c) · invStd_c) · scale_c + shift_c`, plus `residual` (of this tensor's
    /// shape) when given, then `max(y, 0)` with `relu` (as `+` and `relu()` compute them); the
    /// per-channel tensors have shape `[C]`. One pass: a residual block's `relu(bn(h) + skip)`
    /// writes only its output (and, with `relu`, the gate its backward reads).
    public func batchNormalized(mean: Tensor, invStd: Tensor, scale: Tensor, shift: Tensor, relu: Bool = false,
                                adding residual: Tensor? = nil) -> (output: Tensor, gate: ReLUGate?) {
        let layout = ChannelPlanes(shape)
        if let residual { precondition(residual.shape == shape, "batchNormalized: residual \(residual.shape), input \(shape)") }
        var bits = ReLUGate.bitsBuffer(relu: relu, layout, count: count)
        let y = Tensor.build(shape) { y in
            scalars.withUnsafeBufferPointer { x in
                (residual?.scalars).withOptionalBuffer { r in
                    bits.withOptionalMutableBuffer { bits in
                        layout.forEachPlane { run, c in
                            let affine = ChannelAffine(mean: mean.scalars[c], invStd: invStd.scalars[c],
                                                       scale: scale.scalars[c], shift: shift.scalars[c])
                            affine.normalize(run, x, into: y, adding: r, relu: relu, bits: bits)
                        }
                    }
                }
            }
        }
        return (y, ReLUGate(relu: relu, output: y, bits: bits))
    }

    /// Batch norm's backward without a recorded graph, in one sweep per channel: first the sums
    /// every gradient needs, `Σ g` and `Σ g · x̂` with `x̂ = (x − mean_c) · invStd_c` (in
    /// `channelSums`' order), then, while the channel is still in cache, the input gradient
    ///
    ///     dx = ((g − Σg · (1/n)) − x̂ · (Σg·x̂ · (1/n))) · k_c     (batchStatistics)
    ///     dx = g · k_c                                          (fixed statistics)
    ///
    /// with `k_c = scale_c · invStd_c` (`dx` only with `inputGradient`). The gradient is
    /// `g + addend` when `addend` is given (the sum `+` computes, read on the fly). With `gate`
    /// (the forward's ReLU), it is then `Tensor.reluGated(·, by: y)`, also on the fly; with
    /// `keepGated`, that gradient (summed, gated) is also written out and returned (a residual's
    /// gradient) unless it is `g` itself. Each scalar goes through the operations of the
    /// composition in `Variable.batchNormBackward`, in its order.
    public static func batchNormBackward(_ g: Tensor, plus addend: Tensor? = nil, _ x: Tensor, mean: Tensor, invStd: Tensor,
                                         scale: Tensor,
                                         batchStatistics: Bool, gate: ReLUGate? = nil, keepGated: Bool = false,
                                         inputGradient: Bool = true)
        -> (dx: Tensor?, sums: (gradient: Tensor, projection: Tensor), gated: Tensor?) {
        precondition(g.shape == x.shape, "batchNormBackward: gradient \(g.shape), input \(x.shape)")
        let layout = ChannelPlanes(x.shape)
        var sums = [Float](repeating: 0, count: layout.channels), projections = sums
        var dx: [Float]? = inputGradient ? [Float](unsafeUninitializedCapacity: x.count) { $1 = x.count } : nil
        let derived = gate != nil || addend != nil
        var gated: [Float]? = keepGated && derived ? [Float](unsafeUninitializedCapacity: x.count) { $1 = x.count } : nil
        x.scalars.withUnsafeBufferPointer { xs in
            sums.withUnsafeMutableBufferPointer { sum in
                projections.withUnsafeMutableBufferPointer { projection in
                    dx.withOptionalMutableBuffer { dx in
                        gated.withOptionalMutableBuffer { kept in
                            let sweeps = BatchNormBackwardSweeps(layout: layout, x: xs, mean: mean, invStd: invStd, scale: scale,
                                                                 batchStatistics: batchStatistics, sums: sum,
                                                                 projections: projection, dx: dx, kept: kept)
                            GatedGradient.with(g, plus: addend, gate: gate, sweeps)
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

    /// Writes `y[i]` for `i` in `run`, and with `bits` (a ReLU's gate as bits, `run` a plane of
    /// whole 16-bit words of them) their bits, from the plane just written (in L1) rather than in
    /// the loop that streams `x` and `r` from memory, which runs slower with the bits in it.
    @inline(__always)
    func normalize(_ run: Range<Int>, _ x: UnsafeBufferPointer<Float>, into y: UnsafeMutableBufferPointer<Float>,
                   adding r: UnsafeBufferPointer<Float>?, relu: Bool, bits: UnsafeMutableBufferPointer<UInt8>?) {
        normalize(run, x, into: y, adding: r, relu: relu)
        guard let bits else { return }
        for i in stride(from: run.lowerBound, to: run.upperBound, by: 16) {
            UnsafeMutableRawPointer(bits.baseAddress! + i >> 3)
                .storeBytes(of: ReLUGate.bits(y.block(i) .> 0, y.block(i + 8) .> 0).littleEndian, toByteOffset: 0, as: UInt16.self)
        }
    }

    @inline(__always)
    private func normalize(_ run: Range<Int>, _ x: UnsafeBufferPointer<Float>, into y: UnsafeMutableBufferPointer<Float>,
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

/// A fused ReLU's gate `y > 0`, for its output `y`, as batch norm's backward reads it: one bit
/// per scalar (bit `i % 8` of byte `i / 8`) when every plane is a whole number of 16-bit words of
/// bits (the forward writes them 16 at a time), so that threads writing different planes never
/// share a byte; else the output itself. The backward's first sweep is bound by memory
/// traffic, and the bits are a 32nd of the output's bytes.
public enum ReLUGate {
    case bits([UInt8])
    case output(Tensor)

    /// The gate of the output `y` of a ReLU (`relu`), as bits when the forward wrote them.
    init?(relu: Bool, output y: Tensor, bits: [UInt8]?) {
        guard relu else { return nil }
        self = bits.map { .bits($0) } ?? .output(y)
    }

    /// Room for the bits of `count` scalars laid out as `layout`, when the ReLU is on and each
    /// plane fills whole 16-bit words; else nil (the gate is then the output).
    static func bitsBuffer(relu: Bool, _ layout: ChannelPlanes, count: Int) -> [UInt8]? {
        guard relu && layout.plane % 16 == 0 else { return nil }
        return [UInt8](unsafeUninitializedCapacity: count / 8) { $1 = count / 8 }
    }

    /// Sixteen lanes as bits, lane `j` of `low` as bit `j`, of `high` as bit `8 + j`. In floats:
    /// the integer SIMD operations compile to a loop over the lanes, the float ones to a vector
    /// compare and blend; sums of distinct powers of two below 2¹⁶ are exact, and adding 2²³
    /// puts the sum in the low bits of the significand (no checked conversion).
    @inline(__always)
    static func bits(_ low: SIMDMask<SIMD8<Int32>>, _ high: SIMDMask<SIMD8<Int32>>) -> UInt16 {
        let weights = SIMD8<Float>().replacing(with: SIMD8<Float>(1, 2, 4, 8, 16, 32, 64, 128), where: low)
            + SIMD8<Float>().replacing(with: SIMD8<Float>(1, 2, 4, 8, 16, 32, 64, 128) * 256, where: high)
        let quarters = weights.lowHalf + weights.highHalf, pair = quarters.lowHalf + quarters.highHalf
        return UInt16(truncatingIfNeeded: ((pair[0] + pair[1]) + 0x1p23).bitPattern)
    }

    /// For each byte of bits, its eight lanes as 0 or 1: the factor `step(y)` that gates a
    /// gradient, one load per eight scalars.
    static let steps: [SIMD8<Float>] = (0..<256).map { byte in
        SIMD8<Float>((0..<8).map { byte >> $0 & 1 == 1 ? Float(1) : 0 })
    }
}

/// Batch norm's backward over every channel (`Tensor.batchNormBackward`) for one way of reading
/// the upstream gradient: `GatedGradient.with` calls it with the concrete reading, so each
/// sweep's loop is compiled for it, with no per-block test of which parts the gradient has.
private struct BatchNormBackwardSweeps: GradientConsumer {
    let layout: ChannelPlanes, x: UnsafeBufferPointer<Float>, mean: Tensor, invStd: Tensor, scale: Tensor
    let batchStatistics: Bool
    let sums: UnsafeMutableBufferPointer<Float>, projections: UnsafeMutableBufferPointer<Float>
    let dx: UnsafeMutableBufferPointer<Float>?, kept: UnsafeMutableBufferPointer<Float>?

    func callAsFunction<G: GradientReading>(_ gradient: G) {
        let xs = x
        layout.forEachChannel { c in
            let (mu, inv) = (mean.scalars[c], invStd.scalars[c])
            let (muBlock, invBlock) = (SIMD8<Float>(repeating: mu), SIMD8<Float>(repeating: inv))
            // Σ g and Σ g·x̂ in `laneSum`'s order (each sum's lanes as `laneSum` adds them), with the
            // gradient as read written out to `kept` when asked for.
            var (gradientLanes, projectionLanes) = (SIMD8<Float>(), SIMD8<Float>())
            layout.forEachBlock(of: c, { i in
                let g = gradient.block(i)
                kept?.store(g, at: i)
                gradientLanes += g
                projectionLanes += g * ((xs.block(i) - muBlock) * invBlock)
            }, { i, lane in
                let g = gradient[i]
                kept?[i] = g
                gradientLanes[lane] += g
                projectionLanes[lane] += g * ((xs[i] - mu) * inv)
            })
            (sums[c], projections[c]) = (ChannelPlanes.total(gradientLanes), ChannelPlanes.total(projectionLanes))
            // The gated copy, when written, is the gradient already gated: the second sweep reads it.
            if let kept { inputGradient(of: c, PlainGradient(g: UnsafeBufferPointer(kept))) } else { inputGradient(of: c, gradient) }
        }
    }

    /// Channel `c`'s `dx` (when asked for) from its sums, reading the gradient as `gs`.
    @inline(__always)
    private func inputGradient<H: GradientReading>(of c: Int, _ gs: H) {
        guard let dx else { return }
        let xs = x, invN = layout.inverseCount
        let (mu, inv) = (mean.scalars[c], invStd.scalars[c])
        let (muBlock, invBlock) = (SIMD8<Float>(repeating: mu), SIMD8<Float>(repeating: inv))
        let k = scale.scalars[c] * inv, kBlock = SIMD8<Float>(repeating: k)
        guard batchStatistics else {
            layout.forEachBlock(of: c, { i in dx.store(gs.block(i) * kBlock, at: i) }, { i, _ in dx[i] = gs[i] * k })
            return
        }
        let gMean = sums[c] * invN, projectionMean = projections[c] * invN
        let (gMeanBlock, projectionBlock) = (SIMD8<Float>(repeating: gMean), SIMD8<Float>(repeating: projectionMean))
        layout.forEachBlock(of: c, { i in
            let normalized = (xs.block(i) - muBlock) * invBlock
            dx.store(((gs.block(i) - gMeanBlock) - normalized * projectionBlock) * kBlock, at: i)
        }, { i, _ in
            dx[i] = ((gs[i] - gMean) - ((xs[i] - mu) * inv) * projectionMean) * k
        })
    }
}

/// Work to do on an upstream gradient however it is read (`GatedGradient.with`).
protocol GradientConsumer {
    func callAsFunction<G: GradientReading>(_ gradient: G)
}

/// An upstream gradient as batch norm's fused backward reads it: one scalar, or eight from a
/// multiple of 8 (planes with gate bits fill whole bytes of them).
protocol GradientReading {
    subscript(i: Int) -> Float { get }
    func block(_ i: Int) -> SIMD8<Float>
}

/// The gradient `g` read through an optional ReLU gate, `g[i] · step(y[i])` (the multiplication
/// `Tensor.reluGated` does), so batch norm's fused backward can take the gradient before its
/// ReLU without a gated copy; the gate is the output `y` or its bits (`ReLUGate`). With `addend`,
/// the gradient is `g[i] + addend[i]` (as `+` adds them) before the gate.
enum GatedGradient {
    /// Runs `body` with `g` (plus `addend`) seen through `gate` (each, when given, of `g`'s shape):
    /// each of the six combinations is its own `GradientReading` type, so `body`'s loops are
    /// compiled for the one at hand.
    static func with<C: GradientConsumer>(_ g: Tensor, plus addend: Tensor?, gate: ReLUGate?, _ body: C) {
        if let addend { precondition(addend.shape == g.shape, "gradient \(g.shape) plus \(addend.shape)") }
        g.scalars.withUnsafeBufferPointer { gs in
            (addend?.scalars).withOptionalBuffer { addend in
                let plain = PlainGradient(g: gs)
                switch gate {
                case nil:
                    if let addend { body(SummedGradient(g: gs, addend: addend)) } else { body(plain) }
                case .output(let y)?:
                    precondition(y.shape == g.shape, "gated gradient \(g.shape), gate \(y.shape)")
                    y.scalars.withUnsafeBufferPointer { y in
                        if let addend {
                            body(OutputGatedGradient(base: SummedGradient(g: gs, addend: addend), output: y))
                        } else {
                            body(OutputGatedGradient(base: plain, output: y))
                        }
                    }
                case .bits(let bits)?:
                    precondition(bits.count * 8 == g.count, "gated gradient \(g.shape), \(bits.count) bytes of gate")
                    bits.withUnsafeBufferPointer { bits in
                        ReLUGate.steps.withUnsafeBufferPointer { steps in
                            if let addend {
                                body(BitGatedGradient(base: SummedGradient(g: gs, addend: addend), bits: bits, steps: steps))
                            } else {
                                body(BitGatedGradient(base: plain, bits: bits, steps: steps))
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `g` as it is.
struct PlainGradient: GradientReading {
    let g: UnsafeBufferPointer<Float>

    @inline(__always) subscript(i: Int) -> Float { g[i] }
    @inline(__always) func block(_ i: Int) -> SIMD8<Float> { g.block(i) }
}

/// `g + addend`, as `+` adds them.
struct SummedGradient: GradientReading {
    let g: UnsafeBufferPointer<Float>, addend: UnsafeBufferPointer<Float>

    @inline(__always) subscript(i: Int) -> Float { g[i] + addend[i] }
    @inline(__always) func block(_ i: Int) -> SIMD8<Float> { g.block(i) + addend.block(i) }
}

/// `base · step`, the step read from the gate's bits (`ReLUGate.steps`: one load per eight
/// scalars).
struct BitGatedGradient<Base: GradientReading>: GradientReading {
    let base: Base, bits: UnsafeBufferPointer<UInt8>, steps: UnsafeBufferPointer<SIMD8<Float>>

    @inline(__always) subscript(i: Int) -> Float { base[i] * ((bits[i >> 3] >> UInt8(i & 7)) & 1 != 0 ? 1 : 0) }
    @inline(__always) func block(_ i: Int) -> SIMD8<Float> { base.block(i) * steps[Int(bits[i >> 3])] }
}

/// `base · step(y > 0)` from the ReLU's output `y` itself.
struct OutputGatedGradient<Base: GradientReading>: GradientReading {
    let base: Base, output: UnsafeBufferPointer<Float>

    @inline(__always) subscript(i: Int) -> Float { base[i] * (output[i] > 0 ? 1 : 0) }
    @inline(__always)
    func block(_ i: Int) -> SIMD8<Float> { base.block(i) * SIMD8<Float>(repeating: 0).replacing(with: 1, where: output.block(i) .> 0) }
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
        forEachBlock(of: c, { i in lanes += block(i) }, { i, lane in lanes[lane] += single(i) })
        return Self.total(lanes)
    }

    /// The eight lanes of a `laneSum` added pairwise.
    @inline(__always)
    static func total(_ l: SIMD8<Float>) -> Float { ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7])) }

    /// Runs `body(run)` for each of channel `c`'s planes, in batch order, on this thread.
    @inline(__always)
    func forEachRun(of c: Int, _ body: (Range<Int>) -> Void) {
        for n in 0..<batch {
            let start = (n * channels + c) * plane
            body(start..<start + plane)
        }
    }

    /// Runs `block(i)` for scalars `i..<i+8` and `single(i, lane)` for the last `plane % 8`
    /// scalars of each of channel `c`'s planes (`lane`: 0, 1, … within the plane's tail), in batch
    /// order, on this thread: the split of a plane `laneSum` sums over.
    @inline(__always)
    func forEachBlock(of c: Int, _ block: (Int) -> Void, _ single: (_ i: Int, _ lane: Int) -> Void) {
        forEachRun(of: c) { run in
            var i = run.lowerBound
            while i + 8 <= run.upperBound {
                block(i)
                i += 8
            }
            var lane = 0
            while i < run.upperBound {
                single(i, lane)
                i += 1
                lane += 1
            }
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

extension UnsafeMutableBufferPointer where Element == Float {
    /// Scalars `i..<i+8` as one vector.
    @inline(__always)
    func block(_ i: Int) -> SIMD8<Float> { UnsafeRawPointer(baseAddress! + i).loadUnaligned(as: SIMD8<Float>.self) }

    /// Writes `v` to scalars `i..<i+8`.
    @inline(__always)
    func store(_ v: SIMD8<Float>, at i: Int) { UnsafeMutableRawPointer(baseAddress! + i).storeBytes(of: v, as: SIMD8<Float>.self) }
}
