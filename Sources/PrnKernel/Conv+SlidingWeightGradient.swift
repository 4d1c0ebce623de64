import CPrefetch

// The weight gradient of the sliding direct convolution (`Conv+Sliding.swift`):
//
//     dw[o][c][u][v] = Σ_n Σ_p gy[n][o][p] · copy_v[n][c][p + u·W]
//
// over the output pixels p of the flattened plane, with the same shifted copies of x as the
// forward pass. The batch is cut into `gradientParts` parts of consecutive samples (a function of
// the batch alone). The sum over p runs in 16 lanes: in each part, lane l of (o, c, u, v) is the
// chain `acc = fma(gy, x, acc)` over the pixels p ≡ l (mod 16), sample by sample, 16-pixel chunk
// by chunk, from 0; at the end the parts' lanes are added in part order and then the 16 lanes in
// a fixed tree (`laneSum`). The lanes are 16 on every build (two ymm registers each without
// AVX-512), so AVX2 and AVX-512 give the same bits.
//
// The threads split the parts, each filling the shifted copies of its own samples only (when
// they split the output channels instead, each thread filled the copies of every sample) and
// running all output channels over them; the parts are the same on every thread count, so no
// chain depends on it. A part keeps its lanes in memory between groups of samples (a load is
// exact, so where a chain pauses changes no bit) and, per group, loads the lanes of a pair of
// output channels and one input channel into registers (18 of them) and runs them over the
// group's chunks: per chunk two loads of gy and nine of x for 18 FMAs. Without AVX-512 a pass
// takes the pair's taps of one row (6 accumulators, 12 ymm).

extension SlidingPlan {
    /// Samples per group of the weight gradient: about 1024 pixels, so a lane's pass over a group
    /// amortizes loading and storing it.
    var gradientGroupSize: Int { Swift.max(1, Swift.min(batch, (1024 + plane - 1) / plane)) }

    /// Parts of the batch whose lane sums are added at the end: 4 (fewer for a smaller batch), so
    /// that 2 or 4 threads share them evenly.
    var gradientParts: Int { Swift.min(batch, 4) }

