import CPrefetch

// The transforms of Winograd F(m×m, 3×3).
//
// Every transform is a sandwich `L · X · Rᵀ` of a small matrix X between two constant matrices,
// computed in two passes of the tile's network (`Conv+WinogradNetworks.swift`): along X's rows,
// then down its columns. X's elements are runs of floats ("lanes"): the same element of many
// tiles (or many kernels) side by side, so each pass is a loop along the lanes that the compiler
// vectorizes. The data's row passes read and write the planes' rows directly.

/// The constant matrices of Winograd F(m×m, 3×3) (Lavin & Gray, 2016): with α = m + 2 the input
/// tile side, a tile of outputs is `Aᵀ · [(G·g·Gᵀ) ⊙ (Bᵀ·d·B)] · A` for the α × α input patch d
/// and the 3 × 3 kernel g.
struct WinogradTile: Sendable {
    /// Outputs per tile side.
    let m: Int
    /// `Bᵀ` (α × α), `G` (α × 3), `Aᵀ` (m × α).
    let inputTransform: SmallMatrix, weightTransform: SmallMatrix, outputTransform: SmallMatrix

    /// Input tile side, `m + 2`.
    var alpha: Int { m + 2 }
    /// Positions of the transformed domain, α²: one GEMM each.
    var positions: Int { alpha * alpha }

    /// F(2×2, 3×3), interpolation points 0, ±1: 16 multiplies per 4 outputs, and its transforms
    /// only add, subtract and halve.
    static let f2 = WinogradTile(m: 2, inputTransform: SmallMatrix([
        [1, 0, -1, 0],
        [0, 1, 1, 0],
        [0, -1, 1, 0],
        [0, 1, 0, -1],
    ]), weightTransform: SmallMatrix([
        [1, 0, 0],
        [0.5, 0.5, 0.5],
        [0.5, -0.5, 0.5],
        [0, 0, 1],
    ]), outputTransform: SmallMatrix([
        [1, 1, 1, 0],
        [0, 1, -1, -1],
    ]))

    /// F(4×4, 3×3), points 0, ±1, ±2: 36 multiplies per 16 outputs (4× fewer than direct), at
    /// the price of larger rounding errors (G has 1/6 and 1/24, Bᵀ and Aᵀ entries up to 8).
    static let f4 = WinogradTile(m: 4, inputTransform: SmallMatrix([
        [4, 0, -5, 0, 1, 0],
        [0, -4, -4, 1, 1, 0],
        [0, 4, -4, -1, 1, 0],
        [0, -2, -1, 2, 1, 0],
        [0, 2, -1, -2, 1, 0],
        [0, 4, 0, -5, 0, 1],
    ]), weightTransform: SmallMatrix([
        [1.0 / 4, 0, 0],
        [-1.0 / 6, -1.0 / 6, -1.0 / 6],
        [-1.0 / 6, 1.0 / 6, -1.0 / 6],
        [1.0 / 24, 1.0 / 12, 1.0 / 6],
        [1.0 / 24, -1.0 / 12, 1.0 / 6],
        [0, 0, 1],
    ]), outputTransform: SmallMatrix([
        [1, 1, 1, 1, 1, 0],
        [0, 1, -1, 2, -2, 0],
        [0, 1, 1, 4, 4, 0],
        [0, 1, -1, 8, -8, 1],
    ]))
}

/// A small constant matrix kept as its nonzero terms, row by row: the definition each tile's
/// network computes (WinogradTests checks them against each other).
struct SmallMatrix: Sendable {
    let rows: Int, columns: Int
    /// For each row, `(column, coefficient)` of its nonzero entries, left to right.
    let terms: [[(column: Int, coefficient: Float)]]

    init(_ entries: [[Float]]) {
        rows = entries.count
        columns = entries[0].count
        terms = entries.map { row in
            row.indices.filter { row[$0] != 0 }.map { (column: $0, coefficient: row[$0]) }
        }
    }

    /// The transpose.
    var transposed: SmallMatrix {
        var entries = [[Float]](repeating: [Float](repeating: 0, count: rows), count: columns)
        for (i, row) in terms.enumerated() {
            for (j, c) in row { entries[j][i] = c }
        }
        return SmallMatrix(entries)
    }
}

