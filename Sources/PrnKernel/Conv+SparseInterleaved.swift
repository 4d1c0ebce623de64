import Foundation

/// The sparse stride-1 convolution and its input gradient on small planes (VGG-16's 8 × 8 to
/// 2 × 2 layers), with a group's samples interleaved: the sample is the innermost axis.
///
/// `PaddedRows` (`Conv+SparseDirect.swift`) sets a group's samples side by side along each row,
/// one column of zeros between them, and computes every position of the flat plane: on a plane
/// W wide, one output column in W + 1 is a dropped one, and the rows round up to the SIMD strip
/// (VGG-16 at batch 128: 1.16× the kept multiply-adds on 8 × 8, 1.28× on 4 × 4, 1.5× on 2 × 2).
/// Here pixel `(r, j)` of the group's `b`-th sample sits at `r·L + j·G + b` of its channel's
/// zero-padded plane (`G` samples, row length `L = (W + 2·padW)·G`), so output row `i` of a
/// channel is one run of `OW·G` floats, and tap `(c, u, v)` reads the run at
/// `c·(plane) + (i + u)·L + v·G`: no dropped positions, and runs that start on whole vectors.
/// The forward pass is `rowsTimesDenseByEntries` over `OH` runs per output channel; the input
/// gradient computes the rows `(c, u, v)` of `Wᵀ · gy` over the output positions and adds each
/// output row of them at its shift into a padded plane of `dx`, as `PaddedRows` does.
///
/// Same numbers as `PaddedRows` and the dense im2col path: every output is the same chain over
/// the same entries and k-blocks (padding reads zeros, as im2col's do), and each `dx` pixel adds
/// the rows `(c, u, v)` in col2im's order, without the `+0` terms of dropped positions (a sum that
/// starts at `+0` is never `−0`, so they change nothing).
struct InterleavedRows {
    let geo: ConvGeometry
    /// Samples interleaved (`geo.groupSize`), the padded row length and the padded rows.
    let samples: Int, rowLength: Int, height: Int
    /// Floats of one output row (`OW·G`) and of one output channel (`OH` rows).
    let run: Int, outputPlane: Int

    /// Planes at most this wide take the interleaved layout (a dropped column in 9 or more).
    static let widest = 8
    /// Output rows shorter than this keep `PaddedRows` (a sweep per row would be mostly overhead).
    static let shortestRun = 16
    /// Bytes of a group's operand that the products stream (the padded input forward, the output
    /// gradient backward): about the L2 of a core (512 KB on the Zen 3), so that the runs that
    /// every output channel reads again come from L2, not L3. C microbenchmarks of the forward
    /// sweeps (one thread, Zen 3, 2026-12-03), useful G multiply-adds per second: VGG-16's
    /// conv9 shape at density 0.011 15.9 with 8 samples (576 KB) against 12.3–13.9 with 16–64;
    /// conv12's 14.7–17.9 with 8–16 samples (256–512 KB) against 10.3–13.4 with 32–128.
    static let groupBytes = 512 * 1024
    /// `PRN_SPARSE_INTERLEAVE=0` keeps `PaddedRows` everywhere, for A/B runs in one binary (the
    /// bits are the same either way).
    static let enabled = ProcessInfo.processInfo.environment["PRN_SPARSE_INTERLEAVE"] != "0"

    /// Nil unless the convolution has stride 1, output rows at most `widest` wide and output
    /// runs of at least `shortestRun` floats, and its offsets fit in `Int32`. `side` is the
    /// operand the product streams, which sets the group size: `.input` for the forward pass,
    /// `.output` for the input gradient.
    init?(_ geo: ConvGeometry, streaming side: PaddedRows.Side) {
        let image = geo.image, window = image.window
        guard Self.enabled, window.strideH == 1, window.strideW == 1, image.outWidth <= Self.widest else { return nil }
        height = image.height + 2 * window.padH
        let paddedWidth = image.width + 2 * window.padW
        let perSample = side == .input ? image.channels * height * paddedWidth : geo.outChannels * image.outputPlane
        // Whole multiples of eight samples (the transposes' blocks), at least eight.
        let fitting = Swift.max(8, Self.groupBytes / Swift.max(1, 4 * perSample) / 8 * 8)
        samples = Swift.min(image.batch, fitting)
        guard image.outWidth * samples >= Self.shortestRun else { return nil }
        self.geo = geo
        rowLength = paddedWidth * samples
        run = image.outWidth * samples
        outputPlane = image.outHeight * run
        guard image.channels * height * rowLength < Int(Int32.max) else { return nil }
    }

