/// The convolution and its two adjoints (`Conv.swift`) with a masked weight, computed over its
/// kept weights only: the dense path's per-group steps (`Conv+Groups.swift`), with the sparse
/// products of `Sparse+Kernels.swift` in place of each GEMM. The weight `[O, C, KH, KW]`
/// is the sparse matrix `[O, C·KH·KW]` of its topology.
///
///     sparseConv2d:            y   = P_S(W) · col             (rows of the CSR arrays)
///     sparseConv2dInputGrad:   col = P_S(W)ᵀ · gy, col2im     (rows of the CSC arrays)
///     sparseConv2dWeightGrad:  dW  = Σ_groups P_S(gy · colᵀ)  (SDDMM, group and k-block partials in order)
///
/// Stride-1 convolutions skip im2col in the first two (`Conv+SparseDirect.swift`), and those the
/// dense path runs by Winograd in the third too (`Conv+SparseWindows.swift`, in its own order).
/// Elsewhere, above a kept
/// fraction of `SparseKernels.sampledProductLimit` the weight gradient is the dense one
/// gathered at the kept positions: the sampled product spends several of the GEMM's
/// multiply-adds on each kept weight (its operands are transposed in registers), so there the
/// GEMM is faster.
///
/// Each chain and each sum of partials runs in the dense path's order, so results equal the
/// dense ones on `mask ⊙ w` bit for bit (up to the sign of a zero sum and non-finite inputs, as
/// `Sparse+Kernels.swift` explains), on any thread count.
extension Tensor {
    /// `conv2d(x, P_S(w))`.
    public func sparseConv2d(_ weight: Tensor, _ topology: SparseTopology, stride: Int = 1, padding: Int = 0) -> Tensor {
        let geo = ConvGeometry.validated(input: shape, weight: topology.denseShape(weight.shape), stride: stride, padding: padding)
        let o = geo.outChannels, k = geo.image.patch
        precondition(topology.rows == o && topology.columns == k, "sparseConv2d: topology does not fit \(weight.shape)")
        let values = topology.gather(weight)
        return Tensor.build(geo.outputShape) { y in
            scalars.withUnsafeBufferPointer { x in
                if let layout = InterleavedRows(geo, streaming: .input) {
                    topology.interleavedConv2d(x.baseAddress!, values: values, layout: layout, into: y.baseAddress!)
                    return
                }
                if let layout = PaddedRows(geo) {
                    topology.directConv2d(x.baseAddress!, values: values, layout: layout, into: y.baseAddress!)
                    return
                }
                geo.forward(x: x, y: y) { col, cols, out, threads in
                    topology.multiply(values, order: .rows, dense: col, columns: cols, depth: k, into: out, threads: threads)
                }
            }
        }
    }

    /// `conv2dInputGrad(gy, P_S(w))`, the transposed convolution.
    public static func sparseConv2dInputGrad(_ gy: Tensor, _ weight: Tensor, _ topology: SparseTopology, inputShape: [Int],
                                             stride: Int = 1, padding: Int = 0) -> Tensor {
        let geo = ConvGeometry.validated(input: inputShape, weight: topology.denseShape(weight.shape), stride: stride, padding: padding)
        precondition(gy.shape == geo.outputShape, "sparseConv2dInputGrad: gradient \(gy.shape), expected \(geo.outputShape)")
        let o = geo.outChannels, k = geo.image.patch
        precondition(topology.rows == o && topology.columns == k, "sparseConv2dInputGrad: topology does not fit \(weight.shape)")
        let values = topology.gather(weight, order: .columns)
        return Tensor.build(inputShape) { dx in
            gy.scalars.withUnsafeBufferPointer { g in
                if let layout = InterleavedRows(geo, streaming: .output) {
                    topology.interleavedConv2dInputGrad(g.baseAddress!, values: values, layout: layout, into: dx.baseAddress!)
                    return
                }
                if let layout = PaddedRows(geo) {
                    topology.directConv2dInputGrad(g.baseAddress!, values: values, layout: layout, into: dx.baseAddress!)
                    return
                }
                geo.inputGradient(gy: g, dx: dx) { gGroup, cols, col, threads in
                    topology.multiply(values, order: .columns, dense: gGroup, columns: cols, depth: o, into: col, threads: threads)
                }
            }
        }
    }