extension WinogradPlan {
    /// Runs of whole tile rows of a group of `samples` samples, about `lanesPerRun` tiles each:
    /// `body(rows)` with rows numbered across the group (sample `row / tileRows`, tile row
    /// `row % tileRows`), a run's tiles being `rows.lowerBound · tileColumns` onwards.
    func forEachRun(samples: Int, _ body: (Range<Int>) -> Void) {
        let total = samples * tileRows, step = Swift.max(1, Self.lanesPerRun / tileColumns)
        var first = 0
        while first < total {
            body(first..<Swift.min(first + step, total))
            first += step
        }
    }

    /// Lanes of a transform's run: its block (α² elements) stays in the L1 cache.
    static let lanesPerRun = 64

    /// Lanes of a run of the weight's transforms (`forEachKernelRun`): 256, whose scratch (9 +
    /// 3·α rows, 27 KB for F(4×4)) still fits the L1 cache. A run writes its lanes into each of
    /// the α² packed matrices, which lie past the L2 cache on VGG-16 (38 MB at 512 × 512
    /// channels); with 64 lanes, 256 bytes per matrix, the stores missed at every run. `perf
    /// record`, VGG-16, 1 thread, load 12-15, two alternating rounds: `transformedWeight` 0.298 /
    /// 0.313 of the GEMM kernel's samples with 64 lanes, 0.271 / 0.265 with 256.
    static let kernelLanesPerRun = 256

    /// `V[ξ][c][t] = (Bᵀ·d·B)[ξ]` for the α × α input patch d of tile t in channel c (zero past
    /// the edges) of each tile of the group, `tiles` of them.
    func transformInput(_ x: UnsafePointer<Float>, samples: Range<Int>, into v: UnsafeMutablePointer<Float>, tiles: Int,
                        threads: Int?) {
        switch tile.m {
        case 2: transformInput(WinogradNetwork2.self, x, samples: samples, into: v, tiles: tiles, threads: threads)
        default: transformInput(WinogradNetwork4.self, x, samples: samples, into: v, tiles: tiles, threads: threads)
        }
    }

    /// `y_tile = Aᵀ·M_tile·A` for every output channel and tile of the group.
    func transformOutput(_ mm: UnsafePointer<Float>, tiles: Int, samples: Range<Int>, into y: UnsafeMutablePointer<Float>,
                         threads: Int?) {
        switch tile.m {
        case 2: transformOutput(WinogradNetwork2.self, mm, tiles: tiles, samples: samples, into: y, threads: threads)
        default: transformOutput(WinogradNetwork4.self, mm, tiles: tiles, samples: samples, into: y, threads: threads)
        }
    }

    /// `Z[ξ][o][t] = (A·gy_t·Aᵀ)[ξ]` for the m × m block gy_t of tile t (zero past the edges),
    /// the adjoint of `transformOutput`.
    func transformGradient(_ gy: UnsafePointer<Float>, samples: Range<Int>, into z: UnsafeMutablePointer<Float>, tiles: Int,
                           threads: Int?) {
        switch tile.m {
        case 2: transformGradient(WinogradNetwork2.self, gy, samples: samples, into: z, tiles: tiles, threads: threads)
        default: transformGradient(WinogradNetwork4.self, gy, samples: samples, into: z, tiles: tiles, threads: threads)
        }
    }

    // Each transform is two passes of its network over a run of tiles: along the rows of every
    // tile, reading (or writing) the plane's rows directly, into (or from) the run's block
    // `[element][lane]`; and down the columns, between that block and the α² GEMM operands.