    /// `dw = ∂⟨conv(x, w), gy⟩/∂w`, overwriting `dw[O, C, 3, 3]`; with `inputGradient`, also
    /// `dx = conv2dInputGrad(gy, w)` in the same pass (`Conv+SlidingGradients.swift`).
    func weightGradient(x: UnsafePointer<Float>, gy: UnsafePointer<Float>, dw: UnsafeMutablePointer<Float>,
                        inputGradient: SlidingInputGradient? = nil) {
        let taps = inChannels * 9, parts = gradientParts, group = gradientGroupSize, chunks = (plane + 15) / 16
        let padded = chunks * 16, perChannel = copiesPerChannel * shiftedCount, lanesPerPart = outChannels * taps
        let lanes = UnsafeMutablePointer<SIMD16<Float>>.allocate(capacity: Swift.max(1, parts) * lanesPerPart)
        defer { lanes.deallocate() }
        Parallel.forEach(parts) { range in
            // A group's shifted copies and gy rows channel major (`[c][sample]`, `[o][sample]`), so
            // that a pass over one channel pair reads one contiguous block of each: sample major,
            // the samples' blocks of one channel lay a whole number of pages apart on small planes
            // (an 8×8 layer's 16 samples 96 KB apart) and crowded a few L1 sets.
            let copies = slidingCopies(group * copiesPerSample)
            // gy's rows padded with zeros to whole chunks (the lanes past the plane must add
            // nothing); read in place when a group is one sample of whole chunks, and from the
            // input gradient's shifted copies of gy when it runs beside.
            let gyGroup = inputGradient != nil || (plane == padded && group == 1) ? nil : slidingCopies(group * outChannels * padded)
            let gyCopies = inputGradient.map { slidingCopies(group * $0.plan.copiesPerSample) }
            defer {
                copies.deallocate()
                gyGroup?.deallocate()
                gyCopies?.deallocate()
            }
            for part in range {
                let own = lanes + part * lanesPerPart
                own.initialize(repeating: SIMD16(), count: lanesPerPart)
                var first = batch * part / parts
                while first < batch * (part + 1) / parts {
                    let samples = first ..< Swift.min(first + group, batch * (part + 1) / parts)
                    func fillCopies() {
                        for (i, n) in samples.enumerated() {
                            fillShifted(x + n * inChannels * inputPlane, into: copies + i * perChannel, channelStride: group * perChannel)
                        }
                    }
                    let rows: GradientRows
                    if let inputGradient, let gyCopies {
                        // The input gradient first, so that x's copies are the ones still in cache
                        // when the lanes run.
                        rows = inputGradient.run(gy: gy, samples: samples, copies: gyCopies, group: group)
                        fillCopies()
                    } else if let gyGroup {
                        fillCopies()
                        for (i, n) in samples.enumerated() {
                            for o in 0..<outChannels {
                                let row = gyGroup + (o * group + i) * padded
                                row.update(from: gy + (n * outChannels + o) * plane, count: plane)
                                (row + plane).update(repeating: 0, count: padded - plane)
                            }
                        }
                        rows = GradientRows(base: UnsafePointer(gyGroup), sampleStride: padded, channelStride: group * padded)
                    } else {
                        fillCopies()
                        rows = GradientRows(base: gy + samples.lowerBound * outChannels * plane, sampleStride: 0, channelStride: plane)
                    }
                    accumulate(samples: samples.count, outputs: outChannels, chunks: chunks, copies: copies,
                               channelStride: group * perChannel, gy: rows, lanes: own)
                    first = samples.upperBound
                }
            }
        }
        // The lanes lie input channel major (`accumulate`), dw output channel major.
        Parallel.forEach(outChannels) { range in
            for o in range {
                for c in 0..<inChannels {
                    for tap in 0..<9 {
                        let t = (c * outChannels + o) * 9 + tap
                        var sum = parts > 0 ? lanes[t] : SIMD16()
                        for part in 1..<Swift.max(1, parts) { sum += lanes[part * lanesPerPart + t] }
                        dw[(o * inChannels + c) * 9 + tap] = laneSum(sum)
                    }
                }
            }
        }
    }

    /// Runs the group's chunks through the lanes of `outputs` output channels, `lanes[c][k][t]`:
    /// input channel major, so that the passes, input channels outer, walk the lanes in memory
    /// order (a 64-channel layer's lanes are 2.4 MB, more than L2: in `[k][c][t]` order each
    /// pass started with 18 misses 36 KB apart, which the prefetcher does not follow).
    /// `copies`: channel c's shifted copies of sample i at `copies + c·channelStride +
    /// i·copiesPerChannel·shiftedCount`.
    private func accumulate(samples: Int, outputs: Int, chunks: Int, copies: UnsafePointer<Float>, channelStride: Int,
                            gy: GradientRows, lanes: UnsafeMutablePointer<SIMD16<Float>>) {
        let shifted = shiftedCount, rows = tapRows
        let pass = GradientPass(chunks: chunks, samples: samples, perSample: copiesPerChannel * shifted, gyStride: gy.sampleStride,
                                shiftBytes: 4 * shifted, rowBytes: TapRows(4 * rows.first, 4 * rows.second, 4 * rows.third))
        // Input channels outer: a channel's shifted copies stay in L1 while the output channels' gy
        // rows pass by. Output channels in pairs, so each load of x feeds two channels' taps.
        for c in 0..<inChannels {
            let x = copies + c * channelStride
            for k in Swift.stride(from: 0, to: outputs, by: 2) {
                let g = gy.base + k * gy.channelStride, own = lanes + (c * outputs + k) * 9
                if k + 1 == outputs {
                    for u in 0..<3 { gradientRow(pass, x + rows[u], g, own + 3 * u) }
                } else if GEMM.wideTiles {
                    gradientPair(pass, x, g, g + gy.channelStride, own, own + 9)
                } else {
                    for u in 0..<3 { gradientPairRow(pass, x + rows[u], g, g + gy.channelStride, own + 3 * u, own + 9 + 3 * u) }
                }
            }
        }
    }
}