    /// Whether the weight gradient of a layer the dense path runs by Winograd takes this layout
    /// (`interleavedWeightGradient`) rather than `PaddedRows`: on planes at most 2 wide, where
    /// the side-by-side layout drops a third of its positions, with output rows of whole 16-lane
    /// vectors. Its sums run in their own order (lanes over the interleaved positions), so this
    /// changes those layers' last bits, as `Conv+SparseWindows.swift` explains; ResNet-20's
    /// planes (32, 16, 8) keep `PaddedRows`. (VGG-16, 2T, 3 pairs, ms: conv11–13 at density
    /// 0.02 1.43–1.45 → 0.85–0.97, 3 of 3 each; at 0.1 unchanged. The 4 × 4 layers were 3 %
    /// faster at 0.02 and 5–8 % slower at 0.1, where each group's partial sums of its many
    /// kept weights, added after every wave on one thread, cost more than the dropped columns.)
    var takesWeightGradient: Bool { geo.image.outWidth <= 2 && run % 16 == 0 }

    /// The batch in groups of `samples`.
    var sampleGroups: SampleGroups { SampleGroups(batch: geo.image.batch, size: samples) }
    var plane: Int { height * rowLength }
    /// Floats of a group's padded input.
    var inputExtent: Int { geo.image.channels * plane }

    /// Where tap `k = (c·KH + u)·KW + v` reads, relative to the start of output row 0.
    func offset(ofTap k: Int) -> Int {
        let window = geo.image.window, taps = window.kernelH * window.kernelW
        let c = k / taps, u = k % taps / window.kernelW, v = k % window.kernelW
        return c * plane + u * rowLength + v * samples
    }

    /// Copies the samples' pixels between a tensor of `side` (the channels `channels`, all by
    /// default) and its interleaved planes (padded on the input side, `outputPlane` floats per
    /// channel on the output side); into the interleaved planes with `toInterleaved`, else back.
    /// Eight samples and eight pixels at a time are one 8 × 8 transpose in registers (`Tile8`).
    func transfer(tensor: UnsafeMutablePointer<Float>, interleaved: UnsafeMutablePointer<Float>, toInterleaved: Bool,
                  samples: Range<Int>, side: PaddedRows.Side, channels: Range<Int>? = nil) {
        let image = geo.image, input = side == .input
        let total = input ? image.channels : geo.outChannels
        let (rows, columns) = input ? (image.height, image.width) : (image.outHeight, image.outWidth)
        let pixels = rows * columns, sampleStride = total * pixels
        let (planeStride, rowStride) = input ? (plane, rowLength) : (outputPlane, run)
        let g = self.samples
        let corner = input ? image.window.padH * rowLength + image.window.padW * g : 0
        let channels = channels ?? 0..<total
        let (first, end) = (channels.lowerBound * pixels, channels.upperBound * pixels)
        // Where each pixel of a channel goes, from the channel's start (no divisions per pixel).
        let within = (0..<pixels).map { corner + $0 / columns * rowStride + $0 % columns * g }
        var b = 0
        within.withUnsafeBufferPointer { within in
            withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: 8) { pointers in
                let spaced = pointers.baseAddress!
                @inline(__always) func put(_ k: Int, _ row: SIMD8<Float>) {
                    UnsafeMutableRawPointer(mutating: spaced[k]).storeBytes(of: row, as: SIMD8<Float>.self)
                }
                // The 8 × 8 blocks of eight samples; a last block of fewer pixels, and the samples
                // past the last eight, one float at a time.
                while b + 8 <= samples.count {
                    let base = tensor + (samples.lowerBound + b) * sampleStride
                    var m = first, channel = interleaved + b, rest = 0
                    @inline(__always) func next() -> UnsafePointer<Float> {
                        let at = UnsafePointer(channel + within[rest])
                        rest += 1
                        if rest == pixels { rest = 0; channel += planeStride }
                        return at
                    }
                    while m + 8 <= end {
                        for k in 0..<8 { spaced[k] = next() }
                        if toInterleaved {
                            var tile = Tile8(base + m, stride: sampleStride)
                            tile.transpose()
                            put(0, tile.r0); put(1, tile.r1); put(2, tile.r2); put(3, tile.r3)
                            put(4, tile.r4); put(5, tile.r5); put(6, tile.r6); put(7, tile.r7)
                        } else {
                            var tile = Tile8(rows: spaced, at: 0)
                            tile.transpose()
                            tile.store(base + m, stride: sampleStride)
                        }
                        m += 8
                    }
                    while m < end {
                        let at = UnsafeMutablePointer(mutating: next())
                        for k in 0..<8 {
                            if toInterleaved { at[k] = base[k * sampleStride + m] } else { base[k * sampleStride + m] = at[k] }
                        }
                        m += 1
                    }
                    b += 8
                }
            }
            for b in b..<samples.count {
                let plain = tensor + (samples.lowerBound + b) * sampleStride
                for c in channels {
                    let spaced = interleaved + (c - channels.lowerBound) * planeStride + b
                    for rest in 0..<pixels {
                        let m = c * pixels + rest
                        if toInterleaved { spaced[within[rest]] = plain[m] } else { plain[m] = spaced[within[rest]] }
                    }
                }
            }
        }
    }
}