    private func transformInput<N: WinogradNetwork>(_: N.Type, _ x: UnsafePointer<Float>, samples: Range<Int>,
                                                    into v: UnsafeMutablePointer<Float>, tiles: Int, threads: Int?) {
        let m = N.m, alpha = m + 2, tw = tileColumns, stride = inChannels * tiles
        forEachChannel(inChannels, threads: threads, blocks: 2) { c, patch, _ in
            let patches = patch + tile.positions * Swift.max(Self.lanesPerRun, tw)
            forEachRun(samples: samples.count) { rows in
                let lanes = rows.count * tw
                prefetchRun(after: rows, x, channels: inChannels, channel: c, samples: samples, side: alpha, left: 1)
                // The row pass along all the run's tiles at once, on their gathered patches.
                gatherPatches(N.self, x, channel: c, samples: samples, rows: rows, into: patches)
                for a in 0..<alpha {
                    N.input(patches + a * alpha * lanes, lanes, 1, into: patch + a * alpha * lanes, lanes, 1, count: lanes)
                }
                for k in 0..<alpha {
                    N.input(patch + k * lanes, alpha * lanes, 1,
                            into: v + k * stride + c * tiles + rows.lowerBound * tw, alpha * stride, 1, count: lanes)
                }
            }
        }
    }

    private func transformOutput<N: WinogradNetwork>(_: N.Type, _ mm: UnsafePointer<Float>, tiles: Int, samples: Range<Int>,
                                                     into y: UnsafeMutablePointer<Float>, threads: Int?) {
        let m = N.m, alpha = m + 2, plane = height * width, tw = tileColumns, stride = outChannels * tiles
        forEachChannel(outChannels, threads: threads) { o, block, row in
            forEachRun(samples: samples.count) { rows in
                let lanes = rows.count * tw
                for b in 0..<alpha {
                    N.output(mm + b * stride + o * tiles + rows.lowerBound * tw, alpha * stride, 1,
                             into: block + b * lanes, alpha * lanes, 1, count: lanes)
                }
                if tileRows == 1 && width == m {
                    // A plane of one tile as wide as it (VGG's 4×4 planes on F(4×4)): the run's
                    // lanes are consecutive samples, so the row pass runs along them, each
                    // sample's row `outChannels · plane` floats from the last, rather than one
                    // scalar network per sample and row.
                    let first = y + ((samples.lowerBound + rows.lowerBound) * outChannels + o) * plane
                    for i in 0..<height {
                        N.output(block + i * alpha * lanes, lanes, 1, into: first + i * width, 1, outChannels * plane,
                                 count: lanes)
                    }
                    return
                }
                for r in rows {
                    let dst = y + ((samples.lowerBound + r / tileRows) * outChannels + o) * plane
                    let top = m * (r % tileRows), lane = (r - rows.lowerBound) * tw
                    for i in 0..<m where top + i < height {
                        // Whole tiles write straight into y; tiles over the right edge into `row` first.
                        let to = dst + (top + i) * width, whole = tw * m == width
                        N.output(block + i * alpha * lanes + lane, lanes, 1, into: whole ? to : row, 1, m, count: tw)
                        if !whole { to.update(from: row, count: width) }
                    }
                }
            }
        }
    }

    private func transformGradient<N: WinogradNetwork>(_: N.Type, _ gy: UnsafePointer<Float>, samples: Range<Int>,
                                                       into z: UnsafeMutablePointer<Float>, tiles: Int, threads: Int?) {
        let m = N.m, alpha = m + 2, tw = tileColumns, stride = outChannels * tiles
        forEachChannel(outChannels, threads: threads) { o, block, row in
            forEachRun(samples: samples.count) { rows in
                let lanes = rows.count * tw
                prefetchRun(after: rows, gy, channels: outChannels, channel: o, samples: samples, side: m, left: 0)
                forEachPlaneRow(gy, channels: outChannels, channel: o, samples: samples, rows: rows, side: m, left: 0,
                                block: block, edge: row) { from, to, count in
                    N.outputAdjoint(from, 1, m, into: to, lanes, 1, count: count)
                }
                for b in 0..<alpha {
                    N.outputAdjoint(block + b * lanes, alpha * lanes, 1,
                                    into: z + b * stride + o * tiles + rows.lowerBound * tw, alpha * stride, 1, count: lanes)
                }
            }
        }
    }

