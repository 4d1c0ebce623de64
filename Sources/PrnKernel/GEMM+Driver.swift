// The loops around the micro-kernel: k-blocks, packing rounds, and the split across threads.
//
// For one panel of C and each k-block, every 12-row sliver of op(A) meets every 32-column
// sliver of op(B) in one tile update. Threads split C by rows or by columns, never k.
//  - Private packing (small problems): each worker takes a contiguous part of C and packs all
//    it reads itself, duplicating the operand that is not split. One fork per call.
//  - Shared packing (large problems): each round, all workers pack a share of all slivers, join,
//    then each updates its share of the tiles. Two forks per round, no duplicated packing.

extension GEMM {
    /// The operands of one `sgemm` call.
    struct Job: @unchecked Sendable {
        let transA: Bool, transB: Bool, k: Int, alpha: Float
        let a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int
        let beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int

        /// Computes the panel `C[rows, columns]` over all of k.
        func run(rows: Range<Int>, columns: Range<Int>, workers: Int) {
            let grid = SliverGrid(rows: rows, columns: columns)
            guard workers > 1 else {
                multiplyPrivately(grid)
                return
            }
            // Split along the dimension with more slivers. Waking a worker costs tens of µs on
            // these machines, so when the operand every worker needs is small, each packs its
            // own copy and the call forks once.
            let splitRows = grid.rowSlivers >= grid.columnSlivers
            if (splitRows ? columns.count : rows.count) * k <= privatePackingLimit {
                Parallel.forEach(workers, threads: workers) { range in
                    for w in range {
                        // Parts of C on 4-row or 16-column boundaries (the tile shapes), so each
                        // worker's slivers are as full as the whole grid's.
                        let part = splitRows
                            ? SliverGrid(rows: split(rows, w, of: workers, step: 4), columns: columns)
                            : SliverGrid(rows: rows, columns: split(columns, w, of: workers, step: 16))
                        if !part.rows.isEmpty && !part.columns.isEmpty { multiplyPrivately(part) }
                    }
                }
            } else {
                multiplyShared(grid, workers: workers, splitRows: splitRows)
            }
        }

        /// The k-blocks: `k` split into equal parts of at most `kcMax`. They depend on `k` alone;
        /// that is what makes the result independent of the thread count.
        var kBlocks: [Range<Int>] {
            let count = (k + kcMax - 1) / kcMax
            return (0..<count).map { k * $0 / count ..< k * ($0 + 1) / count }
        }

        /// Consecutive k-blocks grouped so that each group's packed slivers fit `packBudget`.
        func rounds(floatsPerStep: Int) -> [[Range<Int>]] {
            var rounds: [[Range<Int>]] = [], current: [Range<Int>] = [], size = 0
            for block in kBlocks {
                if !current.isEmpty && size + block.count * floatsPerStep > packBudget {
                    rounds.append(current)
                    (current, size) = ([], 0)
                }
                current.append(block)
                size += block.count * floatsPerStep
            }
            rounds.append(current)
            return rounds
        }

        /// One worker, the whole grid: pack, then update every tile, round by round.
        func multiplyPrivately(_ grid: SliverGrid) {
            let rounds = rounds(floatsPerStep: grid.floatsPerStep)
            withPackingBuffer(floats: grid.floatsPerStep * rounds.map(\.depth).max()!) { buffer in
                for (r, round) in rounds.enumerated() {
                    let layout = PackedRound(blocks: round, grid: grid, base: buffer)
                    pack(layout, grid, rowSlivers: 0..<grid.rowSlivers, columnSlivers: 0..<grid.columnSlivers)
                    multiply(layout, grid, rowSlivers: 0..<grid.rowSlivers, columnSlivers: 0..<grid.columnSlivers,
                             firstRound: r == 0)
                }
            }
        }

