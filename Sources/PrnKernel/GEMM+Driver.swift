import CPrefetch

// The loops around the micro-kernel: k-blocks, packing rounds, and the split across threads.
//
// For one panel of C and each k-block, every row sliver of op(A) meets every column sliver of
// op(B) in one tile update (`Tiling`). Threads split C by rows or by columns, never k.
//  - Private packing (a small operand every worker reads, or parts of C of at least
//    `privateShareMinimum` rows or columns with that operand up to `privateCopyLimit`): each
//    worker takes a contiguous part of C and packs all it reads itself, duplicating the operand
//    that is not split. One fork per call.
//  - Shared packing (the rest): each round, all workers pack a share
//    of all slivers, join, then each updates its share of the tiles. Two forks per round, no
//    duplicated packing.

extension GEMM {
    /// The operands of one `sgemm` call: A as stored (`a`, `lda`, `transA`, `alpha`), or
    /// `packedA`, already packed, then `a` is nil.
    struct Job: @unchecked Sendable {
        let transA: Bool, transB: Bool, k: Int, alpha: Float
        let a: UnsafePointer<Float>?, lda: Int
        var packedA: PackedA? = nil
        let b: UnsafePointer<Float>, ldb: Int
        let beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
        let tiling: Tiling
        /// Settings that change the speed only.
        var knobs = Knobs.environment
        /// Where the call's time goes, when `knobs.timing` asks for it.
        var stopwatch: Stopwatch? = nil

        /// Computes the panel `C[rows, columns]` over all of k.
        func run(rows: Range<Int>, columns: Range<Int>, workers: Int) {
            let grid = SliverGrid(rows: rows, columns: columns, tiling: tiling)
            guard workers > 1 else {
                multiplyPrivately(grid, worker: 0)
                return
            }
            // Waking a worker costs tens of µs on these machines, so when the operand every
            // worker needs is small, or each worker's part of C is large enough to repay its
            // copy, each packs its own copy and the call forks once. A packed beforehand is
            // shared: the workers split the columns, each packing its part of B, unless there
            // are too few of them.
            let splitRows = packedA == nil ? knobs.splitRows ?? splitsRows(grid, workers: workers)
                                           : grid.columnSlivers < workers
            let unsplitFloats = (splitRows ? columns.count : rows.count) * k
            let share = (splitRows ? rows.count : columns.count) / workers
            if packedA != nil || unsplitFloats <= privatePackingLimit
                || (share >= privateShareMinimum && unsplitFloats <= knobs.privateCopyLimit) {
                fork(workers) { w in
                    let part = self.part(grid, w, of: workers, splitRows: splitRows)
                    if !part.rows.isEmpty && !part.columns.isEmpty { multiplyPrivately(part, worker: w) }
                }
            } else {
                multiplyShared(grid, workers: workers, splitRows: splitRows)
            }
        }

        /// Part `w` of `workers` of `grid` when split by rows (or columns): on tile-row or
        /// 16-column boundaries, so each worker's slivers are as full as the whole grid's; on
        /// sliver boundaries when A is packed already.
        func part(_ grid: SliverGrid, _ w: Int, of workers: Int, splitRows: Bool) -> SliverGrid {
            let rowStep = packedA != nil ? tiling.rows : tiling.rows == 12 ? 4 : 6
            return splitRows
                ? SliverGrid(rows: split(grid.rows, w, of: workers, step: rowStep), columns: grid.columns, tiling: tiling)
                : SliverGrid(rows: grid.rows, columns: split(grid.columns, w, of: workers, step: 16), tiling: tiling)
        }

        /// Whether workers split `grid` by rows: the dimension with more slivers, unless the
        /// other way's largest part is over 1 % smaller (the call ends when that part does),
        /// counted in multiply-adds per step of k, padding included. VGG-16's conv6 forward
        /// (256 × 512, 43 row and 32 column slivers) split by rows gave one worker 22 of the 43
        /// row slivers, 1.6 % more than half; by columns, 16 and 16. On Zen 3 (AVX2), two
        /// threads, 12 rounds alternating in one process under `chrt -f 10` (`PRN_GEMM_SPLIT`),
        /// columns against rows: 166.6 → 171.5 GFLOP/s (12 of 12 rounds) and 162.3 → 171.5 (9 of
        /// 12); n = 256 163.1 → 166.7 (9 of 12). Where the parts differ by less (n = 512 to 2048,
        /// 0.1–0.4 %) the choice measured even, so the old rule stands there.
        func splitsRows(_ grid: SliverGrid, workers: Int) -> Bool {
            func largestPart(splitRows: Bool) -> Int {
                (0..<workers).reduce(0) { largest, w in
                    max(largest, paddedArea(part(grid, w, of: workers, splitRows: splitRows)))
                }
            }
            let byRows = largestPart(splitRows: true), byColumns = largestPart(splitRows: false)
            if 100 * byColumns < 99 * byRows { return false }
            if 100 * byRows < 99 * byColumns { return true }
            return grid.rowSlivers >= grid.columnSlivers
        }

