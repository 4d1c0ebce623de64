/// A convolution's weight gradient `dw = Σ_groups gy · colᵀ`, with GEMM's micro-kernel fed from
/// the input directly instead of through the column matrix.
///
/// `gy · colᵀ` reduces over pixels, which are contiguous in `gy` and in the column matrix alike,
/// so `sgemm` would transpose both while packing — the column matrix, `patch × cols` floats per
/// group, first written by im2col and then transposed 4 × 4 in registers. Here each thread
/// copies its input channels of a group's samples into a zero-padded, pixel-major image
/// `[samples, H + 2ph, W + 2pw, channels]`, where the taps `(u, v, c)` of one output pixel are
/// `KH` runs of `KW · channels` adjacent floats (for any stride). The packed slivers of B (32 or 16
/// taps per pixel) are then filled with vector copies of those runs.
///
/// The taps of a thread's part of `dw` are therefore in the order `(u, v, c)` rather than
/// `(c, u, v)`, and are put back in place at the end — except when a group has few pixels and
/// many output channels (`writesWeightGradientDirectly`), where the taps are packed in `dw`'s own
/// order and the tiles written straight into it. Neither order changes a bit: each element of `dw`
/// is its own chain over the pixels, and the chains are `sgemm`'s for
/// `dw += gy_group · col_groupᵀ` (beta 1, groups in order, `dw` starting at zero): the k-blocks
/// of a group's columns as `sgemm` cuts them, within a block `acc = fma(gy, x, acc)` pixel by
/// pixel from 0, each block's sum reaching `dw` as `dw = fma(1, dw, acc)` — the GEMM's own
/// packing layout and tile kernel, with the packing done here.
///
/// With few input channels (the first layer: 1 or 3) a split by channel leaves a thread idle or
/// with twice the taps of another, and each thread packs all of `gy`. There the threads split the
/// k-blocks instead: each computes the sums of its blocks, each block's from 0 into a slot of its
/// own, and the slots are then added in block order, `dw = dw + sum` from 0: a slot holds the
/// block's sum exactly, so that is the chain `dw = fma(1, dw, sum)` of one thread, bit for bit.
extension ConvGeometry {
    /// `dw[O, C, KH, KW] = ∂⟨conv2d(x, w), gy⟩/∂w`, overwriting `dw`. The threads split the input
    /// channels, each building only its channels' part and writing only its channels of `dw`,
    /// or, with fewer than `blockSplitChannels` channels per thread, the k-blocks (above); either
    /// way the result does not depend on the thread count.
    func weightGradient(x: UnsafePointer<Float>, gy: UnsafePointer<Float>, dw: UnsafeMutablePointer<Float>) {
        let channels = image.channels
        if Parallel.threads > 1, channels < Self.blockSplitChannels * Parallel.threads,
           WeightGradientPart(geo: self, channels: 0..<channels).splitBlocks(x: x, gy: gy, dw: dw) {
            return
        }
        let workers = Swift.max(1, Swift.min(Parallel.threads, channels))
        Parallel.forEach(workers, threads: workers) { range in
            for w in range {
                WeightGradientPart(geo: self, channels: channels * w / workers ..< channels * (w + 1) / workers)
                    .run(x: x, gy: gy, dw: dw)
            }
        }
    }

    /// Input channels per thread below which the threads split a weight gradient's k-blocks
    /// rather than its channels.
    static let blockSplitChannels = 4
    /// The most floats of block sums `splitBlocks` keeps (16 MB); past that it splits channels.
    static let blockSumsLimit = 1 << 22

    /// Whether a part's taps follow `dw`'s order `(c, u, v)` and its tiles go straight into
    /// `dw`: when a group has few pixels against many output channels (SynFlow's single
    /// sample on VGG-16's deep layers: 4 pixels, 512 channels). Packing then gathers one float
    /// per tap and pixel instead of copying runs, which costs `pixels × taps`; the alternative,
    /// putting `O × taps` sums back in place, costs more when `O` is the larger. The columns'
    /// order changes no chain: the bits are the same either way.
    static func writesWeightGradientDirectly(outChannels: Int, groupColumns: Int) -> Bool {
        4 * groupColumns <= outChannels
    }
}