extension SparseTopology {
    /// `conv2d(x, P_S(W))` by direct products over `layout`: `values` in row order.
    func interleavedConv2d(_ x: UnsafePointer<Float>, values: [Float], layout: InterleavedRows, into y: UnsafeMutablePointer<Float>) {
        let image = layout.geo.image, t = layout.outputPlane
        let offsets = columnIndex.map { Int32(layout.offset(ofTap: Int($0))) }
        let blocks = SparseKernels.kBlocks(columns).map { layout.offset(ofTap: $0.lowerBound) ..< layout.offset(ofTap: $0.upperBound) }
        layout.sampleGroups.forEach(scratch: layout.inputExtent + rows * t) { samples, scratch, threads in
            let padded = scratch, out = scratch + layout.inputExtent
            padded.update(repeating: 0, count: layout.inputExtent)
            layout.transfer(tensor: UnsafeMutablePointer(mutating: x), interleaved: padded, toInterleaved: true, samples: samples, side: .input)
            rowStart.withUnsafeBufferPointer { start in
                offsets.withUnsafeBufferPointer { index in
                    values.withUnsafeBufferPointer { vs in
                        SparseKernels.forEachPart(rows, work: count * t, threads: threads) { range in
                            SparseKernels.rowsTimesDenseByEntries(start: start.baseAddress!, index: index.baseAddress!,
                                                                  values: vs.baseAddress!, rows: range, blocks: blocks,
                                                                  dense: padded, ldd: 1, n: layout.run, out: out, ldo: t,
                                                                  runs: image.outHeight, runStride: layout.rowLength)
                        }
                    }
                }
            }
            layout.transfer(tensor: y, interleaved: out, toInterleaved: false, samples: samples, side: .output)
        }
    }

    /// `conv2dInputGrad(gy, P_S(W))` by direct products over `layout`: `values` in column order.
    func interleavedConv2dInputGrad(_ gy: UnsafePointer<Float>, values: [Float], layout: InterleavedRows,
                                    into dx: UnsafeMutablePointer<Float>) {
        let image = layout.geo.image, window = image.window
        let t = layout.outputPlane, taps = window.kernelH * window.kernelW
        let blocks = SparseKernels.kBlocks(rows)
        layout.sampleGroups.forEach(scratch: rows * t) { samples, gInterleaved, threads in
            // A short group's missing lanes are read (and their results dropped): keep them finite.
            if samples.count < layout.samples { gInterleaved.update(repeating: 0, count: rows * t) }
            layout.transfer(tensor: UnsafeMutablePointer(mutating: gy), interleaved: gInterleaved, toInterleaved: true,
                            samples: samples, side: .output)
            columnStart.withUnsafeBufferPointer { start in
                cscRowIndex.withUnsafeBufferPointer { index in
                    values.withUnsafeBufferPointer { vs in
                        SparseKernels.forEachPart(image.channels, work: count * t, threads: threads) { channels in
                            let tapRows = UnsafeMutablePointer<Float>.allocate(capacity: taps * t + layout.plane)
                            defer { tapRows.deallocate() }
                            let plane = tapRows + taps * t
                            for c in channels {
                                let first = start.baseAddress! + c * taps
                                SparseKernels.rowsTimesDenseByEntries(start: first, index: index.baseAddress!, values: vs.baseAddress!,
                                                                      rows: 0..<taps, blocks: blocks, dense: gInterleaved, ldd: t, n: t,
                                                                      out: tapRows, ldo: t)
                                plane.update(repeating: 0, count: layout.plane)
                                for tap in 0..<taps where first[tap] < first[tap + 1] {
                                    let shift = (tap / window.kernelW) * layout.rowLength + tap % window.kernelW * layout.samples
                                    for i in 0..<image.outHeight {
                                        let row = tapRows + tap * t + i * layout.run, target = plane + shift + i * layout.rowLength
                                        for p in 0..<layout.run { target[p] += row[p] }
                                    }
                                }
                                layout.transfer(tensor: dx, interleaved: plane, toInterleaved: false, samples: samples, side: .input,
                                                channels: c..<c + 1)
                            }
                        }
                    }
                }
            }
        }
    }
}

