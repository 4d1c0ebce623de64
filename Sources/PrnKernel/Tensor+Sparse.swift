/// The three products of a masked fully connected layer, computed over its kept weights only.
///
/// With a weight `w[O, I]` and a topology `S` of kept positions, `P_S(w)` is `w` with every
/// entry outside `S` set to 0 (`mask ⊙ w`). The three products are the partial derivatives of the
/// trilinear form `T(x, w, g) = ⟨x · P_S(w)ᵀ, g⟩`:
///
///     sparseLinear(x, w)            = x · P_S(w)ᵀ        [B, O]   (sparse × dense)
///     sparseLinearInputGrad(g, w)   = g · P_S(w)         [B, I]   (sparseᵀ × dense)
///     sparseLinearWeightGrad(x, g)  = P_S(gᵀ · x)        [O, I]   (SDDMM, 0 off S)
///
/// Each equals the dense product of the masked weight (`x.matmul(mask ⊙ w, transB: true)`, and so
/// on) bit for bit, up to the sign of a zero sum and inputs that are infinite or NaN (see
/// `Sparse+Kernels.swift`). Only the kept weights are read; the others may hold anything. The
/// weight may also come compact (`SparseTopology.compact`, its kept values only); its gradient
/// then comes compact too.
///
/// The batch is the contiguous axis of the first two: `x` and `g` are transposed to
/// feature-major `[features, B]` copies (`featureMajorInput`, `featureMajorGradient`: only the
/// features the topology uses, when it leaves most unused: `UsedPart`), so every kept weight
/// costs one SIMD multiply-add per 16 samples, and the result is transposed back.
extension Tensor {
    /// `x[B, I] · P_S(w)ᵀ` for a weight `w[O, I]` with kept positions `topology` (O × I).
    /// `featureMajor`, when the caller has it, is `topology.featureMajorInput(x)`, and saves making it.
    public func sparseLinear(_ weight: Tensor, _ topology: SparseTopology, featureMajor: Tensor? = nil) -> Tensor {
        sparseLinear(weight, topology, addingBias: nil, featureMajor: featureMajor)
    }

    /// `x[B, I] · P_S(w)ᵀ + b`, then `max(·, 0)` when `relu`: the numbers of `sparseLinear` and
    /// then `addingChannelBias(bias, relu:)`, in fewer passes. When the topology leaves most
    /// output features without a kept weight (`UsedPart`), the result is written once: each row
    /// starts as the empty features' `+0 + b` (and ReLU), and the used features' sums are placed
    /// into it with their bias added; otherwise the two run as they are.
    public func sparseLinear(_ weight: Tensor, _ topology: SparseTopology, bias: Tensor, relu: Bool,
                             featureMajor: Tensor? = nil) -> Tensor {
        precondition(bias.shape == [topology.rows], "sparseLinear: bias \(bias.shape) for \(topology.rows) outputs")
        return sparseLinear(weight, topology, addingBias: (bias, relu), featureMajor: featureMajor)
    }

    private func sparseLinear(_ weight: Tensor, _ topology: SparseTopology, addingBias: (bias: Tensor, relu: Bool)?,
                              featureMajor: Tensor?) -> Tensor {
        precondition(rank == 2 && shape[1] == topology.columns,
                     "sparseLinear: input \(shape), weight \(weight.shape)")
        let values = topology.gather(weight)
        return topology.featureMajorProduct(values, order: .rows, featureMajor ?? topology.featureMajorInput(self), addingBias: addingBias)
    }

    /// `g[B, O] · P_S(w)` for a weight `w[O, I]` with kept positions `topology`: the gradient of
    /// `sparseLinear` with respect to its input. `featureMajor`, when given, is
    /// `topology.featureMajorGradient(g)`.
    public static func sparseLinearInputGrad(_ g: Tensor, _ weight: Tensor, _ topology: SparseTopology,
                                             featureMajor: Tensor? = nil) -> Tensor {
        precondition(g.rank == 2 && g.shape[1] == topology.rows,
                     "sparseLinearInputGrad: gradient \(g.shape), weight \(weight.shape)")
        let values = topology.gather(weight, order: .columns)
        return topology.featureMajorProduct(values, order: .columns, featureMajor ?? topology.featureMajorGradient(g))
    }