/// One thread's share of a weight gradient: the columns of `dw` of some input channels.
private struct WeightGradientPart {
    let geo: ConvGeometry
    let channels: Range<Int>
    /// Kernel size, padded image size, and this part's taps (columns of its result).
    let kh: Int, kw: Int, paddedHeight: Int, paddedWidth: Int, taps: Int
    /// The longest k-block of any group: the packed slivers have room for it.
    let depth: Int
    let rowSlivers: Int, columnSlivers: Int
    /// Whether the taps (columns of the part's result) are in `dw`'s own order `(c, u, v)`, so
    /// that the tiles are written straight into `dw` (below).
    let channelMajor: Bool
    /// How one pixel's taps reach the B slivers.
    let pieces: [Piece]
    /// GEMM's sliver shapes on this machine.
    let tiling = GEMM.Tiling.current

    /// A run of adjacent taps of one pixel that lands in one B sliver: `count` floats from
    /// `source` (relative to the pixel's first tap in the padded image) to column `column` of
    /// sliver `sliver`.
    struct Piece {
        let source: Int, sliver: Int, column: Int, count: Int
    }

    init(geo: ConvGeometry, channels: Range<Int>) {
        self.geo = geo
        self.channels = channels
        let window = geo.image.window
        (kh, kw) = (window.kernelH, window.kernelW)
        paddedHeight = geo.image.height + 2 * window.padH
        paddedWidth = geo.image.width + 2 * window.padW
        taps = kh * kw * channels.count
        depth = Swift.min(geo.groupColumns, GEMM.kcMax)
        rowSlivers = (geo.outChannels + tiling.rows - 1) / tiling.rows
        columnSlivers = (taps + tiling.columns - 1) / tiling.columns
        channelMajor = ConvGeometry.writesWeightGradientDirectly(outChannels: geo.outChannels, groupColumns: geo.groupColumns)
        var pieces: [Piece] = []
        if channelMajor {
            // Tap q = (c·KH + u)·KW + v, at (u·padded width + v)·channels + c from the pixel's first tap.
            for q in 0..<taps {
                let (c, window) = q.quotientAndRemainder(dividingBy: kh * kw)
                let (u, v) = window.quotientAndRemainder(dividingBy: kw)
                pieces.append(Piece(source: (u * paddedWidth + v) * channels.count + c, sliver: q / tiling.columns,
                                    column: q % tiling.columns, count: 1))
            }
        } else {
            // Tap q = (u·KW + v)·channels + c; row u of the window is KW·channels adjacent floats
            // of the padded image, cut where a sliver of taps (32 or 16) ends.
            let run = kw * channels.count
            for u in 0..<kh {
                var done = 0
                while done < run {
                    let q = u * run + done
                    let count = Swift.min(run - done, tiling.columns - q % tiling.columns)
                    pieces.append(Piece(source: u * paddedWidth * channels.count + done, sliver: q / tiling.columns,
                                        column: q % tiling.columns, count: count))
                    done += count
                }
            }
        }
        self.pieces = pieces
    }

