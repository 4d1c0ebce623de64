import Foundation
#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

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
/// (sums, then input gradient) run by groups of channels sized for a core's L2
/// (`ChannelPlanes.forEachGroup`), the later sweeps reading the group again while it is in cache
/// rather than from memory: these passes are bound by memory traffic. A group is read in memory
/// order, sample by sample, so the small planes of late layers (2 × 2 to 8 × 8) stream instead
/// of being gathered plane by plane across the tensor.
///
/// Each scalar goes through the same floating-point operations, in the same order, as the
/// composition of ops spelled out in `Variable.batchNorm`'s backward: a per-channel sum is
/// `channelSums`' (eight lanes, below), a mean is that sum times `1/n`, so the fused and composed
/// results are bit-identical. Channels or planes are split across threads; each output is
/// computed by one thread in a fixed order, so results do not depend on the thread count.
extension Tensor {
    /// Σ over every axis but 1, shape `[C]`, in `ChannelPlanes.laneSums`' order.
    public func channelSums() -> Tensor {
        let layout = ChannelPlanes(shape)
        if layout.plane == 1 { return rowSums(layout) }
        var sums = [Float](repeating: 0, count: layout.channels)
        scalars.withUnsafeBufferPointer { x in
            sums.withUnsafeMutableBufferPointer { out in
                layout.forEachGroup { group in
                    layout.withLanes(group) { lanes in
                        layout.laneSums(in: group, into: lanes, { _, i in x.block(i) }, { _, i in x[i] })
                        for c in group { out[c] = ChannelPlanes.total(lanes[c - group.lowerBound]) }
                    }
                }
            }
        }
        return Tensor(shape: [layout.channels], scalars: sums)
    }