    /// `P_S(gᵀ · x)`, shaped `weightShape` (`O · I` elements), zero outside `S`: the gradient of
    /// `sparseLinear` with respect to its weight. Up to a kept fraction of
    /// `SparseKernels.sampledProductLimit` it is computed at the kept positions only (SDDMM);
    /// above it, the dense GEMM's product gathered there is faster (the same chains, so the same
    /// bits). `featureMajor`, when the caller has them, are `topology.featureMajorInput(x)` and
    /// `topology.featureMajorGradient(g)`.
    public static func sparseLinearWeightGrad(_ x: Tensor, _ g: Tensor, _ topology: SparseTopology,
                                              weightShape: [Int], featureMajor: (x: Tensor, g: Tensor)? = nil) -> Tensor {
        precondition(x.rank == 2 && g.rank == 2 && g.shape[0] == x.shape[0] && x.shape[1] == topology.columns
                     && g.shape[1] == topology.rows && Shape.count(topology.denseShape(weightShape)) == topology.rows * topology.columns,
                     "sparseLinearWeightGrad: input \(x.shape), gradient \(g.shape), weight \(weightShape)")
        if topology.density > SparseKernels.sampledProductLimit {
            return topology.gradient(topology.gather(g.matmul(x, transA: true)), shape: weightShape)
        }
        return sampledLinearWeightGrad(x, g, topology, weightShape: weightShape, featureMajor: featureMajor)
    }

    /// `sparseLinearWeightGrad` by the sampled product at the kept positions, at any density.
    static func sampledLinearWeightGrad(_ x: Tensor, _ g: Tensor, _ topology: SparseTopology,
                                        weightShape: [Int], featureMajor: (x: Tensor, g: Tensor)? = nil) -> Tensor {
        let batch = x.shape[0]
        let (o, i) = (topology.rows, topology.columns)
        // Entry (r, c) is Σ_b g[b, r] · x[b, c]. Feature-major copies of g and x make every
        // chain contiguous, and the entries go sixteen at a time: worth making them when there
        // are enough entries, always when they come made.
        let transposes = featureMajor
            ?? (topology.count >= o + i ? (topology.featureMajorInput(x), topology.featureMajorGradient(g)) : nil)
        let featureMajor = transposes != nil
        let (gOperand, xOperand) = transposes.map { ($0.g, $0.x) } ?? (g, x)
        // The feature-major copies hold the used part's features, at its ranks.
        let sampled = featureMajor ? topology.usedPart?.topology ?? topology : topology
        if let transposes {
            precondition(transposes.x.shape == [sampled.columns, batch] && transposes.g.shape == [sampled.rows, batch],
                         "sparseLinearWeightGrad: feature-major operands \(transposes.x.shape), \(transposes.g.shape)")
        }
        var kept = [Float](repeating: 0, count: topology.count)
        kept.withUnsafeMutableBufferPointer { out in
            xOperand.scalars.withUnsafeBufferPointer { xs in
                gOperand.scalars.withUnsafeBufferPointer { gs in
                    sampled.sample(a: gs.baseAddress!, aRow: featureMajor ? batch : 1, aStep: featureMajor ? 1 : o,
                                   b: xs.baseAddress!, bRow: featureMajor ? batch : 1, bStep: featureMajor ? 1 : i,
                                   depth: batch, into: out.baseAddress!)
                }
            }
        }
        return topology.gradient(kept, shape: weightShape)
    }
}