    /// Asks the cache for the plane rows that the run after `rows` (as long, or up to the
    /// group's end) reads in channel `channel`: each tile row's `side` rows from `left` above it.
    /// A run reads each sample's rows of one channel, a block of a plane (a few KB at most)
    /// `channels` planes from the next sample's, too short and too far apart for the hardware
    /// prefetchers, so without the hints each run starts with its loads missing to memory. A
    /// hint never changes a result.
    private func prefetchRun(after rows: Range<Int>, _ planes: UnsafePointer<Float>, channels: Int, channel: Int,
                             samples: Range<Int>, side: Int, left: Int) {
        let m = tile.m, plane = height * width, end = Swift.min(rows.upperBound + rows.count, samples.count * tileRows)
        var r = rows.upperBound
        while r < end {
            // The next run's tile rows in one sample, and the plane rows they read.
            let sample = r / tileRows, last = Swift.min(end, (sample + 1) * tileRows) - 1
            let top = Swift.max(0, m * (r % tileRows) - left), bottom = Swift.min(height, m * (last % tileRows) - left + side)
            let from = UnsafeRawPointer(planes + ((samples.lowerBound + sample) * channels + channel) * plane + top * width)
            let bytes = (bottom - top) * width * MemoryLayout<Float>.stride
            var line = 0
            while line < bytes {
                prn_prefetch_l2(from + line)
                line += 64
            }
            if bytes > 0 { prn_prefetch_l2(from + bytes - 1) }
            r = last + 1
        }
    }

    /// The α × α input patches of the run's tiles in channel `channel`, element (a, k) of
    /// lane l at `patches[(a·α + k) · lanes + l]` (zero past the plane's edges), so that the row
    /// pass runs along all the run's lanes with unit strides, which vectorizes (reading each
    /// tile's overlapping window from the plane row would not).
    private func gatherPatches<N: WinogradNetwork>(_: N.Type, _ x: UnsafePointer<Float>, channel: Int, samples: Range<Int>,
                                                   rows: Range<Int>, into patches: UnsafeMutablePointer<Float>) {
        let m = N.m, alpha = m + 2, tw = tileColumns, lanes = rows.count * tw
        if tileRows == 1 && tw == 1 {
            gatherWholePlanes(x, channel: channel, samples: samples, rows: rows, into: patches)
            return
        }
        forEachRunRow(x, channels: inChannels, channel: channel, samples: samples, rows: rows, side: alpha, left: 1,
                      block: patches) { to, row in
            var j = 0
            // Four tiles at a time from 16 columns, then two from 8 (the 8 × 8 planes' two tiles
            // a row for m = 4), in vectors rather than one scalar per element.
            while j + 4 <= tw && m * j + 16 <= width {
                gatherWindows(SIMD16<Float>.self, SIMD4<Float>.self, row: row, firstTile: j, m: m, alpha: alpha, into: to, lanes: lanes)
                j += 4
            }
            while j + 2 <= tw && m * j + 8 <= width {
                gatherWindows(SIMD8<Float>.self, SIMD2<Float>.self, row: row, firstTile: j, m: m, alpha: alpha, into: to, lanes: lanes)
                j += 2
            }
            for j in j..<tw {
                for k in 0..<alpha {
                    let column = m * j - 1 + k
                    to[k * lanes + j] = column >= 0 && column < width ? row[column] : 0
                }
            }
        }
    }

    /// `gatherPatches` where a plane is one tile (at most m × m: VGG's 4×4 planes on F(4×4) and
    /// 2×2 on F(2×2)), so the run's lanes are consecutive samples, `sampleStride` floats apart.
    /// The padding elements are zeroed across all lanes at once, and each element of the plane is
    /// copied along the lanes, instead of a row's few elements at a time with an edge test each
    /// and a call to zero each padding element of each lane (which took most of its time).
    private func gatherWholePlanes(_ x: UnsafePointer<Float>, channel: Int, samples: Range<Int>, rows: Range<Int>,
                                   into patches: UnsafeMutablePointer<Float>) {
        let alpha = tile.alpha, lanes = rows.count, plane = height * width, sampleStride = inChannels * plane
        for a in 0..<alpha {
            for k in 0..<alpha where a == 0 || a > height || k == 0 || k > width {
                (patches + (a * alpha + k) * lanes).update(repeating: 0, count: lanes)
            }
        }
        let first = x + ((samples.lowerBound + rows.lowerBound) * inChannels + channel) * plane
        for i in 0..<height {
            for j in 0..<width {
                let to = patches + ((i + 1) * alpha + j + 1) * lanes, from = first + i * width + j
                for l in 0..<lanes { to[l] = from[l &* sampleStride] }
            }
        }
    }

