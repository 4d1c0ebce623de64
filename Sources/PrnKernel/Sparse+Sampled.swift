// The sampled product (SDDMM) on operands whose depth is contiguous, sixteen entries at a time.
//
// `out[e] = Σ_t a[row(e)·aRow + t] · b[index[e]·bRow + t]`: each entry is one chain over t in
// order (the dense GEMM's chain for that element), so the sixteen entries of a tile sit in the
// sixteen lanes of one accumulator and every lane runs its own chain, one FMA per step of t.
// The operands come as rows over t, the lanes want one t across sixteen rows: two 8 × 8 blocks
// of rows are loaded and transposed in registers (`Tile8`), which turns 128 scalar FMAs and 256
// scalar loads into 16 vector FMAs, 16 (or 32) loads and 48 (or 96) shuffles. When the sixteen
// entries share their row of `a`, its value at t is broadcast instead of transposed, which
// halves the shuffles; `SampledTiles` groups the entries so that most tiles do. The chains are
// those of the scalar loop in `Sparse+Kernels.swift`, so the result is bit for bit the same,
// however the entries are grouped.

/// How the sampled product groups a topology's entries into tiles of sixteen lanes, built once
/// per topology: each row's entries sixteen at a time (a shared row of `a`), a row's remainder
/// of more than eight as one more shared tile with idle lanes, and the shorter remainders pooled
/// into mixed tiles (a mixed tile transposes both operands: two transposes for sixteen entries
/// beat one for eight or fewer).
struct SampledTiles: Sendable {
    /// Per tile, sixteen lanes: the entry each lane computes and that entry's row. Idle lanes
    /// repeat lane 0 (they compute, and are not stored).
    let entries: [Int32], rows: [Int32]
    /// Per tile: the lanes in use (1 ... 16), and whether all of them share a row.
    let widths: [UInt8], shared: [Bool]

    var count: Int { widths.count }

    init(rowStart: [Int32]) {
        var entries: [Int32] = [], rows: [Int32] = [], widths: [UInt8] = [], shared: [Bool] = []
        let capacity = 16 * (Int(rowStart.last ?? 0) / 8 + 2)
        entries.reserveCapacity(capacity)
        rows.reserveCapacity(capacity)
        var poolEntries: [Int32] = [], poolRows: [Int32] = []
        // One tile of `width` lanes from `lanes` and their rows (idle lanes repeat lane 0).
        func emit(_ laneEntries: [Int32], _ laneRows: [Int32], width: Int) {
            for k in 0..<16 {
                entries.append(laneEntries[k < width ? k : 0])
                rows.append(laneRows[k < width ? k : 0])
            }
            widths.append(UInt8(width))
            shared.append(laneRows[0] == laneRows[width - 1])
        }
        var laneEntries = [Int32](repeating: 0, count: 16), laneRows = laneEntries
        for r in 0..<Swift.max(0, rowStart.count - 1) {
            var e = Int(rowStart[r])
            let end = Int(rowStart[r + 1])
            while end - e > 8 {
                let width = Swift.min(16, end - e)
                for k in 0..<width {
                    laneEntries[k] = Int32(e + k)
                    laneRows[k] = Int32(r)
                }
                emit(laneEntries, laneRows, width: width)
                e += width
            }
            for entry in e..<end {
                poolEntries.append(Int32(entry))
                poolRows.append(Int32(r))
                if poolEntries.count == 16 {
                    emit(poolEntries, poolRows, width: 16)
                    poolEntries.removeAll(keepingCapacity: true)
                    poolRows.removeAll(keepingCapacity: true)
                }
            }
        }
        if !poolEntries.isEmpty { emit(poolEntries, poolRows, width: poolEntries.count) }
        self.entries = entries
        self.rows = rows
        self.widths = widths
        self.shared = shared
    }
}