extension SparseTopology {
    /// `out[e] = Σ_{t < depth} a[row(e)·aRow + t·aStep] · b[column(e)·bRow + t·bStep]` at every
    /// kept entry e (in row order): `A · Bᵀ` sampled at the topology (SDDMM). With `blockStride`
    /// (contiguous operands only), the sum of k-block b is stored at `out + b · blockStride`
    /// instead of being added to the previous blocks'.
    func sample(a: UnsafePointer<Float>, aRow: Int, aStep: Int, b: UnsafePointer<Float>, bRow: Int, bStep: Int,
                depth: Int, into out: UnsafeMutablePointer<Float>, blockStride: Int? = nil, threads: Int? = nil) {
        rowStart.withUnsafeBufferPointer { start in
            columnIndex.withUnsafeBufferPointer { index in
                let work = count * depth
                guard aStep != 1 || bStep != 1 else {
                    // Contiguous chains: sixteen entries at a time, the threads splitting the entries.
                    SparseKernels.forEachPart(sampledTiles.count, work: work, threads: threads) { tiles in
                        SparseKernels.sampledTiles(plan: sampledTiles, tiles: tiles, index: index.baseAddress!,
                                                   depth: depth, a: a, aRow: aRow, b: b, bRow: bRow, out: out,
                                                   blockStride: blockStride)
                    }
                    return
                }
                precondition(blockStride == nil, "SparseTopology.sample: block partials need contiguous operands")
                SparseKernels.forEachPart(rows, work: work, threads: threads) { range in
                    SparseKernels.sampledProduct(start: start.baseAddress!, index: index.baseAddress!, rows: range, depth: depth,
                                                 a: a, aRow: aRow, aStep: aStep, b: b, bRow: bRow, bStep: bStep,
                                                 out: out)
                }
            }
        }
    }

    /// `(S · D)ᵀ` (or `(Sᵀ · D)ᵀ` for `.columns`), `[B, rows]` (or `[B, columns]`), for the
    /// batch operand `D` as `featureMajorInput` (or `featureMajorGradient`) gives it in `d`.
    /// With a `UsedPart`, only its rows (columns) are computed, over its features, the others
    /// placed as the +0 their empty chains give. `addingBias` (`.rows` only) adds a bias per
    /// output feature, then a ReLU, as `addingChannelBias` does.
    func featureMajorProduct(_ values: [Float], order: EntryOrder, _ d: Tensor,
                             addingBias: (bias: Tensor, relu: Bool)? = nil) -> Tensor {
        let batch = d.shape[1], outCount = order == .rows ? rows : columns
        let part = usedPart, product = part?.topology ?? self
        let (used, reduced) = order == .rows ? (part?.rows, part?.rowsReduced ?? false) : (part?.columns, part?.columnsReduced ?? false)
        let depth = order == .rows ? product.columns : product.rows
        precondition(d.rank == 2 && d.shape[0] == depth, "featureMajorProduct: operand \(d.shape) for \(depth) features")
        let out = Tensor.build([order == .rows ? product.rows : product.columns, batch]) { out in
            d.scalars.withUnsafeBufferPointer { ds in
                product.multiply(values, order: order, dense: ds.baseAddress!, columns: batch, depth: depth, into: out.baseAddress!,
                                 blocks: part.map { order == .rows ? $0.columnBlocks : $0.rowBlocks })
            }
        }
        guard let (bias, relu) = addingBias else { return reduced ? out.transposed(width: outCount, placing: used!) : out.transposed() }
        precondition(order == .rows, "featureMajorProduct: a bias is added to the rows' product only")
        return reduced ? out.transposed(width: outCount, placing: used!, addingBias: bias, relu: relu)
                       : out.transposed().addingChannelBias(bias, relu: relu)
    }

    /// A batch `x[B, columns]` feature-major as the products read it: `[columns, B]`, or only the
    /// used columns' rows when the `UsedPart` dropped columns. `transposed`, when the caller has
    /// it, is `x.transposed()`, and saves making it.
    public func featureMajorInput(_ x: Tensor, transposed: Tensor? = nil) -> Tensor {
        precondition(transposed.map { $0.shape == [x.shape[1], x.shape[0]] } ?? true,
                     "featureMajorInput: transpose \(transposed!.shape) of \(x.shape)")
        guard let part = usedPart, part.columnsReduced else { return transposed ?? x.transposed() }
        return transposed?.rows(part.columns) ?? x.transposed(picking: part.columns)
    }