        /// Rows times columns of `grid` as the kernels compute them, each last sliver padded.
        private func paddedArea(_ grid: SliverGrid) -> Int {
            guard grid.rowSlivers > 0 && grid.columnSlivers > 0 else { return 0 }
            let rows = (grid.rowSlivers - 1) * tiling.rows + tiling.paddedRows(grid.rows(of: grid.rowSlivers - 1).count)
            let columns = (grid.columnSlivers - 1) * tiling.columns
                + tiling.paddedColumns(grid.columns(of: grid.columnSlivers - 1).count)
            return rows * columns
        }

        /// Floats packed per step of k for a grid: its B slivers, and its A slivers unless A is
        /// packed already.
        func floatsPerStep(_ grid: SliverGrid) -> Int {
            grid.columnSlivers * tiling.columns + (packedA == nil ? grid.rowSlivers * tiling.rows : 0)
        }

        /// Consecutive k-blocks grouped so that each group's packed slivers fit `packBudget`.
        func rounds(floatsPerStep: Int) -> [[Range<Int>]] {
            var rounds: [[Range<Int>]] = [], current: [Range<Int>] = [], size = 0
            for block in GEMM.kBlocks(k) {
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

        /// One worker (`worker`, for `stopwatch`), the whole grid: pack, then update every tile,
        /// round by round.
        func multiplyPrivately(_ grid: SliverGrid, worker: Int) {
            let rounds = rounds(floatsPerStep: floatsPerStep(grid))
            withPackingBuffer(floats: floatsPerStep(grid) * rounds.map(\.depth).max()!) { buffer in
                for (r, round) in rounds.enumerated() {
                    let layout = PackedRound(blocks: round, grid: grid, base: buffer, packedA: packedA)
                    time(worker, \.pack) {
                        pack(layout, grid, rowSlivers: 0..<grid.rowSlivers, columnSlivers: 0..<grid.columnSlivers)
                    }
                    time(worker, \.multiply) {
                        multiply(layout, grid, rowSlivers: 0..<grid.rowSlivers, columnSlivers: 0..<grid.columnSlivers,
                                 firstRound: r == 0)
                    }
                }
            }
        }

        /// All workers, one grid: each round, every worker packs a share of all slivers; after
        /// the join, each updates the tiles of its share of row (or column) slivers.
        func multiplyShared(_ grid: SliverGrid, workers: Int, splitRows: Bool) {
            let rounds = rounds(floatsPerStep: floatsPerStep(grid))
            func share(_ w: Int, _ count: Int) -> Range<Int> { count * w / workers ..< count * (w + 1) / workers }
            withPackingBuffer(floats: floatsPerStep(grid) * rounds.map(\.depth).max()!) { buffer in
                for (r, round) in rounds.enumerated() {
                    let layout = PackedRound(blocks: round, grid: grid, base: buffer, packedA: packedA)
                    fork(workers) { w in
                        time(w, \.pack) {
                            pack(layout, grid, rowSlivers: share(w, grid.rowSlivers), columnSlivers: share(w, grid.columnSlivers))
                        }
                    }
                    fork(workers) { w in
                        time(w, \.multiply) {
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
                // Full slivers of A read as stored need no packing; a last, partial one does.
                let rowSlivers = readsRowsOfA(grid) ? rowSlivers.clamped(to: grid.fullRowSlivers..<grid.rowSlivers) : rowSlivers
                if !rowSlivers.isEmpty, let a {
                    let i = grid.rows(of: rowSlivers.lowerBound).first
                    let count = min(grid.rows.upperBound, i + rowSlivers.count * tiling.rows) - i
                    // op(A)[i][p] is a[p·lda + i] for Aᵀ, else a[i·lda + p].
                    packSlivers(transA ? a + p * lda + i : a + i * lda + p, ld: lda, contiguous: transA,
                                kc: kc, count: count, tile: tiling.rows, lastTile: tiling.paddedRows, scale: alpha,
                                into: layout.a(block: index, sliver: rowSlivers.lowerBound),
                                sliverStride: tiling.rows * kc)
                }
                if !columnSlivers.isEmpty {
                    let j = grid.columns(of: columnSlivers.lowerBound).first
                    let count = min(grid.columns.upperBound, j + columnSlivers.count * tiling.columns) - j
                    // op(B)[p][j] is b[j·ldb + p] for Bᵀ, else b[p·ldb + j].
                    packSlivers(transB ? b + j * ldb + p : b + p * ldb + j, ld: ldb, contiguous: !transB,
                                kc: kc, count: count, tile: tiling.columns, lastTile: tiling.paddedColumns, scale: 1,
                                into: layout.b(block: index, sliver: columnSlivers.lowerBound),
                                sliverStride: tiling.columns * kc)
                }
            }
        }

        /// Updates the tiles of C covered by the given slivers, for every k-block of a round, each
        /// tile in parts of k (`forEachTilePart`) whose accumulators wait in `carries` between parts.
        private func multiply(_ layout: PackedRound, _ grid: SliverGrid, rowSlivers: Range<Int>,
                              columnSlivers: Range<Int>, firstRound: Bool) {
            var slots = 0
            for block in layout.blocks where GEMM.kPartLength(block.count, tiling) < block.count {
                slots = max(slots, GEMM.rowGroup(tiling, kc: block.count))
            }
            withTileScratch(floats: largestTile * (1 + slots)) { scratch in
                let carries = scratch + largestTile
                for (index, block) in layout.blocks.enumerated() {
                    // The first k-block applies beta (and must not read C when beta is 0).
                    let factor: Float? = firstRound && index == 0 ? (beta == 0 ? nil : beta) : 1
                    let kc = block.count
                    // Slivers that fit in L2 stay there; the hints are for those that stream from memory.
                    let hints = knobs.prefetching && floatsPerStep(grid) * kc > GEMM.groupFloats
                    // C's tiles are worth asking for only when this worker's part of C outgrows L2:
                    // ResNet-20's stage-1 forward (16 × 1024, 64 KB) ran 12 % slower with the hints.
                    let hintsC = hints && knobs.prefetchingC
                        && rowSlivers.count * tiling.rows * columnSlivers.count * tiling.columns > GEMM.groupFloats
                    let rowsOfA = readsRowsOfA(grid)
                    forEachTilePart(tiling, rowSlivers: rowSlivers, columnSlivers: columnSlivers, kc: kc,
                                    partLength: GEMM.kPartLength(kc, tiling)) { s, t, part, slot, groupCount in
                        let (i, h) = grid.rows(of: s), (j, w) = grid.columns(of: t)
                        let rows = tiling.paddedRows(h), columns = tiling.paddedColumns(w)
                        let unpacked = rowsOfA && h == tiling.rows
                        let a: UnsafePointer<Float>
                        if unpacked {
                            a = self.a! + (i * lda + block.lowerBound + part.lowerBound)
                        } else {
                            a = UnsafePointer(layout.a(block: index, sliver: s) + part.lowerBound * rows)
                        }
                        let b = layout.b(block: index, sliver: t) + part.lowerBound * columns
                        var hint: Hint? = nil
                        if hints {
                            // The narrow kernels spread their share of the lines over their steps
                            // (`microKernel`). On Zen 3 (AVX2), against the burst here, medians of 12
                            // rounds alternating in one process under `chrt -f 10`, two such runs on
                            // one thread: n = 512 60.1 → 61.5 and 66.3 → 66.3 GFLOP/s (rounds won 11
                            // and 7 of 12), 1024 61.1 → 65.9 and 79.5 → 80.7 (12, 7), 2048 69.3 →
                            // 73.5 and 71.6 → 80.5 (7, 10); two threads 1024 103 → 114 and 2048
                            // 105 → 126 (10 of 12 each); VGG-16 conv6 forward 59.1 → 61.9 (11),
                            // conv4 grad_a 62.4 → 60.1 (5).
                            if tiling == .narrow {
                                hint = nextPartShare(after: b, floats: part.count * columns, share: slot, of: groupCount)
                            } else {
                                prefetchNextPart(after: b, floats: part.count * columns, share: slot, of: groupCount)
                            }
                            // The tile that is finished next: the group's next row sliver, or the
                            // first one beside the next column sliver.
                            if hintsC && part.upperBound == kc {
                                let (nextS, nextT) = slot + 1 < groupCount ? (s + 1, t) : (s - slot, t + 1)
                                if nextT < columnSlivers.upperBound {
                                    prefetchTile(grid, s: nextS, t: nextT)
                                }
                            }
                        }
                        let carry = carries + slot * largestTile
                        let from = part.lowerBound == 0 ? nil : UnsafePointer(carry)
                        if unpacked {
                            multiplyTile(tiling, h: h, w: w, kc: part.count, a: a, b: b, c: c + i * ldc + j, ldc: ldc,
                                         factor: factor, scratch: scratch, lda: lda)
                        } else if part.upperBound == kc {
                            multiplyTile(tiling, h: h, w: w, kc: part.count, a: a, b: b, c: c + i * ldc + j, ldc: ldc,
                                         factor: factor, carry: from, scratch: scratch, hint: hint)
                        } else {
                            multiplyTile(tiling, h: rows, w: columns, kc: part.count, a: a, b: b, c: carry, ldc: columns,
                                         factor: nil, carry: from, scratch: scratch)
                        }
                    }
                }
            }
        }

        /// Asks for share `share` of `of` of the cache lines of the `floats` floats that follow
        /// `part` in the packed buffer: the part of the column sliver that the group meets next,
        /// or the next sliver's first part. Each tile of the group asks for its share, so the next
        /// part is in L2 when its first tile starts instead of streaming from memory into that
        /// tile: at n = 2048 on the Xeon such a first tile took 3.3× a warm tile's time (4.1 vs
        /// 1.2 µs per 256 steps), 9 % of the multiply.
        @inline(__always)
        private func prefetchNextPart(after part: UnsafePointer<Float>, floats: Int, share: Int, of shares: Int) {
            let next = UnsafeRawPointer(part + floats)
            let lines = (floats * 4 + 63) / 64, perShare = (lines + shares - 1) / shares
            for line in min(lines, share * perShare) ..< min(lines, (share + 1) * perShare) {
                prn_prefetch_l2(next + line * 64)
            }
        }

        /// Share `share` of `of` of the cache lines of the `floats` floats that follow `part`, as
        /// a hint for the kernel to issue (`prefetchNextPart`'s lines).
        @inline(__always)
        private func nextPartShare(after part: UnsafePointer<Float>, floats: Int, share: Int, of shares: Int) -> Hint {
            let next = UnsafeRawPointer(part + floats)
            let lines = (floats * 4 + 63) / 64, perShare = (lines + shares - 1) / shares
            let first = min(lines, share * perShare)
            return Hint(start: next + first * 64, lines: min(lines, (share + 1) * perShare) - first)
        }

        /// Asks for the rows of C's tile (s, t) (its live columns) one tile ahead: the tile's last
        /// part of a k-block reads them (with beta, or after an earlier block) and writes them, and
        /// a C too large for L2 otherwise comes from L3 or memory into the end of every tile. On
        /// Zen 3 (AVX2, 512 KB L2), six alternating pairs under `chrt -f 10` at load 7–13: n = 2048
        /// 65.3 → 72.8 GFLOP/s on one thread, 125.7 → 133.6 on two (6 of 6 pairs each); n = 1024
        /// 64.6 → 67.7 and 118.7 → 125.2 (5 of 6).
        @inline(__always)
        private func prefetchTile(_ grid: SliverGrid, s: Int, t: Int) {
            let (i, h) = grid.rows(of: s), (j, w) = grid.columns(of: t)
            for r in 0..<h {
                let row = UnsafeRawPointer(c + (i + r) * ldc + j)
                prn_prefetch_l1(row)
                prn_prefetch_l1(row + 4 * (w - 1))
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

    /// Calls `body(s, t)` for every row sliver s and column sliver t of `tiling`, in the order
    /// that keeps packed slivers in cache: row slivers in groups that stay in L2 (`rowGroup`),
    /// each column sliver meeting the group in turn, which then comes from L3 once per group.
    @inline(__always)
    static func forEachTile(_ tiling: Tiling, rowSlivers: Range<Int>, columnSlivers: Range<Int>, kc: Int,
                            _ body: (_ s: Int, _ t: Int) -> Void) {
        forEachTilePart(tiling, rowSlivers: rowSlivers, columnSlivers: columnSlivers, kc: kc, partLength: Swift.max(kc, 1)) { s, t, _, _, _ in
            body(s, t)
        }
    }

    /// `forEachTile`'s order with each tile's `kc` steps cut into `parts`: a column sliver meets
    /// the group one part at a time, so that part (32 KB of a wide B sliver at 256 steps, 16 KB
    /// of a narrow one) stays in L1 across the group instead of coming from L2 for every tile,
    /// while the row slivers' parts (12 or 6 KB) stream from L2. `slot` is the tile's place in its
    /// group, where its accumulators can wait between parts; `groupCount` the group's slivers.
    ///
    /// The narrow tiling used to go the other way round (groups of column slivers, each row
    /// sliver's part in L1 and the column slivers' from L2: 64 instead of 24 bytes from L2 per
    /// step of k), which had measured 3 % faster on Zen 4 at n = 2048, one thread, before tiles
    /// ran in parts of k. On the Xeon, x86-64-v3 build, alternating runs under load, this order
    /// was 2–18 % faster on VGG-16's and LeNet's training products and 10–15 % at n = 1024 on two
    /// threads (5–10 % on one, one round of four slower); n = 2048 came out even, and an idle run
    /// showed no difference beyond the host's swings.
    /// The parts are `kPartLength`'s (`partLength` steps each, the last one shorter), stepped through
    /// without building arrays: the α² products of Winograd's layers make tens of thousands of
    /// small calls per training step.
    @inline(__always)
    static func forEachTilePart(_ tiling: Tiling, rowSlivers: Range<Int>, columnSlivers: Range<Int>, kc: Int,
                                partLength: Int, _ body: (_ s: Int, _ t: Int, _ part: Range<Int>, _ slot: Int, _ groupCount: Int) -> Void) {
        let groupSize = rowGroup(tiling, kc: kc)
        for first in Swift.stride(from: rowSlivers.lowerBound, to: rowSlivers.upperBound, by: groupSize) {
            let group = first..<Swift.min(first + groupSize, rowSlivers.upperBound)
            for t in columnSlivers {
                for p in Swift.stride(from: 0, to: kc, by: partLength) {
                    let part = p..<Swift.min(p + partLength, kc)
                    for s in group { body(s, t, part, s - group.lowerBound, group.count) }
                }
            }
        }
    }

    /// A part of C cut into slivers of the tiling's rows of op(A) and columns of op(B), counted
    /// from the part's first row and column.
    struct SliverGrid {
        let rows: Range<Int>, columns: Range<Int>, tiling: Tiling
        let rowSlivers: Int, columnSlivers: Int

        init(rows: Range<Int>, columns: Range<Int>, tiling: Tiling) {
            (self.rows, self.columns, self.tiling) = (rows, columns, tiling)
            rowSlivers = (rows.count + tiling.rows - 1) / tiling.rows
            columnSlivers = (columns.count + tiling.columns - 1) / tiling.columns
        }

        /// Row slivers with all `tiling.rows` rows live (all but a last, partial one).
        var fullRowSlivers: Int { rows.count / tiling.rows }

        /// First row of C and live row count of row sliver `s`.
        func rows(of s: Int) -> (first: Int, count: Int) {
            let i = rows.lowerBound + s * tiling.rows
            return (i, min(tiling.rows, rows.upperBound - i))
        }

        /// First column of C and live column count of column sliver `t`.
        func columns(of t: Int) -> (first: Int, count: Int) {
            let j = columns.lowerBound + t * tiling.columns
            return (j, min(tiling.columns, columns.upperBound - j))
        }
    }

    /// Where each packed sliver of a round lives: all B slivers first (so they stay 64-byte
    /// aligned), then all A slivers; each sliver has room for a full tile. A packed beforehand
    /// (`packedA`) stays where it is: its slivers of one k-block lie the same way, in a row.
    struct PackedRound: @unchecked Sendable {
        let blocks: [Range<Int>]
        /// Per block, its first A and B sliver.
        private let aStarts: [UnsafeMutablePointer<Float>], bStarts: [UnsafeMutablePointer<Float>]
        private let tiling: Tiling

        init(blocks: [Range<Int>], grid: SliverGrid, base: UnsafeMutablePointer<Float>, packedA: PackedA?) {
            (self.blocks, self.tiling) = (blocks, grid.tiling)
            var offset = 0, bStarts: [UnsafeMutablePointer<Float>] = [], aStarts: [UnsafeMutablePointer<Float>] = []
            for block in blocks {
                bStarts.append(base + offset)
                offset += grid.columnSlivers * tiling.columns * block.count
            }
            for block in blocks {
                aStarts.append(packedA?.sliver(row: grid.rows.lowerBound, kBlock: block) ?? base + offset)
                offset += grid.rowSlivers * tiling.rows * block.count
            }
            (self.aStarts, self.bStarts) = (aStarts, bStarts)
        }

        @inline(__always)
        func a(block: Int, sliver: Int) -> UnsafeMutablePointer<Float> {
            aStarts[block] + sliver * tiling.rows * blocks[block].count
        }

        @inline(__always)
        func b(block: Int, sliver: Int) -> UnsafeMutablePointer<Float> {
            bStarts[block] + sliver * tiling.columns * blocks[block].count
        }
    }
}

private extension Array where Element == Range<Int> {
    /// Total length of consecutive k-blocks.
    var depth: Int { reduce(0) { $0 + $1.count } }
}