/// Where a group's gy rows are: output channel k of a thread's, sample i at
/// `base + i·sampleStride + k·channelStride`.
struct GradientRows {
    let base: UnsafePointer<Float>, sampleStride: Int, channelStride: Int
}

/// The sizes a pass of the weight gradient's kernel walks: a group's samples (`perSample` floats
/// of shifted copies and `gyStride` of gy apart), each `chunks` chunks of 16 pixels.
struct GradientPass {
    let chunks: Int, samples: Int, perSample: Int, gyStride: Int, shiftBytes: Int
    /// `SlidingPlan.tapRows` in bytes.
    let rowBytes: TapRows
}

/// The sum of a lane vector's 16 lanes in a fixed tree: halves added lane-wise (16 → 8 → 4 → 2),
/// then the last two.
@inline(__always)
func laneSum(_ v: SIMD16<Float>) -> Float {
    let eight = v.lowHalf + v.highHalf, four = eight.lowHalf + eight.highHalf, two = four.lowHalf + four.highHalf
    return two[0] + two[1]
}

/// Nine lanes: one output and input channel's taps (u, v), `rows` (1 or 3, a literal) rows of them.
struct TapLanes {
    var t0 = SIMD16<Float>(), t1 = SIMD16<Float>(), t2 = SIMD16<Float>()
    var t3 = SIMD16<Float>(), t4 = SIMD16<Float>(), t5 = SIMD16<Float>()
    var t6 = SIMD16<Float>(), t7 = SIMD16<Float>(), t8 = SIMD16<Float>()

    @inline(__always)
    init(_ p: UnsafePointer<SIMD16<Float>>, rows: Int) {
        (t0, t1, t2) = (p[0], p[1], p[2])
        if rows > 1 { (t3, t4, t5, t6, t7, t8) = (p[3], p[4], p[5], p[6], p[7], p[8]) }
    }

    @inline(__always)
    func store(_ p: UnsafeMutablePointer<SIMD16<Float>>, rows: Int) {
        (p[0], p[1], p[2]) = (t0, t1, t2)
        if rows > 1 { (p[3], p[4], p[5], p[6], p[7], p[8]) = (t3, t4, t5, t6, t7, t8) }
    }

    /// Adds `g ⊙ x` for the taps, reading tap (u, v) at `x + rowBytes[u] + v·shiftBytes`.
    @inline(__always)
    mutating func accumulate(_ g: SIMD16<Float>, _ x: UnsafeRawPointer, _ pass: GradientPass, rows: Int) {
        @inline(__always) func at(_ u: Int, _ v: Int) -> SIMD16<Float> {
            (x + pass.rowBytes[u] + v &* pass.shiftBytes).loadUnaligned(as: SIMD16<Float>.self)
        }
        t0.addProduct(g, at(0, 0))
        t1.addProduct(g, at(0, 1))
        t2.addProduct(g, at(0, 2))
        if rows > 1 {
            t3.addProduct(g, at(1, 0))
            t4.addProduct(g, at(1, 1))
            t5.addProduct(g, at(1, 2))
            t6.addProduct(g, at(2, 0))
            t7.addProduct(g, at(2, 1))
            t8.addProduct(g, at(2, 2))
        }
    }
}

/// How far ahead of a chunk `gradientPair` asks for gy: 8 chunks. gy's rows come from L2 (a
/// 32×32 layer's 16 rows are 64 KB, more than L1 beside the copies), and the loads of gy stalled
/// the pass; the copies of x stay in L1.
private let gradientPrefetchBytes = 512

