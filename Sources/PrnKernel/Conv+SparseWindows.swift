import Foundation

/// The weight gradient of a sparse convolution that the dense path runs by Winograd, without
/// im2col and without transposes: each kept weight `(o, c, u, v)` is one dot product of the
/// output gradient's channel `o` with the shifted run of input plane `c` its tap reads, over the
/// zero-padded layout of `Conv+SparseDirect.swift` (`PaddedRows`), sixteen positions per lane.
///
/// Why a different order. The dense path computes these layers by Winograd, whose sums the
/// sparse kernels cannot match anyway (README, Sparse training), so here the chains need not
/// follow im2col's order either: each dot product runs sixteen lanes over the group's output
/// positions, sums its lanes, and the groups' sums are added in group order. The result
/// differs from im2col's (and Winograd's) in the last bits only; it is the same on any thread
/// count (a group's sums do not depend on the threads, and are added in group order). Layers
/// the dense path runs on im2col keep the sampled product of `Conv+Sparse.swift`, which is
/// im2col's chain bit for bit.
///
/// Cost: one multiply-add per kept weight and output position (plus the padding's), at about one
/// vector load per FMA: eight dot products of one output channel share each load of its gradient.
extension Tensor {
    /// `conv2dWeightGrad(x, gy)` at the kept positions of `topology` (0 elsewhere, or compact when
    /// `weightShape` is), by the dot products over `layout`: what `sparseConv2dWeightGrad` runs
    /// for a layer the dense path runs by Winograd, and the tests run on any stride-1 layout.
    static func sparseConv2dWindowWeightGrad(_ x: Tensor, _ gy: Tensor, _ topology: SparseTopology, layout: PaddedRows,
                                             weightShape: [Int]) -> Tensor {
        var kept = [Float](repeating: 0, count: topology.count)
        guard !kept.isEmpty else { return topology.gradient(kept, shape: weightShape) }
        kept.withUnsafeMutableBufferPointer { kept in
            x.scalars.withUnsafeBufferPointer { x in
                gy.scalars.withUnsafeBufferPointer { g in
                    topology.windowWeightGradient(x.baseAddress!, g.baseAddress!, layout: layout, into: kept.baseAddress!)
                }
            }
        }
        return topology.gradient(kept, shape: weightShape)
    }
}

extension SparseTopology {
    /// `conv2dWeightGrad(x, gy)` at the kept entries, in row order, into `kept` (`count` floats).
    func windowWeightGradient(_ x: UnsafePointer<Float>, _ gy: UnsafePointer<Float>, layout: PaddedRows,
                              into kept: UnsafeMutablePointer<Float>) {
        let t = layout.positions
        let offsets = columnIndex.map { layout.offset(ofTap: Int($0)) }
        let gradientOffset = layout.inputExtent, partialOffset = layout.inputExtent + rows * t
        kept.update(repeating: 0, count: count)
        offsets.withUnsafeBufferPointer { offsets in
            rowStart.withUnsafeBufferPointer { start in
                layout.geo.sampleGroups.forEach(scratch: partialOffset + count, { samples, scratch, threads in
                    let xPadded = scratch, gPadded = scratch + gradientOffset, partial = scratch + partialOffset
                    xPadded.update(repeating: 0, count: layout.inputExtent)
                    layout.transfer(tensor: UnsafeMutablePointer(mutating: x), padded: xPadded, toPadded: true,
                                    samples: samples, side: .input)
                    gPadded.update(repeating: 0, count: rows * t)
                    layout.transfer(tensor: UnsafeMutablePointer(mutating: gy), padded: gPadded, toPadded: true,
                                    samples: samples, side: .output)
                    SparseKernels.forEachPart(rows, work: count * t, threads: threads) { range in
                        for r in range {
                            let first = Int(start[r])
                            SparseKernels.windowDots(g: gPadded + r * t, x: xPadded, offsets: offsets.baseAddress! + first,
                                                     count: Int(start[r + 1]) - first, positions: t, into: partial + first)
                        }
                    }
                }, afterWave: { slots in
                    for scratch in slots {
                        let partial = scratch + partialOffset
                        for e in 0..<count { kept[e] += partial[e] }
                    }
                })
            }
        }
    }
}