extension SparseKernels {
    /// `out[e]` for the entries of the tiles `tiles` of `plan`, over a topology whose column of
    /// entry e is `index[e]`, `a` and `b` read along contiguous rows. With `blockStride`, each
    /// k-block's sum goes to its own copy of `out`, `blockStride` floats further per block.
    static func sampledTiles(plan: SampledTiles, tiles: Range<Int>, index: UnsafePointer<Int32>,
                             depth: Int, a: UnsafePointer<Float>, aRow: Int, b: UnsafePointer<Float>, bRow: Int,
                             out: UnsafeMutablePointer<Float>, blockStride: Int? = nil) {
        guard !tiles.isEmpty else { return }
        let blocks = kBlocks(depth)
        plan.entries.withUnsafeBufferPointer { entries in
            plan.rows.withUnsafeBufferPointer { rows in
                withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: 32) { pointers in
                    let aRows = pointers.baseAddress!, bRows = aRows + 16
                    for tile in tiles {
                        let lanes = entries.baseAddress! + tile * 16, laneRows = rows.baseAddress! + tile * 16
                        for k in 0..<16 {
                            aRows[k] = a + Int(laneRows[k]) &* aRow
                            bRows[k] = b + Int(index[Int(lanes[k])]) &* bRow
                        }
                        let width = Int(plan.widths[tile])
                        // Shared rows of sixteen lanes hold consecutive entries: one vector store.
                        let contiguous = plan.shared[tile] && width == 16
                        self.tile(aRows: aRows, bRows: bRows, shared: plan.shared[tile], blocks: blocks) { k, acc in
                            let first = Int(lanes[0])
                            if let blockStride {
                                let target = out + k * blockStride
                                if contiguous {
                                    UnsafeMutableRawPointer(target + first).storeBytes(of: acc, as: SIMD16<Float>.self)
                                } else {
                                    for lane in 0..<width { target[Int(lanes[lane])] = acc[lane] }
                                }
                            } else if contiguous {
                                let target = UnsafeMutableRawPointer(out + first)
                                let sum = k == 0 ? acc : acc + target.loadUnaligned(as: SIMD16<Float>.self)
                                target.storeBytes(of: sum, as: SIMD16<Float>.self)
                            } else {
                                for lane in 0..<width {
                                    let e = Int(lanes[lane])
                                    out[e] = k == 0 ? acc[lane] : acc[lane] + out[e]
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Sixteen chains, lane k from rows `aRows[k]` and `bRows[k]`; `finish(k, sums)` after each
    /// k-block.
    @inline(__always)
    private static func tile(aRows: UnsafePointer<UnsafePointer<Float>>, bRows: UnsafePointer<UnsafePointer<Float>>,
                             shared: Bool, blocks: [Range<Int>], finish: (Int, SIMD16<Float>) -> Void) {
        for (k, block) in blocks.enumerated() {
            // Lanes 0–7 and 8–15 as two eight-lane tiles: two independent chains of FMAs.
            var low = SIMD8<Float>(), high = SIMD8<Float>()
            var t = block.lowerBound
            while t + 8 <= block.upperBound {
                var b0 = Tile8(rows: bRows, at: t), b1 = Tile8(rows: bRows + 8, at: t)
                b0.transpose()
                b1.transpose()
                if shared {
                    b0.accumulate(broadcasting: aRows[0] + t, into: &low)
                    b1.accumulate(broadcasting: aRows[0] + t, into: &high)
                } else {
                    var a0 = Tile8(rows: aRows, at: t), a1 = Tile8(rows: aRows + 8, at: t)
                    a0.transpose()
                    a1.transpose()
                    b0.accumulate(times: a0, into: &low)
                    b1.accumulate(times: a1, into: &high)
                }
                t += 8
            }
            var acc = SIMD16(lowHalf: low, highHalf: high)
            while t < block.upperBound {
                var x = SIMD16<Float>(), y = SIMD16<Float>()
                for lane in 0..<16 {
                    x[lane] = aRows[lane][t]
                    y[lane] = bRows[lane][t]
                }
                acc.addProduct(x, y)
                t += 1
            }
            finish(k, acc)
        }
    }
}
