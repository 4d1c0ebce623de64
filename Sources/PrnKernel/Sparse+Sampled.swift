// The sampled product (SDDMM) on operands whose depth is contiguous, sixteen entries at a time.
//
// `out[e] = Σ_t a[row(e)·aRow + t] · b[index[e]·bRow + t]`: each entry is one chain over t in
// order (the dense GEMM's chain for that element), so the sixteen entries of a tile sit in the
// sixteen lanes of one accumulator and every lane runs its own chain, one FMA per step of t.
// The operands come as rows over t, the lanes want one t across sixteen rows: a 16 × 16 block
// of rows is loaded and transposed in registers (`Tile16`), which turns 256 scalar FMAs and 512
// scalar loads into 16 vector FMAs, 16 (or 32) loads and 64 (or 128) shuffles. When the sixteen
// entries share their row of `a` (a row of the weight with 16 or more kept entries), its value
// at t is broadcast instead of transposed. The chains are those of the scalar loop in
// `Sparse+Kernels.swift`, so the result is bit for bit the same.

extension SparseKernels {
    /// `out[e]` for the entries `entries` (any range; sixteen at a time, the rest one by one) of
    /// the topology `start`/`index`, `a` and `b` read along contiguous rows. With `blockStride`,
    /// each k-block's sum goes to its own copy of `out`, `blockStride` floats further per block.
    static func sampledTiles(start: UnsafePointer<Int32>, rows: Int, index: UnsafePointer<Int32>, entries: Range<Int>,
                             depth: Int, a: UnsafePointer<Float>, aRow: Int, b: UnsafePointer<Float>, bRow: Int,
                             out: UnsafeMutablePointer<Float>, blockStride: Int? = nil) {
        guard !entries.isEmpty else { return }
        let blocks = kBlocks(depth)
        // The row of the first entry: the last row starting at or before it.
        var low = 0, high = rows
        while high - low > 1 {
            let middle = (low + high) / 2
            if Int(start[middle]) <= entries.lowerBound { low = middle } else { high = middle }
        }
        var row = low
        withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: 32) { pointers in
            let aRows = pointers.baseAddress!, bRows = aRows + 16
            var e = entries.lowerBound
            while e < entries.upperBound {
                let width = Swift.min(16, entries.upperBound - e)
                for k in 0..<width {
                    while Int(start[row + 1]) <= e + k { row += 1 }
                    aRows[k] = a + row &* aRow
                    bRows[k] = b + Int(index[e + k]) &* bRow
                }
                if width == 16 {
                    tile(aRows: aRows, bRows: bRows, shared: aRows[0] == aRows[15], blocks: blocks, out: out + e,
                         blockStride: blockStride)
                } else {
                    for k in 0..<width { chain(aRows[k], bRows[k], blocks: blocks, out: out + e + k, blockStride: blockStride) }
                }
                e += width
            }
        }
    }

    /// Sixteen entries, lane k from rows `aRows[k]` and `bRows[k]`.
    @inline(__always)
    private static func tile(aRows: UnsafePointer<UnsafePointer<Float>>, bRows: UnsafePointer<UnsafePointer<Float>>,
                             shared: Bool, blocks: [Range<Int>], out: UnsafeMutablePointer<Float>, blockStride: Int?) {
        for (k, block) in blocks.enumerated() {
            var acc = SIMD16<Float>()
            var t = block.lowerBound
            while t + 16 <= block.upperBound {
                var bt = Tile16(rows: bRows, at: t)
                bt.transpose()
                if shared {
                    bt.accumulate(broadcasting: aRows[0] + t, into: &acc)
                } else {
                    var at = Tile16(rows: aRows, at: t)
                    at.transpose()
                    bt.accumulate(times: at, into: &acc)
                }
                t += 16
            }
            while t < block.upperBound {
                var x = SIMD16<Float>(), y = SIMD16<Float>()
                for lane in 0..<16 {
                    x[lane] = aRows[lane][t]
                    y[lane] = bRows[lane][t]
                }
                acc.addProduct(x, y)
                t += 1
            }
            if let blockStride {
                UnsafeMutableRawPointer(out + k * blockStride).storeBytes(of: acc, as: SIMD16<Float>.self)
                continue
            }
            let target = UnsafeMutableRawPointer(out)
            if k == 0 {
                target.storeBytes(of: acc, as: SIMD16<Float>.self)
            } else {
                target.storeBytes(of: acc + target.loadUnaligned(as: SIMD16<Float>.self), as: SIMD16<Float>.self)
            }
        }
    }

    /// One entry's chain, block by block.
    @inline(__always)
    private static func chain(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, blocks: [Range<Int>],
                              out: UnsafeMutablePointer<Float>, blockStride: Int?) {
        for (k, block) in blocks.enumerated() {
            var sum: Float = 0
            for t in block { sum = sum.addingProduct(a[t], b[t]) }
            if let blockStride { out[k * blockStride] = sum } else { out.pointee = k == 0 ? sum : sum + out.pointee }
        }
    }
}