    /// Where packed sliver `s` of A and `t` of B start: each has room for `depth` steps, a
    /// partial last one being narrower (`paddedRows`, `paddedColumns`).
    func aSliver(_ s: Int, _ a: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<Float> { a + s * tiling.rows * depth }
    func bSliver(_ t: Int, _ b: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<Float> { b + t * tiling.columns * depth }
    /// Floats per step of k in B sliver `t`.
    func bWidth(_ t: Int) -> Int {
        t < taps / tiling.columns ? tiling.columns : tiling.paddedColumns(taps - t * tiling.columns)
    }

    /// The k-blocks of all groups, in order: a group's pixels cut as `sgemm` cuts its `k`.
    var kBlocks: [(group: Int, steps: Range<Int>)] {
        (0..<geo.groupCount).flatMap { group in
            let cols = geo.samples(ofGroup: group).count * geo.image.outputPlane
            let blocks = (cols + GEMM.kcMax - 1) / GEMM.kcMax
            return (0..<blocks).map { (group, cols * $0 / blocks ..< cols * ($0 + 1) / blocks) }
        }
    }

    func run(x: UnsafePointer<Float>, gy: UnsafePointer<Float>, dw: UnsafeMutablePointer<Float>) {
        guard !channels.isEmpty, geo.groupCount > 0 else { return }
        if channelMajor {
            let first = channels.lowerBound * kh * kw
            multiplyBlocks(kBlocks[...], x: x, gy: gy, accumulating: true, ldc: geo.image.patch) { _ in dw + first }
            return
        }
        let sum = geo.outChannels * taps
        GEMM.withPackingBuffer(floats: sum) { acc in
            multiplyBlocks(kBlocks[...], x: x, gy: gy, accumulating: true, ldc: taps) { _ in acc }
            scatter(acc, into: dw)
        }
    }

    /// `run` with the k-blocks split across the threads (see `ConvGeometry.weightGradient`): each
    /// block's sum written to a slot of its own, then the slots added in block order from 0, the
    /// elements of `dw` split across the threads. False (nothing done) when there are fewer than
    /// two blocks or the slots would pass `ConvGeometry.blockSumsLimit`.
    func splitBlocks(x: UnsafePointer<Float>, gy: UnsafePointer<Float>, dw: UnsafeMutablePointer<Float>) -> Bool {
        let blocks = kBlocks, sum = geo.outChannels * taps
        guard !channels.isEmpty, !channelMajor, blocks.count >= 2, blocks.count * sum <= ConvGeometry.blockSumsLimit else { return false }
        let workers = Swift.min(Parallel.threads, blocks.count)
        GEMM.withPackingBuffer(floats: blocks.count * sum) { sums in
            Parallel.forEach(workers, threads: workers) { range in
                for w in range {
                    let mine = blocks.count * w / workers ..< blocks.count * (w + 1) / workers
                    multiplyBlocks(blocks[mine], x: x, gy: gy, accumulating: false, ldc: taps) { sums + $0 * sum }
                }
            }
            Parallel.forEach(sum, grain: 64) { elements in
                for e in elements {
                    var total: Float = 0
                    for block in 0..<blocks.count { total += sums[block &* sum &+ e] }
                    sums[e] = total
                }
            }
            scatter(sums, into: dw)
        }
        return true
    }

    /// Packs and multiplies `blocks` (a run of `kBlocks`) in order, block `i`'s product going to
    /// `target(i)` (`i` its index in `kBlocks`, rows `ldc` floats apart). `accumulating`: the
    /// blocks sum onto one target in order, as onto zeros (`dw = fma(1, dw, acc)` from 0), the
    /// first written as `0 + acc` so the target need not be zeroed first; else each block is
    /// written to a target of its own.
    private func multiplyBlocks(_ blocks: ArraySlice<(group: Int, steps: Range<Int>)>, x: UnsafePointer<Float>,
                                gy: UnsafePointer<Float>, accumulating: Bool, ldc: Int,
                                target: (Int) -> UnsafeMutablePointer<Float>) {
        let imageFloats = geo.groupSize * paddedHeight * paddedWidth * channels.count
        let aFloats = rowSlivers * tiling.rows * depth, bFloats = columnSlivers * tiling.columns * depth
        GEMM.withPackingBuffer(floats: bFloats + aFloats + imageFloats + GEMM.largestTile) { buffer in
            let b = buffer, a = b + bFloats, padded = a + aFloats, scratch = padded + imageFloats
            // Zero only what no pass writes: the padding columns of B's last sliver (read, not
            // kept). `packSlivers` pads A's last sliver itself, `fillPaddedImage` writes the
            // image's border, and every step writes all live taps.
            if taps % tiling.columns != 0 {
                bSliver(columnSlivers - 1, b).update(repeating: 0, count: bWidth(columnSlivers - 1) * depth)
            }
            var filled: Int?
            for (i, block) in zip(blocks.indices, blocks) {
                let samples = geo.samples(ofGroup: block.group)
                if filled != block.group {
                    fillPaddedImage(x, samples: samples, into: padded)
                    filled = block.group
                }
                packGradient(gy, samples: samples, steps: block.steps, into: a)
                packTaps(padded, steps: block.steps, into: b)
                let update: TileUpdate = !accumulating ? .write : i == blocks.startIndex ? .writeOntoZero : .add
                multiply(a: a, b: b, kc: block.steps.count, into: target(i), ldc: ldc, update: update, scratch: scratch)
            }
        }
    }

    /// The group's samples, this part's channels, into `[samples, H + 2ph, W + 2pw, channels]`,
    /// the border zero. Four channels' planes at a time, each read front to back, so the sample's
    /// channels (one run of memory, usually out of cache by the backward pass) are read once in
    /// order, which the prefetchers follow; row by row across all channels they were as many
    /// streams as channels (`bench conv`, 64 channels on 8×8, one thread: 5 of 6 pairs faster,
    /// medians 11.0 against 11.5 ms).
    private func fillPaddedImage(_ x: UnsafePointer<Float>, samples: Range<Int>, into padded: UnsafeMutablePointer<Float>) {
        let image = geo.image, window = image.window, cw = channels.count
        let width = image.width, plane = image.inputPlane
        let rowFloats = paddedWidth * cw, sideFloats = window.padW * cw
        for (b, n) in samples.enumerated() {
            let sample = padded + b * paddedHeight * rowFloats
            sample.update(repeating: 0, count: window.padH * rowFloats)
            (sample + (window.padH + image.height) * rowFloats).update(repeating: 0, count: window.padH * rowFloats)
            // Row h's first pixel inside the border.
            func row(_ h: Int) -> UnsafeMutablePointer<Float> { sample + ((h + window.padH) * paddedWidth + window.padW) * cw }
            for h in 0..<image.height {
                (row(h) - sideFloats).update(repeating: 0, count: sideFloats)
                (row(h) + width * cw).update(repeating: 0, count: sideFloats)
            }
            let source = x + (n * image.channels + channels.lowerBound) * plane
            var c = 0
            while c &+ 4 <= cw {
                for h in 0..<image.height {
                    transposeFour(source + c &* plane + h &* width, plane: plane, width: width, into: row(h) + c, cw: cw)
                }
                c &+= 4
            }
            while c < cw {
                for h in 0..<image.height {
                    let src = source + c &* plane + h &* width, dst = row(h) + c
                    for w in 0..<width { dst[w &* cw] = src[w] }
                }
                c &+= 1
            }
        }
    }

    /// One image row of four channels (`source` the first channel's, each next one `plane`
    /// floats on) into pixel-major order (`row`, pixels `cw` floats apart): four channels × four
    /// pixels at a time, transposed in registers.
    @inline(__always)
    private func transposeFour(_ source: UnsafePointer<Float>, plane: Int, width: Int, into row: UnsafeMutablePointer<Float>, cw: Int) {
        let s0 = source, s1 = s0 + plane, s2 = s1 + plane, s3 = s2 + plane
        var w = 0
        while w &+ 4 <= width {
            let x0 = UnsafeRawPointer(s0 + w).loadUnaligned(as: SIMD4<Float>.self)
            let x1 = UnsafeRawPointer(s1 + w).loadUnaligned(as: SIMD4<Float>.self)
            let x2 = UnsafeRawPointer(s2 + w).loadUnaligned(as: SIMD4<Float>.self)
            let x3 = UnsafeRawPointer(s3 + w).loadUnaligned(as: SIMD4<Float>.self)
            UnsafeMutableRawPointer(row + w &* cw).storeTransposed(x0, x1, x2, x3, step: 4 &* cw)
            w &+= 4
        }
        while w < width {
            let d = row + w &* cw
            (d[0], d[1], d[2], d[3]) = (s0[w], s1[w], s2[w], s3[w])
            w &+= 1
        }
    }

    /// Packs the output gradient's columns `steps` (pixels of the group, sample-major) as the A
    /// slivers: `gy`'s rows are contiguous along the pixels, so `packSlivers` transposes them,
    /// one sample's run of pixels at a time.
    private func packGradient(_ gy: UnsafePointer<Float>, samples: Range<Int>, steps: Range<Int>, into a: UnsafeMutablePointer<Float>) {
        let plane = geo.image.outputPlane, o = geo.outChannels
        let full = o / tiling.rows, rest = o - full * tiling.rows
        var p = steps.lowerBound
        while p < steps.upperBound {
            let b = p / plane, e = p - b * plane
            let count = Swift.min(plane - e, steps.upperBound - p)
            let src = gy + (samples.lowerBound + b) * geo.sampleOutputCount + e
            let step = p - steps.lowerBound
            if full > 0 {
                GEMM.packSlivers(src, ld: plane, contiguous: false, kc: count, count: full * tiling.rows, tile: tiling.rows,
                                 lastTile: tiling.paddedRows, scale: 1, into: a + step * tiling.rows, sliverStride: tiling.rows * depth)
            }
            if rest > 0 {
                GEMM.packSlivers(src + full * tiling.rows * plane, ld: plane, contiguous: false, kc: count, count: rest,
                                 tile: tiling.rows, lastTile: tiling.paddedRows, scale: 1,
                                 into: aSliver(full, a) + step * tiling.paddedRows(rest), sliverStride: tiling.rows * depth)
            }
            p += count
        }
    }

    /// Packs the taps of the pixels `steps` as the B slivers, copying runs of the padded image.
    private func packTaps(_ padded: UnsafePointer<Float>, steps: Range<Int>, into b: UnsafeMutablePointer<Float>) {
        let image = geo.image, window = image.window, cw = channels.count
        let plane = image.outputPlane, ow = image.outWidth
        // Each piece's destination at step 0, and its sliver's floats per step.
        let targets = pieces.map { (bSliver($0.sliver, b) + $0.column, bWidth($0.sliver)) }
        var p = steps.lowerBound
        while p < steps.upperBound {
            let sample = p / plane, e = p - sample * plane
            let i = e / ow, j = e - i * ow
            let count = Swift.min(ow - j, steps.upperBound - p)
            // Pixels (i, j..<j+count) of one output row: their windows start `sw·cw` floats apart.
            var pixel = padded + ((sample * paddedHeight + i * window.strideH) * paddedWidth + j * window.strideW) * cw
            let advance = window.strideW * cw
            pieces.withUnsafeBufferPointer { pieces in
                targets.withUnsafeBufferPointer { targets in
                    for step in (p - steps.lowerBound)..<(p - steps.lowerBound + count) {
                        for k in 0..<pieces.count {
                            let (target, width) = targets[k]
                            FloatRun.copy(pixel + pieces[k].source, to: target + step &* width, count: pieces[k].count)
                        }
                        pixel += advance
                    }
                }
            }
            p += count
        }
    }

    /// How a k-block's product `A·B` reaches its target.
    private enum TileUpdate {
        /// `acc = A·B`.
        case write
        /// `acc = 0 + A·B`, the bits `fma(1, 0, A·B)` gives onto a zeroed target (a chain that
        /// underflowed to −0 becomes +0), without zeroing it first.
        case writeOntoZero
        /// `acc = fma(1, acc, A·B)`.
        case add
    }

    /// `acc[O, taps]` updated with `A·B` tile by tile as `update` says, in the GEMM driver's
    /// order, `acc`'s rows `ldc` floats apart. `writeOntoZero` fixes each tile while it is still
    /// in L1.
    private func multiply(a: UnsafeMutablePointer<Float>, b: UnsafeMutablePointer<Float>, kc: Int,
                          into acc: UnsafeMutablePointer<Float>, ldc: Int, update: TileUpdate,
                          scratch: UnsafeMutablePointer<Float>) {
        let o = geo.outChannels
        GEMM.forEachTile(tiling, rowSlivers: 0..<rowSlivers, columnSlivers: 0..<columnSlivers, kc: kc) { s, t in
            let i = s * tiling.rows, h = Swift.min(tiling.rows, o - i)
            let j = t * tiling.columns, w = Swift.min(tiling.columns, taps - j)
            let c = acc + i * ldc + j
            GEMM.multiplyTile(tiling, h: h, w: w, kc: kc, a: aSliver(s, a), b: bSliver(t, b), c: c,
                              ldc: ldc, factor: update == .add ? 1 : nil, scratch: scratch)
            if update == .writeOntoZero {
                for r in 0..<h {
                    let row = c + r * ldc
                    var q = 0
                    while q + 16 <= w {
                        let lanes = UnsafeMutableRawPointer(row + q)
                        lanes.storeBytes(of: 0 + lanes.loadUnaligned(as: SIMD16<Float>.self), as: SIMD16<Float>.self)
                        q += 16
                    }
                    while q < w {
                        row[q] = 0 + row[q]
                        q += 1
                    }
                }
            }
        }
    }

    /// `dw[o, c, u, v] = acc[o, (u·KW + v)·channels + c]` for this part's channels.
    private func scatter(_ acc: UnsafePointer<Float>, into dw: UnsafeMutablePointer<Float>) {
        let cw = channels.count, patch = geo.image.patch
        for o in 0..<geo.outChannels {
            for c in channels {
                for u in 0..<kh {
                    for v in 0..<kw {
                        dw[o * patch + (c * kh + u) * kw + v] = acc[o * taps + (u * kw + v) * cw + (c - channels.lowerBound)]
                    }
                }
            }
        }
    }
}