        /// All workers, one grid: each round, every worker packs a share of all slivers; after
        /// the join, each updates the tiles of its share of row (or column) slivers.
        func multiplyShared(_ grid: SliverGrid, workers: Int, splitRows: Bool) {
            let rounds = rounds(floatsPerStep: grid.floatsPerStep)
            func share(_ w: Int, _ count: Int) -> Range<Int> { count * w / workers ..< count * (w + 1) / workers }
            withPackingBuffer(floats: grid.floatsPerStep * rounds.map(\.depth).max()!) { buffer in
                for (r, round) in rounds.enumerated() {
                    let layout = PackedRound(blocks: round, grid: grid, base: buffer)
                    Parallel.forEach(workers, threads: workers) { range in
                        for w in range {
                            pack(layout, grid, rowSlivers: share(w, grid.rowSlivers),
                                 columnSlivers: share(w, grid.columnSlivers))
                        }
                    }
                    Parallel.forEach(workers, threads: workers) { range in
                        for w in range {
                            multiply(layout, grid,
                                     rowSlivers: splitRows ? share(w, grid.rowSlivers) : 0..<grid.rowSlivers,
                                     columnSlivers: splitRows ? 0..<grid.columnSlivers : share(w, grid.columnSlivers),
                                     firstRound: r == 0)
                        }
                    }
                }
            }
        }

        /// Packs the given slivers of op(A) and op(B) for every k-block of a round.
        private func pack(_ layout: PackedRound, _ grid: SliverGrid, rowSlivers: Range<Int>, columnSlivers: Range<Int>) {
            for (index, block) in layout.blocks.enumerated() {
                let kc = block.count, p = block.lowerBound
                if !rowSlivers.isEmpty {
                    let i = grid.rows(of: rowSlivers.lowerBound).first
                    let count = min(grid.rows.upperBound, i + rowSlivers.count * tileRows) - i
                    // op(A)[i][p] is a[p·lda + i] for Aᵀ, else a[i·lda + p].
                    packSlivers(transA ? a + p * lda + i : a + i * lda + p, ld: lda, contiguous: transA,
                                kc: kc, count: count, tile: tileRows, scale: alpha,
                                into: layout.a(block: index, sliver: rowSlivers.lowerBound),
                                sliverStride: tileRows * kc)
                }
                if !columnSlivers.isEmpty {
                    let j = grid.columns(of: columnSlivers.lowerBound).first
                    let count = min(grid.columns.upperBound, j + columnSlivers.count * tileColumns) - j
                    // op(B)[p][j] is b[j·ldb + p] for Bᵀ, else b[p·ldb + j].
                    packSlivers(transB ? b + j * ldb + p : b + p * ldb + j, ld: ldb, contiguous: !transB,
                                kc: kc, count: count, tile: tileColumns, scale: 1,
                                into: layout.b(block: index, sliver: columnSlivers.lowerBound),
                                sliverStride: tileColumns * kc)
                }
            }
        }

        /// Updates the tiles of C covered by the given slivers, for every k-block of a round.
        private func multiply(_ layout: PackedRound, _ grid: SliverGrid, rowSlivers: Range<Int>,
                              columnSlivers: Range<Int>, firstRound: Bool) {
            withUnsafeTemporaryAllocation(of: Float.self, capacity: tileRows * tileColumns) { scratch in
                for (index, block) in layout.blocks.enumerated() {
                    // The first k-block applies beta (and must not read C when beta is 0).
                    let factor: Float? = firstRound && index == 0 ? (beta == 0 ? nil : beta) : 1
                    // Row slivers in groups whose packed A stays in L2; each group meets every
                    // column sliver, so a B sliver comes from L3 once per group, not per row sliver.
                    let group = rowGroup(kc: block.count)
                    for first in stride(from: rowSlivers.lowerBound, to: rowSlivers.upperBound, by: group) {
                        let rowGroup = first..<Swift.min(first + group, rowSlivers.upperBound)
                        for t in columnSlivers {
                            let (j, w) = grid.columns(of: t)
                            let bSliver = layout.b(block: index, sliver: t)
                            for s in rowGroup {
                                let (i, h) = grid.rows(of: s)
                                multiplyTile(h: h, w: w, kc: block.count, a: layout.a(block: index, sliver: s), b: bSliver,
                                             c: c + i * ldc + j, ldc: ldc, factor: factor, scratch: scratch.baseAddress!)
                            }
                        }
                    }
                }
            }
        }