/// Two output channels' nine taps for one input channel over a group's samples (AVX-512: 18
/// accumulators). `x`: the channel's first shifted copy of the group's first sample.
@inline(never)
private func gradientPair(_ pass: GradientPass, _ x: UnsafePointer<Float>,
                          _ gy0: UnsafePointer<Float>, _ gy1: UnsafePointer<Float>,
                          _ lanes0: UnsafeMutablePointer<SIMD16<Float>>, _ lanes1: UnsafeMutablePointer<SIMD16<Float>>) {
    gradientPairPass(pass, x, gy0, gy1, lanes0, lanes1, rows: 3, prefetching: true)
}

/// Two output channels' three taps of one row (u) for one input channel over a group's samples
/// (without AVX-512: 6 accumulators, 12 ymm). Per chunk 4 loads of gy and 6 of x for 12 FMAs:
/// `gradientRow`'s 8 loads per 6 FMAs, with 6 chains of 4-cycle FMAs, kept Zen 3 at ~2/3 of
/// its FMA rate. `x`: the row's first shifted copy (copy 0 + tapRows[u]).
@inline(never)
private func gradientPairRow(_ pass: GradientPass, _ x: UnsafePointer<Float>,
                             _ gy0: UnsafePointer<Float>, _ gy1: UnsafePointer<Float>,
                             _ lanes0: UnsafeMutablePointer<SIMD16<Float>>, _ lanes1: UnsafeMutablePointer<SIMD16<Float>>) {
    gradientPairPass(pass, x, gy0, gy1, lanes0, lanes1, rows: 1, prefetching: false)
}

/// The loop of `gradientPair` (3 rows of taps, gy prefetched) and `gradientPairRow` (1 row):
/// each chunk of gy feeds both channels' taps from the same loads of x.
@inline(__always)
private func gradientPairPass(_ pass: GradientPass, _ x: UnsafePointer<Float>,
                              _ gy0: UnsafePointer<Float>, _ gy1: UnsafePointer<Float>,
                              _ lanes0: UnsafeMutablePointer<SIMD16<Float>>, _ lanes1: UnsafeMutablePointer<SIMD16<Float>>,
                              rows: Int, prefetching: Bool) {
    var a = TapLanes(lanes0, rows: rows), b = TapLanes(lanes1, rows: rows)
    for i in 0..<pass.samples {
        var xs = UnsafeRawPointer(x + i &* pass.perSample)
        var g0 = UnsafeRawPointer(gy0 + i &* pass.gyStride), g1 = UnsafeRawPointer(gy1 + i &* pass.gyStride)
        for _ in 0..<pass.chunks {
            if prefetching {
                prn_prefetch_l1(g0 + gradientPrefetchBytes)
                prn_prefetch_l1(g1 + gradientPrefetchBytes)
            }
            a.accumulate(g0.loadUnaligned(as: SIMD16<Float>.self), xs, pass, rows: rows)
            b.accumulate(g1.loadUnaligned(as: SIMD16<Float>.self), xs, pass, rows: rows)
            xs += 64
            g0 += 64
            g1 += 64
        }
    }
    a.store(lanes0, rows: rows)
    b.store(lanes1, rows: rows)
}

/// One output channel's three taps of one row (u) for one input channel over a group's samples
/// (an odd last output channel: 3 accumulators). `x`: the row's first shifted copy (copy 0 + tapRows[u]).
@inline(never)
private func gradientRow(_ pass: GradientPass, _ x: UnsafePointer<Float>, _ gy: UnsafePointer<Float>,
                         _ lanes: UnsafeMutablePointer<SIMD16<Float>>) {
    var a = TapLanes(lanes, rows: 1)
    for i in 0..<pass.samples {
        var xs = UnsafeRawPointer(x + i &* pass.perSample), g = UnsafeRawPointer(gy + i &* pass.gyStride)
        for _ in 0..<pass.chunks {
            a.accumulate(g.loadUnaligned(as: SIMD16<Float>.self), xs, pass, rows: 1)
            xs += 64
            g += 64
        }
    }
    a.store(lanes, rows: 1)
}