    /// Batch norm with the batch's own statistics, group of channels by group: each channel's mean
    /// `Σx · (1/n)` and biased variance `Σ(x − mean)² · (1/n)`, `invStd = (variance + ε)^(−1/2)`,
    /// then its planes normalized as `batchNormalized(mean:invStd:…)` does, while they are still
    /// in cache (a channel of a 128 × 32 × 32 batch is 512 KB: a group of one). Returns the output and the `[C]`
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
                                            layout.forEachGroup { group in
                                                layout.withLanes(group) { lanes in
                                                    layout.laneSums(in: group, into: lanes, { _, i in x.block(i) }, { _, i in x[i] })
                                                    for c in group { m[c] = ChannelPlanes.total(lanes[c - group.lowerBound]) * invN }
                                                    layout.laneSums(in: group, into: lanes, { c, i in
                                                        let d = x.block(i) - SIMD8<Float>(repeating: m[c])
                                                        return d * d
                                                    }, { c, i in
                                                        let d = x[i] - m[c]
                                                        return d * d
                                                    })
                                                    for c in group {
                                                        v[c] = ChannelPlanes.total(lanes[c - group.lowerBound]) * invN
                                                        s[c] = Foundation.pow(v[c] + epsilon, -0.5)
                                                    }
                                                }
                                                layout.forEachRun(in: group) { c, run in
                                                    ChannelAffine(mean: m[c], invStd: s[c], scale: a[c], shift: b[c])
                                                        .normalize(run, x, into: y, adding: r, relu: relu, bits: bits)
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

    /// Batch norm's backward without a recorded graph, group of channels by group: first the sums
    /// every gradient needs, `Σ g` and `Σ g · x̂` with `x̂ = (x − mean_c) · invStd_c` (in
    /// `channelSums`' order), then, while the group is still in cache, the input gradient
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
                            mean.scalars.withUnsafeBufferPointer { mean in
                                invStd.scalars.withUnsafeBufferPointer { invStd in
                                    scale.scalars.withUnsafeBufferPointer { scale in
                                        let sweeps = BatchNormBackwardSweeps(layout: layout, x: xs, mean: mean, invStd: invStd, scale: scale,
                                                                             batchStatistics: batchStatistics, sums: sum,
                                                                             projections: projection, dx: dx, kept: kept)
                                        GatedGradient.with(g, plus: addend, gate: gate, sweeps)
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
                .storeBytes(of: ReLUGate.bits(positive: y.block(i), y.block(i + 8)).littleEndian, toByteOffset: 0, as: UInt16.self)
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

    /// The gate of sixteen outputs of a ReLU (each +0 or positive: `v > 0 ? v : 0`) as bits, lane
    /// `j` of `low` as bit `j`, of `high` as bit `8 + j`, set where the output is positive.
    @inline(__always)
    static func bits(positive low: SIMD8<Float>, _ high: SIMD8<Float>) -> UInt16 {
        #if arch(x86_64)
        // `0 − y` is negative exactly where y > 0 (+0 − +0 is +0), and `vmovmskps` gathers the
        // sign bits: two instructions per eight lanes. (LLVM turns the portable version below,
        // and lane-by-lane comparisons, into ~25 shuffles, masked moves and adds per sixteen.)
        let zero = SIMD8<Float>()
        return UInt16(truncatingIfNeeded: _mm256_movemask_ps(zero - low)) | UInt16(truncatingIfNeeded: _mm256_movemask_ps(zero - high)) << 8
        #else
        // In floats: the integer SIMD operations compile to a loop over the lanes, the float ones
        // to a vector compare and blend; sums of distinct powers of two below 2¹⁶ are exact, and
        // adding 2²³ puts the sum in the low bits of the significand (no checked conversion).
        let weights = SIMD8<Float>().replacing(with: SIMD8<Float>(1, 2, 4, 8, 16, 32, 64, 128), where: low .> 0)
            + SIMD8<Float>().replacing(with: SIMD8<Float>(1, 2, 4, 8, 16, 32, 64, 128) * 256, where: high .> 0)
        let quarters = weights.lowHalf + weights.highHalf, pair = quarters.lowHalf + quarters.highHalf
        return UInt16(truncatingIfNeeded: ((pair[0] + pair[1]) + 0x1p23).bitPattern)
        #endif
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
    let layout: ChannelPlanes, x: UnsafeBufferPointer<Float>
    let mean: UnsafeBufferPointer<Float>, invStd: UnsafeBufferPointer<Float>, scale: UnsafeBufferPointer<Float>
    let batchStatistics: Bool
    let sums: UnsafeMutableBufferPointer<Float>, projections: UnsafeMutableBufferPointer<Float>
    let dx: UnsafeMutableBufferPointer<Float>?, kept: UnsafeMutableBufferPointer<Float>?

    func callAsFunction<G: GradientReading>(_ gradient: G) {
        layout.forEachGroup { group in
            layout.withLanes(group) { gradientLanes in
                layout.withLanes(group) { projectionLanes in
                    sweepSums(group, gradient, gradientLanes, projectionLanes)
                }
            }
            // The gated copy, when written, is the gradient already gated: the second sweep reads it.
            if let kept { inputGradient(of: group, PlainGradient(g: UnsafeBufferPointer(kept))) } else { inputGradient(of: group, gradient) }
        }
    }

    /// Σ g and Σ g·x̂ of each channel of `group` in `laneSums`' order (each sum's lanes as
    /// `laneSums` adds them), with the gradient as read written out to `kept` when asked for.
    @inline(__always)
    private func sweepSums<G: GradientReading>(_ group: Range<Int>, _ gradient: G, _ gradientLanes: UnsafeMutablePointer<SIMD8<Float>>,
                                               _ projectionLanes: UnsafeMutablePointer<SIMD8<Float>>) {
        let xs = x
        gradientLanes.update(repeating: SIMD8<Float>(), count: group.count)
        projectionLanes.update(repeating: SIMD8<Float>(), count: group.count)
        layout.forEachRun(in: group) { c, run in
            let (mu, inv) = (mean[c], invStd[c])
            let (muBlock, invBlock) = (SIMD8<Float>(repeating: mu), SIMD8<Float>(repeating: inv))
            let (gradientSum, projectionSum) = (gradientLanes + (c - group.lowerBound), projectionLanes + (c - group.lowerBound))
            var (gradientAcc, projectionAcc) = (gradientSum.pointee, projectionSum.pointee)
            ChannelPlanes.forEachBlock(in: run, { i in
                let g = gradient.block(i)
                kept?.store(g, at: i)
                gradientAcc += g
                projectionAcc += g * ((xs.block(i) - muBlock) * invBlock)
            }, { i, count in
                if let kept { for j in 0..<count { kept[i + j] = gradient[i + j] } }
                gradientAcc += ChannelPlanes.tail(count) { gradient[i + $0] }
                projectionAcc += ChannelPlanes.tail(count) { gradient[i + $0] * ((xs[i + $0] - mu) * inv) }
            })
            (gradientSum.pointee, projectionSum.pointee) = (gradientAcc, projectionAcc)
        }
        for c in group {
            (sums[c], projections[c]) = (ChannelPlanes.total(gradientLanes[c - group.lowerBound]),
                                         ChannelPlanes.total(projectionLanes[c - group.lowerBound]))
        }
    }

    /// The `dx` (when asked for) of `group`'s channels from their sums, reading the gradient as `gs`.
    @inline(__always)
    private func inputGradient<H: GradientReading>(of group: Range<Int>, _ gs: H) {
        guard let dx else { return }
        let xs = x, invN = layout.inverseCount
        layout.forEachRun(in: group) { c, run in
            let (mu, inv) = (mean[c], invStd[c])
            let (muBlock, invBlock) = (SIMD8<Float>(repeating: mu), SIMD8<Float>(repeating: inv))
            let k = scale[c] * inv, kBlock = SIMD8<Float>(repeating: k)
            guard batchStatistics else {
                ChannelPlanes.forEachBlock(in: run, { i in dx.store(gs.block(i) * kBlock, at: i) }, { i, count in
                    for j in i..<i + count { dx[j] = gs[j] * k }
                })
                return
            }
            let gMean = sums[c] * invN, projectionMean = projections[c] * invN
            let (gMeanBlock, projectionBlock) = (SIMD8<Float>(repeating: gMean), SIMD8<Float>(repeating: projectionMean))
            ChannelPlanes.forEachBlock(in: run, { i in
                let normalized = (xs.block(i) - muBlock) * invBlock
                dx.store(((gs.block(i) - gMeanBlock) - normalized * projectionBlock) * kBlock, at: i)
            }, { i, count in
                for j in i..<i + count { dx[j] = ((gs[j] - gMean) - ((xs[j] - mu) * inv) * projectionMean) * k }
            })
        }
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
    /// channels per vector. That is `laneSums`' order for planes of one scalar (every scalar
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

    /// Scalars of one channel group's input (`forEachGroup`): about a quarter of a core's L2, so
    /// the group's second and third sweeps, and the output and gradient streamed beside them,
    /// find the input there.
    static let groupScalars = 1 << 17

    /// Runs `body(group)` for consecutive channel groups covering every channel, groups split
    /// across threads. A group's scalars are read sample by sample (`forEachRun(in:)`), each
    /// sample's part of the group one contiguous run, instead of one channel's planes (one plane
    /// per sample, a plane apart from the next by the other channels) at a time: small planes
    /// then stream from memory instead of being gathered a few bytes from each place. The
    /// grouping does not change any result: each channel's sums run over its own planes in
    /// batch order, whatever group it is in.
    func forEachGroup(_ body: (Range<Int>) -> Void) {
        let perChannel = Swift.max(batch * plane, 1)
        let size = Swift.max(1, Swift.min(Self.groupScalars / perChannel, (channels + Parallel.threads - 1) / Swift.max(Parallel.threads, 1)))
        let groups = (channels + size - 1) / size
        Parallel.forEach(groups, grain: Swift.max(1, Tensor.elementwiseGrain / (perChannel * size))) { range in
            for g in range { body(g * size..<Swift.min((g + 1) * size, channels)) }
        }
    }

    /// Runs `body(c, run)` for each plane of the channels in `group` on this thread, in memory
    /// order: sample by sample, within a sample channel by channel. Each channel's planes come
    /// in batch order.
    @inline(__always)
    func forEachRun(in group: Range<Int>, _ body: (_ c: Int, _ run: Range<Int>) -> Void) {
        for n in 0..<batch {
            var start = (n * channels + group.lowerBound) * plane
            for c in group {
                body(c, start..<start + plane)
                start += plane
            }
        }
    }

    /// Each channel `c` of `group`'s sum of `term(i)` over its scalars, into `lanes[c − group.lowerBound]`
    /// (eight lanes, `total` adds them), in a fixed order that vectorizes: scalar `j` of each plane
    /// goes to lane `j mod 8` (`block(c, i)` gives the terms of scalars `i..<i+8` at once,
    /// `single(c, i)` one term), planes in batch order. The order depends on the shape alone.
    @inline(__always)
    func laneSums(in group: Range<Int>, into lanes: UnsafeMutablePointer<SIMD8<Float>>,
                  _ block: (_ c: Int, Int) -> SIMD8<Float>, _ single: (_ c: Int, Int) -> Float) {
        lanes.update(repeating: SIMD8<Float>(), count: group.count)
        forEachRun(in: group) { c, run in
            let sum = lanes + (c - group.lowerBound)
            var acc = sum.pointee
            Self.forEachBlock(in: run, { i in acc += block(c, i) }, { i, count in acc += Self.tail(count) { single(c, i + $0) } })
            sum.pointee = acc
        }
    }

    /// Runs `body` with room for the lanes of `group`'s sums.
    @inline(__always)
    func withLanes<R>(_ group: Range<Int>, _ body: (UnsafeMutablePointer<SIMD8<Float>>) -> R) -> R {
        withUnsafeTemporaryAllocation(of: SIMD8<Float>.self, capacity: group.count) { body($0.baseAddress!) }
    }

    /// The terms `term(0..<count)` (`count` < 8) in lanes `0..<count`, +0 in the others: added to
    /// lanes that are sums from +0 (never −0), it is the same as adding the terms to their lanes
    /// one by one and leaving the others alone (x + 0 = x for every x but −0; NaN stays NaN).
    @inline(__always)
    static func tail(_ count: Int, _ term: (Int) -> Float) -> SIMD8<Float> {
        var v = SIMD8<Float>()
        for j in 0..<count { v[j] = term(j) }
        return v
    }

    /// The eight lanes of a `laneSums` sum added pairwise.
    @inline(__always)
    static func total(_ l: SIMD8<Float>) -> Float { ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7])) }

    /// Runs `block(i)` for scalars `i..<i+8` of `run` and then `tail(i, count)` once for its last
    /// `count = run.count % 8` scalars (when there are any): the split of a plane `laneSums` sums over.
    @inline(__always)
    static func forEachBlock(in run: Range<Int>, _ block: (Int) -> Void, _ tail: (_ i: Int, _ count: Int) -> Void) {
        var i = run.lowerBound
        while i + 8 <= run.upperBound {
            block(i)
            i += 8
        }
        if i < run.upperBound { tail(i, run.upperBound - i) }
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