        /// Part `w` of `workers` of `range`, cut on multiples of `step` from its start.
        private func split(_ range: Range<Int>, _ w: Int, of workers: Int, step: Int) -> Range<Int> {
            func cut(_ w: Int) -> Int {
                let steps = (range.count + step - 1) / step
                return min(range.lowerBound + steps * w / workers * step, range.upperBound)
            }
            return cut(w)..<cut(w + 1)
        }
    }

    /// A part of C cut into slivers: 12-row slivers of op(A), 32-column slivers of op(B),
    /// counted from the part's first row and column.
    struct SliverGrid {
        let rows: Range<Int>, columns: Range<Int>
        let rowSlivers: Int, columnSlivers: Int

        init(rows: Range<Int>, columns: Range<Int>) {
            (self.rows, self.columns) = (rows, columns)
            rowSlivers = (rows.count + tileRows - 1) / tileRows
            columnSlivers = (columns.count + tileColumns - 1) / tileColumns
        }

        /// Packed floats per step of k, all slivers.
        var floatsPerStep: Int { rowSlivers * tileRows + columnSlivers * tileColumns }

        /// First row of C and live row count of row sliver `s`.
        func rows(of s: Int) -> (first: Int, count: Int) {
            let i = rows.lowerBound + s * tileRows
            return (i, min(tileRows, rows.upperBound - i))
        }

        /// First column of C and live column count of column sliver `t`.
        func columns(of t: Int) -> (first: Int, count: Int) {
            let j = columns.lowerBound + t * tileColumns
            return (j, min(tileColumns, columns.upperBound - j))
        }
    }

    /// Where each packed sliver of a round lives: all B slivers first (so they stay 64-byte
    /// aligned), then all A slivers; each sliver has room for a full tile.
    struct PackedRound: @unchecked Sendable {
        let blocks: [Range<Int>]
        private let aOffsets: [Int], bOffsets: [Int]
        private let base: UnsafeMutablePointer<Float>

        init(blocks: [Range<Int>], grid: SliverGrid, base: UnsafeMutablePointer<Float>) {
            (self.blocks, self.base) = (blocks, base)
            var offset = 0, bOffsets: [Int] = [], aOffsets: [Int] = []
            for block in blocks {
                bOffsets.append(offset)
                offset += grid.columnSlivers * tileColumns * block.count
            }
            for block in blocks {
                aOffsets.append(offset)
                offset += grid.rowSlivers * tileRows * block.count
            }
            (self.aOffsets, self.bOffsets) = (aOffsets, bOffsets)
        }

        @inline(__always)
        func a(block: Int, sliver: Int) -> UnsafeMutablePointer<Float> {
            base + aOffsets[block] + sliver * tileRows * blocks[block].count
        }

        @inline(__always)
        func b(block: Int, sliver: Int) -> UnsafeMutablePointer<Float> {
            base + bOffsets[block] + sliver * tileColumns * blocks[block].count
        }
    }

    /// Runs `body` with a 64-byte aligned buffer of `floats` floats.
    static func withPackingBuffer(floats: Int, _ body: (UnsafeMutablePointer<Float>) -> Void) {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(floats, 1) * 4, alignment: 64)
        defer { buffer.deallocate() }
        body(buffer.bindMemory(to: Float.self, capacity: floats))
    }
}

private extension Array where Element == Range<Int> {
    /// Total length of consecutive k-blocks.
    var depth: Int { reduce(0) { $0 + $1.count } }
}