    /// `gatherPatches`' elements of one row for `Tiles.scalarCount` tiles from `firstTile` on (at
    /// most `Head.scalarCount / m` of them), all inside the row: their window, the columns
    /// m·j − 1 ... m·j + H (H = `Head.scalarCount`), is one vector of H columns and a column on
    /// each side (zero outside the plane), and the elements are picked out of it by shuffles.
    @inline(__always)
    private func gatherWindows<Head: SIMD, Tiles: SIMD>(_: Head.Type, _: Tiles.Type, row: UnsafePointer<Float>, firstTile j: Int,
                                                        m: Int, alpha: Int, into to: UnsafeMutablePointer<Float>, lanes: Int)
        where Head.Scalar == Float, Tiles.Scalar == Float {
        let h = Head.scalarCount
        let head = UnsafeRawPointer(row + m * j).loadUnaligned(as: Head.self)
        let left: Float = j == 0 ? 0 : row[m * j - 1], right: Float = m * j + h < width ? row[m * j + h] : 0
        for k in 0..<alpha {
            var element = Tiles()
            for t in 0..<Tiles.scalarCount {
                let i = t * m + k   // in the window; column m·j − 1 + i
                element[t] = i == 0 ? left : i <= h ? head[i - 1] : right
            }
            UnsafeMutableRawPointer(to + k * lanes + j).storeBytes(of: element, as: Tiles.self)
        }
    }

    /// The row pass from the planes of one channel: for each tile row of the run and each of its
    /// tiles' `side` rows (from `left` rows above the tile), `pass(from, to, count)` for the
    /// row's `tileColumns` tiles side by side, tile j reading `side` floats from `from + m·j` (its
    /// columns from `left` left of it) into its lane of `to` (the tiles' row in `block`, `α ·
    /// lanes` floats per row). When every tile lies inside the plane the pass reads the plane's
    /// row directly; otherwise it reads the row copied into `edge` between zeros (the padding),
    /// so the tiles over an edge run in the same vector pass as the others. Rows outside the plane
    /// give α zero elements.
    private func forEachPlaneRow(_ planes: UnsafePointer<Float>, channels: Int, channel: Int, samples: Range<Int>,
                                 rows: Range<Int>, side: Int, left: Int, block: UnsafeMutablePointer<Float>,
                                 edge: UnsafeMutablePointer<Float>,
                                 _ pass: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void) {
        let tw = tileColumns
        // The columns the row's tiles read, from −left: all inside the plane, or padded in `edge`.
        let span = tile.m * (tw - 1) + side, padded = left > 0 || span > width
        if padded {
            edge.update(repeating: 0, count: left)
            (edge + left + width).update(repeating: 0, count: span - left - width)
        }
        forEachRunRow(planes, channels: channels, channel: channel, samples: samples, rows: rows, side: side, left: left,
                      block: block) { to, row in
            if padded {
                (edge + left).update(from: row, count: width)
                pass(edge, to, tw)
            } else {
                pass(row, to, tw)
            }
        }
    }