    /// A gradient `g[B, rows]` feature-major as the products read it: `[rows, B]`, or only the
    /// used rows' when the `UsedPart` dropped rows.
    public func featureMajorGradient(_ g: Tensor) -> Tensor {
        guard let part = usedPart, part.rowsReduced else { return g.transposed() }
        return g.transposed(picking: part.rows)
    }

    /// A dense tensor of `shape` holding `kept` (in row order) at the kept positions, 0 elsewhere.
    public func scatter(_ kept: [Float], shape: [Int]) -> Tensor {
        precondition(kept.count == count && Shape.count(shape) == rows * columns, "SparseTopology.scatter: \(shape)")
        return Tensor.build(shape) { out in
            out.update(repeating: 0)
            positions.withUnsafeBufferPointer { at in
                for e in 0..<at.count { out[Int(at[e])] = kept[e] }
            }
        }
    }
}

extension Tensor {
    /// `[picked.count, width]` for a matrix `[rows, width]`: row k is row `picked[k]`.
    fileprivate func rows(_ picked: [Int32]) -> Tensor {
        let width = shape[1]
        return Tensor.build([picked.count, width]) { out in
            scalars.withUnsafeBufferPointer { x in
                for (k, row) in picked.enumerated() {
                    (out.baseAddress! + k * width).update(from: x.baseAddress! + Int(row) * width, count: width)
                }
            }
        }
    }

    /// `[picked.count, B]` for a matrix `[B, features]`: row k is feature `picked[k]` over the batch.
    fileprivate func transposed(picking picked: [Int32]) -> Tensor {
        let (batch, features) = (shape[0], shape[1])
        return Tensor.build([picked.count, batch]) { out in
            scalars.withUnsafeBufferPointer { x in
                // Output rows one after the other: the batch's rows read at neighbouring picked
                // features share their cache lines.
                for (k, feature) in picked.enumerated() {
                    let (target, column) = (out.baseAddress! + k * batch, x.baseAddress! + Int(feature))
                    for b in 0..<batch { target[b] = column[b * features] }
                }
            }
        }
    }

    /// `transposed(width:placing:)` then `addingChannelBias(bias, relu:)`, in one pass over the
    /// result: every row starts as the empty features' `+0 + b` (and ReLU), then the placed
    /// features get `x + b` (and ReLU), the same scalar operations as the two passes.
    fileprivate func transposed(width: Int, placing placed: [Int32], addingBias bias: Tensor, relu: Bool) -> Tensor {
        let batch = shape[1]
        @inline(__always) func activation(_ v: Float) -> Float { relu ? (v > 0 ? v : 0) : v }
        let empty = bias.scalars.map { activation(0 + $0) }
        return Tensor.build([batch, width]) { out in
            empty.withUnsafeBufferPointer { e in
                for b in 0..<batch { (out.baseAddress! + b * width).update(from: e.baseAddress!, count: width) }
            }
            scalars.withUnsafeBufferPointer { x in
                for (k, feature) in placed.enumerated() {
                    let (f, offset) = (Int(feature), bias.scalars[Int(feature)])
                    for b in 0..<batch { out[b * width + f] = activation(x[k * batch + b] + offset) }
                }
            }
        }
    }

    /// `[B, width]` for a matrix `[placed.count, B]`: feature `placed[k]` is row k, every other
    /// feature +0.
    fileprivate func transposed(width: Int, placing placed: [Int32]) -> Tensor {
        let batch = shape[1]
        return Tensor.build([batch, width]) { out in
            out.update(repeating: 0)
            scalars.withUnsafeBufferPointer { x in
                for (k, feature) in placed.enumerated() {
                    for b in 0..<batch { out[b * width + Int(feature)] = x[k * batch + b] }
                }
            }
        }
    }
}