extension Tensor {
    /// `conv2dWeightGrad(x, gy)` at the kept positions of `topology` (0 elsewhere, or compact when
    /// `weightShape` is), by the dot products of `Conv+SparseWindows.swift` over `layout`.
    static func sparseConv2dInterleavedWeightGrad(_ x: Tensor, _ gy: Tensor, _ topology: SparseTopology, layout: InterleavedRows,
                                                  weightShape: [Int]) -> Tensor {
        var kept = [Float](repeating: 0, count: topology.count)
        guard !kept.isEmpty else { return topology.gradient(kept, shape: weightShape) }
        kept.withUnsafeMutableBufferPointer { kept in
            x.scalars.withUnsafeBufferPointer { x in
                gy.scalars.withUnsafeBufferPointer { g in
                    topology.interleavedWeightGradient(x.baseAddress!, g.baseAddress!, layout: layout, into: kept.baseAddress!)
                }
            }
        }
        return topology.gradient(kept, shape: weightShape)
    }
}

extension SparseTopology {
    /// `conv2dWeightGrad(x, gy)` at the kept entries, in row order, into `kept` (`count` floats):
    /// per group, each kept weight `(o, c, u, v)` is one dot product of gy's channel `o` with the
    /// runs of input plane `c` its tap reads, sixteen lanes over the output rows in order
    /// (`SparseKernels.windowDots`); the groups' sums are added in group order.
    func interleavedWeightGradient(_ x: UnsafePointer<Float>, _ gy: UnsafePointer<Float>, layout: InterleavedRows,
                                   into kept: UnsafeMutablePointer<Float>) {
        precondition(layout.takesWeightGradient, "interleavedWeightGradient: output rows of \(layout.run) floats")
        let t = layout.outputPlane, outHeight = layout.geo.image.outHeight
        let offsets = columnIndex.map { layout.offset(ofTap: Int($0)) }
        let gradientOffset = layout.inputExtent, partialOffset = layout.inputExtent + rows * t
        kept.update(repeating: 0, count: count)
        offsets.withUnsafeBufferPointer { offsets in
            rowStart.withUnsafeBufferPointer { start in
                layout.sampleGroups.forEach(scratch: partialOffset + count, { samples, scratch, threads in
                    let xPadded = scratch, gInterleaved = scratch + gradientOffset, partial = scratch + partialOffset
                    xPadded.update(repeating: 0, count: layout.inputExtent)
                    layout.transfer(tensor: UnsafeMutablePointer(mutating: x), interleaved: xPadded, toInterleaved: true,
                                    samples: samples, side: .input)
                    // A short group's missing lanes enter every dot product: they must hold zeros.
                    if samples.count < layout.samples { gInterleaved.update(repeating: 0, count: rows * t) }
                    layout.transfer(tensor: UnsafeMutablePointer(mutating: gy), interleaved: gInterleaved, toInterleaved: true,
                                    samples: samples, side: .output)
                    SparseKernels.forEachPart(rows, work: count * t, threads: threads) { range in
                        for r in range {
                            let first = Int(start[r])
                            SparseKernels.windowDots(g: gInterleaved + r * t, x: xPadded, offsets: offsets.baseAddress! + first,
                                                     count: Int(start[r + 1]) - first, positions: layout.run, into: partial + first,
                                                     runs: outHeight, gRunStride: layout.run, xRunStride: layout.rowLength)
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
