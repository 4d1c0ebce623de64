// The transforms of Winograd F(m×m, 3×3).
//
// Every transform is a sandwich `L · X · Rᵀ` of a small matrix X between two constant matrices.
// X's elements are runs of floats ("lanes"): the same element of many tiles (or many kernels)
// side by side, so each step is a loop along the lanes that the compiler vectorizes. The
// weight's transforms use `SmallMatrix.sandwich`, written once for any tile; the data's, which
// cost more, apply each tile's network (`Conv+WinogradNetworks.swift`) along the rows of the
// planes and then down the columns of the lane layout `[element][lane]`.

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

/// A small constant matrix kept as its nonzero terms, row by row.
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

    /// `out = L · X · Rᵀ` with `self` as L: X is `p × q` (`L.columns × R.columns`), its element
    /// (k, l) the `lanes` floats at `x + (k·q + l)·xStride`; the result is `L.rows × R.rows`, its
    /// element (i, j) at `out + (i·R.rows + j)·outStride`. `scratch` holds `p · R.rows · lanes`
    /// floats (X·Rᵀ). The order of operations depends on the matrices alone.
    func sandwich(_ x: UnsafePointer<Float>, xStride: Int, right r: SmallMatrix,
                  into out: UnsafeMutablePointer<Float>, outStride: Int, lanes: Int, scratch: UnsafeMutablePointer<Float>) {
        let p = columns, q = r.columns, s = r.rows
        for k in 0..<p {
            for j in 0..<s {
                Self.combine(r.terms[j], x + k * q * xStride, stride: xStride, into: scratch + (k * s + j) * lanes, lanes: lanes)
            }
        }
        for i in 0..<rows {
            for j in 0..<s {
                Self.combine(terms[i], scratch + j * lanes, stride: s * lanes, into: out + (i * s + j) * outStride, lanes: lanes)
            }
        }
    }

    /// `out = Σ coefficient · v[column]` along the lanes with `v[k] = base + k·stride`: up to four
    /// terms per pass over `out`, added as `(t0 + t1) + (t2 + t3)`, later passes adding theirs.
    @inline(__always)
    private static func combine(_ terms: [(column: Int, coefficient: Float)], _ base: UnsafePointer<Float>, stride: Int,
                                into out: UnsafeMutablePointer<Float>, lanes: Int) {
        guard !terms.isEmpty else {
            out.update(repeating: 0, count: lanes)
            return
        }
        var first = 0
        while first < terms.count {
            let n = Swift.min(4, terms.count - first), accumulate = first > 0
            let v0 = base + terms[first].column &* stride, c0 = terms[first].coefficient
            let v1 = base + terms[first + Swift.min(1, n - 1)].column &* stride, c1 = n > 1 ? terms[first + 1].coefficient : 0
            let v2 = base + terms[first + Swift.min(2, n - 1)].column &* stride, c2 = n > 2 ? terms[first + 2].coefficient : 0
            let v3 = base + terms[first + Swift.min(3, n - 1)].column &* stride, c3 = n > 3 ? terms[first + 3].coefficient : 0
            switch n {
            case 1:
                for j in 0..<lanes { let t = c0 * v0[j]; out[j] = accumulate ? out[j] + t : t }
            case 2:
                for j in 0..<lanes { let t = c0 * v0[j] + c1 * v1[j]; out[j] = accumulate ? out[j] + t : t }
            case 3:
                for j in 0..<lanes { let t = (c0 * v0[j] + c1 * v1[j]) + c2 * v2[j]; out[j] = accumulate ? out[j] + t : t }
            default:
                for j in 0..<lanes {
                    let t = (c0 * v0[j] + c1 * v1[j]) + (c2 * v2[j] + c3 * v3[j])
                    out[j] = accumulate ? out[j] + t : t
                }
            }
            first += n
        }
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
        forEachChannel(inChannels, threads: threads) { c, patch, row in
            forEachRun(samples: samples.count) { rows in
                let lanes = rows.count * tw
                forEachPlaneRow(x, channels: inChannels, channel: c, samples: samples, rows: rows, side: alpha, left: 1,
                                block: patch, buffer: row) { from, to in N.input(from, 1, m, into: to, lanes, 1, count: tw) }
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
                forEachPlaneRow(gy, channels: outChannels, channel: o, samples: samples, rows: rows, side: m, left: 0,
                                block: block, buffer: row) { from, to in N.outputAdjoint(from, 1, m, into: to, lanes, 1, count: tw) }
                for b in 0..<alpha {
                    N.outputAdjoint(block + b * lanes, alpha * lanes, 1,
                                    into: z + b * stride + o * tiles + rows.lowerBound * tw, alpha * stride, 1, count: lanes)
                }
            }
        }
    }

    /// The row pass from the planes of one channel: for each tile row of the run and each of its
    /// tiles' `side` rows (from `left` rows above the tile), `pass(row, to)` with the plane's row
    /// padded as `paddedRow` gives it and `to` the tiles' row in `block` (`α · lanes` floats per
    /// row, a tile row's lanes from `(r − rows.lowerBound) · tileColumns`); rows outside the
    /// plane give α zero elements instead.
    private func forEachPlaneRow(_ planes: UnsafePointer<Float>, channels: Int, channel: Int, samples: Range<Int>,
                                 rows: Range<Int>, side: Int, left: Int, block: UnsafeMutablePointer<Float>,
                                 buffer: UnsafeMutablePointer<Float>,
                                 _ pass: (UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void) {
        let alpha = tile.alpha, lanes = rows.count * tileColumns, plane = height * width
        for r in rows {
            let src = planes + ((samples.lowerBound + r / tileRows) * channels + channel) * plane
            let top = tile.m * (r % tileRows) - left, lane = (r - rows.lowerBound) * tileColumns
            for a in 0..<side {
                let to = block + a * alpha * lanes + lane
                if let from = paddedRow(src, top + a, left: left, into: buffer) {
                    pass(from, to)
                } else {
                    for k in 0..<alpha { (to + k * lanes).update(repeating: 0, count: tileColumns) }
                }
            }
        }
    }

    /// Row `r` of a plane as a row of tiles reads it: `left` zeros, the row, zeros up to
    /// `m · tileColumns + 2·left` floats, in `buffer` (or the plane's row itself when nothing
    /// needs padding); nil when the row is outside the plane (all zeros).
    private func paddedRow(_ plane: UnsafePointer<Float>, _ r: Int, left: Int,
                           into buffer: UnsafeMutablePointer<Float>) -> UnsafePointer<Float>? {
        guard r >= 0 && r < height else { return nil }
        let from = plane + r * width, length = tile.m * tileColumns + 2 * left
        if left == 0 && length == width { return from }
        buffer.update(repeating: 0, count: left)
        (buffer + left).update(from: from, count: width)
        (buffer + left + width).update(repeating: 0, count: length - left - width)
        return UnsafePointer(buffer)
    }

    /// `body(channel, block, row)` for each of `count` channels, split across `threads` (all
    /// when nil), each thread with an α² × run block and room for a padded plane row. Each
    /// channel's transform is the same on any thread.
    private func forEachChannel(_ count: Int, threads: Int?,
                                _ body: (Int, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void) {
        let size = tile.positions * Swift.max(Self.lanesPerRun, tileColumns), row = tile.m * tileColumns + 2
        Parallel.forEach(count, threads: threads) { channels in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: size + row)
            defer { scratch.deallocate() }
            for channel in channels { body(channel, scratch, scratch + size) }
        }
    }

    /// `U[ξ][o][c] = (G·g_oc·Gᵀ)[ξ]`, α² matrices of O × C. With `adjoint`, the transform of the
    /// weight the input gradient convolves with, `g'[c][o][u][v] = g[o][c][2−u][2−v]`: α²
    /// matrices of C × O.
    func transformedWeight(_ weight: Tensor, adjoint: Bool = false) -> [Float] {
        let o = outChannels, c = inChannels, count = o * c
        let g = tile.weightTransform
        var u = [Float](repeating: 0, count: tile.positions * count)
        weight.scalars.withUnsafeBufferPointer { w in
            u.withUnsafeMutableBufferPointer { u in
                forEachKernelRun(count) { first, run, kernels, scratch in
                    // Lane l is the (o, c) of `first + l`; `kernel` the one its taps come from.
                    for l in 0..<run {
                        let index = first + l, kernel = adjoint ? (index % o) * c + index / o : index
                        for t in 0..<9 { kernels[t * run + l] = w[kernel * 9 + (adjoint ? 8 - t : t)] }
                    }
                    g.sandwich(kernels, xStride: run, right: g, into: u.baseAddress! + first, outStride: count,
                               lanes: run, scratch: scratch)
                }
            }
        }
        return u
    }

    /// `dw_oc = Gᵀ · P · G` for each `P = S[·][o][c]`, the adjoint of `transformedWeight`.
    func transformWeightGradient(_ sum: UnsafePointer<Float>, into dw: UnsafeMutablePointer<Float>) {
        let count = outChannels * inChannels
        let gT = tile.weightTransform.transposed
        forEachKernelRun(count) { first, run, taps, scratch in
            gT.sandwich(sum + first, xStride: count, right: gT, into: taps, outStride: run, lanes: run, scratch: scratch)
            for l in 0..<run {
                for t in 0..<9 { dw[(first + l) * 9 + t] = taps[t * run + l] }
            }
        }
    }

    /// `body(first, run, taps, scratch)` for runs of `lanesPerRun` of the `count` kernels (the
    /// last may be shorter), split across the threads, each thread with scratch for the run's 9
    /// taps and a sandwich's.
    private func forEachKernelRun(_ count: Int,
                                  _ body: (Int, Int, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void) {
        let lanes = Self.lanesPerRun
        Parallel.forEach((count + lanes - 1) / lanes) { runs in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: (9 + 3 * tile.alpha) * lanes)
            defer { scratch.deallocate() }
            for r in runs { body(r * lanes, Swift.min(lanes, count - r * lanes), scratch, scratch + 9 * lanes) }
        }
    }
}