    /// For each tile row of the run and each of its tiles' `side` rows (from `left` rows above
    /// the tile), `body(to, row)`: `to` is that row's place in `block` (the run's tiles side by
    /// side, `α · lanes` floats per row), `row` the plane's row. A row outside the plane gives α
    /// zero elements per tile instead.
    private func forEachRunRow(_ planes: UnsafePointer<Float>, channels: Int, channel: Int, samples: Range<Int>,
                               rows: Range<Int>, side: Int, left: Int, block: UnsafeMutablePointer<Float>,
                               _ body: (_ to: UnsafeMutablePointer<Float>, _ row: UnsafePointer<Float>) -> Void) {
        let alpha = tile.alpha, m = tile.m, tw = tileColumns, lanes = rows.count * tw, plane = height * width
        for r in rows {
            let src = planes + ((samples.lowerBound + r / tileRows) * channels + channel) * plane
            let top = m * (r % tileRows) - left, lane = (r - rows.lowerBound) * tw
            for a in 0..<side {
                let to = block + a * alpha * lanes + lane, y = top + a
                guard y >= 0 && y < height else {
                    for k in 0..<alpha { (to + k * lanes).update(repeating: 0, count: tw) }
                    continue
                }
                body(to, src + y * width)
            }
        }
    }

    /// `body(channel, block, row)` for each of `count` channels, in pieces the threads (`threads`,
    /// all when nil) claim as they finish one, each piece with `blocks` α² × run blocks and room
    /// for a plane row. Each channel's transform is the same on any thread.
    private func forEachChannel(_ count: Int, threads: Int?, blocks: Int = 1,
                                _ body: (Int, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void) {
        let size = blocks * tile.positions * Swift.max(Self.lanesPerRun, tileColumns), row = tile.m * tileColumns + 2
        Parallel.forEachClaimed(count, threads: threads) { channels in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: size + row)
            defer { scratch.deallocate() }
            for channel in channels { body(channel, scratch, scratch + size) }
        }
    }

    /// The forward GEMMs' left operands `U[ξ]ᵀ` (O × C), `U[ξ][c][o] = (G·g_oc·Gᵀ)[ξ]`, one per
    /// position ξ, written straight into the GEMM's packed slivers (`GEMM.PackedA`): every group
    /// of samples then packs only its tiles, and groups on different threads share one copy.
    /// With `adjoint`, those of `adjoint`'s GEMMs (C × O): the transform of the weight the input
    /// gradient convolves with, `g'[c][o][u][v] = g[o][c][2−u][2−v]`.
    func transformedWeight(_ weight: Tensor, adjoint: Bool = false) -> [GEMM.PackedA] {
        switch tile.m {
        case 2: transformedWeight(WinogradNetwork2.self, weight, adjoint: adjoint)
        default: transformedWeight(WinogradNetwork4.self, weight, adjoint: adjoint)
        }
    }

    /// `dw_oc = Gᵀ · P · G` for each `P = S[·][o][c]`, the adjoint of `transformedWeight`.
    func transformWeightGradient(_ sum: UnsafePointer<Float>, into dw: UnsafeMutablePointer<Float>) {
        switch tile.m {
        case 2: transformWeightGradient(WinogradNetwork2.self, sum, into: dw)
        default: transformWeightGradient(WinogradNetwork4.self, sum, into: dw)
        }
    }

    private func transformedWeight<N: WinogradNetwork>(_: N.Type, _ weight: Tensor, adjoint: Bool) -> [GEMM.PackedA] {
        let alpha = tile.alpha
        let packed = GEMM.PackedA.batch(tile.positions, m: adjoint ? inChannels : outChannels,
                                        k: adjoint ? outChannels : inChannels)
        let u = packed[0].elements, stride = packed[0].stride
        // Lane l is packed float `first + l` of every position. It holds op(A)[i][p] at
        // `sources[first + l] = p·m + i`: the (c, o) = (p, i) kernel, the one at that index in
        // the weight with its channel axes swapped; with `adjoint` the (o, c) = (p, i) kernel, the
        // one at that index in the weight itself, taps reversed. Padding lanes transform zeros.
        let sources = packed[0].sourceIndices()
        let kernels = adjoint ? weight.scalars : channelsSwapped(weight)
        kernels.withUnsafeBufferPointer { w in
            forEachKernelRun(packed[0].count) { first, run, taps, block in
                for l in 0..<run {
                    let source = sources[first + l]
                    prefetchKernel(w.baseAddress!, sources, first + l + Self.kernelPrefetchLanes)
                    guard source >= 0 else {
                        for t in 0..<9 { taps[t &* run &+ l] = 0 }
                        continue
                    }
                    let kernel = w.baseAddress! + source * 9
                    for t in 0..<9 { taps[t &* run &+ l] = kernel[adjoint ? 8 &- t : t] }
                }
                // The row pass into `block`, the column pass into the α² packed matrices
                // (position a·α + j is `packed[a·α + j]`, `(a·α + j) · stride` floats on).
                for r in 0..<3 { N.weight(taps + 3 * r * run, run, 1, into: block + r * alpha * run, run, 1, count: run) }
                for j in 0..<alpha { N.weight(block + j * run, alpha * run, 1, into: u + j * stride + first, alpha * stride, 1, count: run) }
            }
        }
        return packed
    }

