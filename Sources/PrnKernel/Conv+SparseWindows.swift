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
    /// multiple of 16: sixteen lanes per dot product, eight dot products at a time (eight
    /// independent chains keep both FMA pipes busy and share each load of `g`).
    static func windowDots(g: UnsafePointer<Float>, x: UnsafePointer<Float>, offsets: UnsafePointer<Int>, count: Int,
                           positions: Int, into out: UnsafeMutablePointer<Float>) {
        @inline(__always) func load(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
            UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
        }
        var i = 0
        while i + 8 <= count {
            let x0 = x + offsets[i], x1 = x + offsets[i + 1], x2 = x + offsets[i + 2], x3 = x + offsets[i + 3]
            let x4 = x + offsets[i + 4], x5 = x + offsets[i + 5], x6 = x + offsets[i + 6], x7 = x + offsets[i + 7]
            var a0 = SIMD16<Float>(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0
            var p = 0
            while p < positions {
                let gp = load(g + p)
                a0.addProduct(gp, load(x0 + p))
                a1.addProduct(gp, load(x1 + p))
                a2.addProduct(gp, load(x2 + p))
                a3.addProduct(gp, load(x3 + p))
                a4.addProduct(gp, load(x4 + p))
                a5.addProduct(gp, load(x5 + p))
                a6.addProduct(gp, load(x6 + p))
                a7.addProduct(gp, load(x7 + p))
                p += 16
            }
            out[i] = a0.sum()
            out[i + 1] = a1.sum()
            out[i + 2] = a2.sum()
            out[i + 3] = a3.sum()
            out[i + 4] = a4.sum()
            out[i + 5] = a5.sum()
            out[i + 6] = a6.sum()
            out[i + 7] = a7.sum()
            i += 8
        }
        while i < count {
            let xi = x + offsets[i]
            var a = SIMD16<Float>()
            var p = 0
            while p < positions {
                a.addProduct(load(g + p), load(xi + p))
                p += 16
            }
            out[i] = a.sum()
            i += 1
        }
    }
}