extension SparseKernels {
    /// `out[i] = Σ_{p < positions} g[p] · x[offsets[i] + p]` for `i < count`, `positions` a
    /// multiple of 16: sixteen lanes per dot product, `widest` dot products per pass (independent
    /// chains keep both FMA pipes busy and share each load of `g`), the rest in one pass of their
    /// own width. (A last pass of `widest` whose unused dot products repeat the last offset
    /// made the weight gradient of VGG-16's conv5–13 5–8 % slower, 3 of 4 pairs at density 0.02:
    /// the rows keep 40–100 weights, so the rest is a large part.) Each dot product's chain is
    /// the same whatever the pass width (`dotsPerPass`) and its place in it.
    ///
    /// With `runs` > 1 the positions are `runs` runs of `positions`, run k of `g` starting
    /// `gRunStride · k` floats on and of `x` `xRunStride · k` (the interleaved layout's output
    /// rows, `Conv+SparseInterleaved.swift`); each lane's chain goes through the runs in order.
    static func windowDots(g: UnsafePointer<Float>, x: UnsafePointer<Float>, offsets: UnsafePointer<Int>, count: Int,
                           positions: Int, into out: UnsafeMutablePointer<Float>, widest: Int = dotsPerPass,
                           runs: Int = 1, gRunStride: Int = 0, xRunStride: Int = 0) {
        let runs = Runs(count: runs, g: gRunStride, x: xRunStride)
        var i = 0
        while i + widest <= count {
            if widest == 8 {
                dots(Pass8.self, g: g, x: x, offsets: offsets + i, positions: positions, into: out + i, runs: runs)
            } else {
                dots(Pass6.self, g: g, x: x, offsets: offsets + i, positions: positions, into: out + i, runs: runs)
            }
            i += widest
        }
        let (o, d) = (offsets + i, out + i)
        switch count - i {
        case 7: dots(Pass7.self, g: g, x: x, offsets: o, positions: positions, into: d, runs: runs)
        case 6: dots(Pass6.self, g: g, x: x, offsets: o, positions: positions, into: d, runs: runs)
        case 5: dots(Pass5.self, g: g, x: x, offsets: o, positions: positions, into: d, runs: runs)
        case 4: dots(Pass4.self, g: g, x: x, offsets: o, positions: positions, into: d, runs: runs)
        case 3: dots(Pass3.self, g: g, x: x, offsets: o, positions: positions, into: d, runs: runs)
        case 2: dots(Pass2.self, g: g, x: x, offsets: o, positions: positions, into: d, runs: runs)
        case 1: dots(Pass1.self, g: g, x: x, offsets: o, positions: positions, into: d, runs: runs)
        default: break
        }
    }

    /// Dot products per pass of `windowDots`: eight with 32 vector registers; six with 16
    /// (x86-64-v3), where eight 16-lane accumulators took all sixteen ymm registers and spilled.
    /// (Six and eight measured the same on the Zen 3, session 18; six keeps the AVX2 loop free
    /// of spills.)
    static let dotsPerPass = GEMM.wideTiles ? 8 : 6

    /// `W.width` dot products of `windowDots` in one pass.
    @inline(__always)
    private static func dots<W: PassWidth>(_: W.Type, g: UnsafePointer<Float>, x: UnsafePointer<Float>, offsets: UnsafePointer<Int>,
                                          positions: Int, into out: UnsafeMutablePointer<Float>, runs: Runs) {
        @inline(__always) func load(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
            UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
        }
        let width = W.width
        let x0 = x + offsets[0]
        let x1 = width > 1 ? x + offsets[1] : x, x2 = width > 2 ? x + offsets[2] : x
        let x3 = width > 3 ? x + offsets[3] : x, x4 = width > 4 ? x + offsets[4] : x
        let x5 = width > 5 ? x + offsets[5] : x, x6 = width > 6 ? x + offsets[6] : x
        let x7 = width > 7 ? x + offsets[7] : x
        var a0 = SIMD16<Float>(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0
        var run = 0
        while run < runs.count {
            let (gRun, q) = (g + run &* runs.g, run &* runs.x)
            var p = 0
            while p < positions {
                let gp = load(gRun + p), at = q &+ p
                a0.addProduct(gp, load(x0 + at))
                if width > 1 { a1.addProduct(gp, load(x1 + at)) }
                if width > 2 { a2.addProduct(gp, load(x2 + at)) }
                if width > 3 { a3.addProduct(gp, load(x3 + at)) }
                if width > 4 { a4.addProduct(gp, load(x4 + at)) }
                if width > 5 { a5.addProduct(gp, load(x5 + at)) }
                if width > 6 { a6.addProduct(gp, load(x6 + at)) }
                if width > 7 { a7.addProduct(gp, load(x7 + at)) }
                p += 16
            }
            run &+= 1
        }
        out[0] = a0.sum()
        if width > 1 { out[1] = a1.sum() }
        if width > 2 { out[2] = a2.sum() }
        if width > 3 { out[3] = a3.sum() }
        if width > 4 { out[4] = a4.sum() }
        if width > 5 { out[5] = a5.sum() }
        if width > 6 { out[6] = a6.sum() }
        if width > 7 { out[7] = a7.sum() }
    }
}

/// The runs of `SparseKernels.windowDots`: how many, and how far apart in `g` and in `x`.
struct Runs { let count: Int, g: Int, x: Int }