    /// Lanes ahead of the weight transform's gather that `prefetchKernel` asks for: a run's lanes
    /// read 216-byte blocks of kernels (a sliver's six rows) each in another row of the weight,
    /// 9·C floats apart, which the hardware prefetchers do not follow; without hints the first
    /// load of each block missed and took a fifth of `transformedWeight`'s samples (`perf
    /// annotate`, VGG-16, 2 threads).
    static let kernelPrefetchLanes = 64

    /// Asks for the 3 × 3 kernel that lane `lane` of the gather (when there is one) reads.
    @inline(__always)
    private func prefetchKernel(_ w: UnsafePointer<Float>, _ sources: [Int], _ lane: Int) {
        guard lane < sources.count else { return }
        let source = sources[lane]
        guard source >= 0 else { return }
        let kernel = w + source &* 9
        prn_prefetch_l1(kernel)
        prn_prefetch_l1(kernel + 8)
    }

    /// The weight's kernels `[C][O][3·3]` from `[O][C][3·3]`, for the forward transform's gather
    /// (straight from the weight it would read one kernel every 9·C floats, a cache miss each,
    /// and took twice as long). In blocks of a few input channels: each output channel's kernels
    /// of a block are read as one run, and the block's rows are written along.
    private func channelsSwapped(_ weight: Tensor) -> [Float] {
        let o = outChannels, c = inChannels, block = 16
        return [Float](unsafeUninitializedCapacity: o * c * 9) { swapped, initialized in
            weight.scalars.withUnsafeBufferPointer { w in
                Parallel.forEachClaimed((c + block - 1) / block) { blocks in
                    for b in blocks {
                        let first = b * block, width = Swift.min(block, c - first)
                        for oc in 0..<o {
                            let from = w.baseAddress! + (oc * c + first) * 9
                            for k in 0..<width {
                                (swapped.baseAddress! + ((first + k) * o + oc) * 9).update(from: from + k * 9, count: 9)
                            }
                        }
                    }
                }
            }
            initialized = o * c * 9
        }
    }

    private func transformWeightGradient<N: WinogradNetwork>(_: N.Type, _ sum: UnsafePointer<Float>,
                                                             into dw: UnsafeMutablePointer<Float>) {
        let count = outChannels * inChannels, alpha = tile.alpha
        forEachKernelRun(count) { first, run, _, block in
            for j in 0..<alpha {
                N.weightAdjoint(sum + j * count + first, alpha * count, 1, into: block + j * run, alpha * run, 1, count: run)
            }
            for r in 0..<3 { N.weightAdjoint(block + r * alpha * run, run, 1, into: dw + first * 9 + 3 * r, 1, 9, count: run) }
        }
    }

    /// `body(first, run, taps, block)` for runs of `kernelLanesPerRun` of the `count` kernels
    /// (the last may be shorter), in pieces the threads claim as they finish one, each piece with
    /// scratch for the run's 9 taps and a 3 × α block of lanes.
    private func forEachKernelRun(_ count: Int,
                                  _ body: (Int, Int, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void) {
        let lanes = Self.kernelLanesPerRun
        Parallel.forEachClaimed((count + lanes - 1) / lanes) { runs in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: (9 + 3 * tile.alpha) * lanes)
            defer { scratch.deallocate() }
            for r in runs { body(r * lanes, Swift.min(lanes, count - r * lanes), scratch, scratch + 9 * lanes) }
        }
    }
}