    /// `conv2dWeightGrad(x, gy)` at the kept positions of `topology`, 0 elsewhere.
    public static func sparseConv2dWeightGrad(_ x: Tensor, _ gy: Tensor, _ topology: SparseTopology, weightShape: [Int],
                                              stride: Int = 1, padding: Int = 0) -> Tensor {
        let geo = ConvGeometry.validated(input: x.shape, weight: topology.denseShape(weightShape), stride: stride, padding: padding)
        precondition(gy.shape == geo.outputShape, "sparseConv2dWeightGrad: gradient \(gy.shape), expected \(geo.outputShape)")
        let o = geo.outChannels, k = geo.image.patch
        precondition(topology.rows == o && topology.columns == k, "sparseConv2dWeightGrad: topology does not fit \(weightShape)")
        if ConvAlgorithm.chosen(for: geo) != .direct, let layout = InterleavedRows(geo, streaming: .input), layout.takesWeightGradient {
            return sparseConv2dInterleavedWeightGrad(x, gy, topology, layout: layout, weightShape: weightShape)
        }
        if ConvAlgorithm.chosen(for: geo) != .direct, let layout = PaddedRows(geo) {
            return sparseConv2dWindowWeightGrad(x, gy, topology, layout: layout, weightShape: weightShape)
        }
        if topology.density > SparseKernels.sampledProductLimit {
            let dense = conv2dWeightGrad(x, gy, weightShape: topology.shape, stride: stride, padding: padding)
            return topology.gradient(topology.gather(dense), shape: weightShape)
        }
        // Each group's chains stop at the k-blocks of its columns, and the dense path adds every
        // block's sum to dw in turn (group by group, `dw = fma(1, dw, acc)`); so a group leaves
        // one partial per block, added in that order.
        let blocksPerGroup = SparseKernels.kBlocks(geo.groupColumns).count
        let perSlot = (k + o) * geo.groupColumns + blocksPerGroup * topology.count
        var kept = [Float](repeating: 0, count: topology.count)
        var nextGroup = 0
        kept.withUnsafeMutableBufferPointer { total in
            x.scalars.withUnsafeBufferPointer { xs in
                gy.scalars.withUnsafeBufferPointer { g in
                    geo.sampleGroups.forEach(scratch: perSlot, { samples, scratch, threads in
                        let (col, gGroup, cols) = geo.weightGradientOperands(xs.baseAddress!, g.baseAddress!,
                                                                             samples: samples, scratch: scratch)
                        topology.sample(a: gGroup, aRow: cols, aStep: 1, b: col, bRow: cols, bStep: 1, depth: cols,
                                        into: scratch + (k + o) * geo.groupColumns, blockStride: topology.count, threads: threads)
                    }, afterWave: { slotScratch in
                        for scratch in slotScratch {
                            let blocks = SparseKernels.kBlocks(geo.samples(ofGroup: nextGroup).count * geo.image.outputPlane).count
                            for b in 0..<blocks {
                                let partial = scratch + (k + o) * geo.groupColumns + b * topology.count
                                for e in 0..<total.count { total[e] += partial[e] }
                            }
                            nextGroup += 1
                        }
                    })
                }
            }
        }
        return topology.gradient(kept, shape: weightShape)
    }
}

extension SparseTopology {
    /// `out[rows, columns] = S · dense[depth, columns]` (`order == .rows`, values in row order) or
    /// `Sᵀ · dense` (`.columns`, values in column order), all matrices row-major and contiguous.
    /// The chains split at `blocks`, by default the dense product's k-blocks of `depth`.
    func multiply(_ values: [Float], order: EntryOrder, dense: UnsafePointer<Float>, columns: Int, depth: Int,
                  into out: UnsafeMutablePointer<Float>, threads: Int? = nil, blocks: [Range<Int>]? = nil) {
        let (start, index, outRows) = order == .rows ? (rowStart, columnIndex, rows) : (columnStart, cscRowIndex, self.columns)
        let blocks = blocks ?? SparseKernels.kBlocks(depth)
        start.withUnsafeBufferPointer { st in
            index.withUnsafeBufferPointer { ix in
                values.withUnsafeBufferPointer { vs in
                    SparseKernels.forEachPart(outRows, work: count * columns, threads: threads) { range in
                        SparseKernels.rowsTimesDense(start: st.baseAddress!, index: ix.baseAddress!, values: vs.baseAddress!,
                                                     rows: range, blocks: blocks, dense: dense, ldd: columns, n: columns,
                                                     out: out, ldo: columns)
                    }
                }
            }
        }
    }
}
