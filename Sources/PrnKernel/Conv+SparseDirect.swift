/// The sparse convolution and its input gradient for stride 1, without im2col: each kept weight
/// multiplies a shifted run of one zero-padded input plane directly.
///
/// A group of samples of one channel is laid out as one zero-padded plane whose rows hold the
/// samples' rows side by side (`PaddedRows`): each sample's row comes after `padW` zeros and the
/// last one is followed by `padW` more, so the row length is `L = G·S + padW` with `S = W + padW`,
/// and there are `H + 2·padH` rows. Output pixel `(n, i, j)` of the group's `n`-th sample is
/// flat position `t = i·L + n·S + j`, and its tap `(c, u, v)` reads position `t + u·L + v` of
/// input plane `c`: over all `t` at once, a kept weight is one contiguous shifted run. So the
/// forward pass is `rowsTimesDense` (entry-major, `rowsTimesDenseByEntries`: the runs are long)
/// with entry offsets `c·(plane) + u·L + v` in place of im2col rows; positions with `j ≥ OW`
/// are computed too and dropped. The input gradient computes the
/// im2col-shaped rows `(c, u, v)` of `Wᵀ · gy` the same way, one input channel at a time, and
/// adds each at its shift into a padded plane of `dx` (col2im without the column matrix).
///
/// Same numbers as `Conv+Sparse.swift` and the dense path: every output is the same chain over
/// the same k-blocks (the padding reads zeros, as im2col's do), and the input gradient adds the
/// rows `(c, u, v)` into each pixel in col2im's order. The extra terms, at dropped positions,
/// are `+0` (a chain over zeros starting from `+0`) and land only where col2im's sum is
/// not `−0` (a sum that starts at `+0` never is), so they change nothing.
struct PaddedRows {
    let geo: ConvGeometry
    /// Samples side by side, their column stride, the row length and the row count.
    let samples: Int, segment: Int, rowLength: Int, height: Int
    /// Flat output positions computed per channel: all pixels, rounded up to the SIMD strip.
    let positions: Int

    /// The layout for groups of `geo.groupSize` samples; nil when the convolution does not have
    /// stride 1 or pads more than `KW − 1` columns (an output row would overrun its segment), or
    /// the offsets would not fit in `Int32`.
    init?(_ geo: ConvGeometry) {
        let image = geo.image, window = image.window
        guard window.strideH == 1, window.strideW == 1, window.padW < window.kernelW else { return nil }
        self.geo = geo
        samples = geo.groupSize
        segment = image.width + window.padW
        rowLength = samples * segment + window.padW
        height = image.height + 2 * window.padH
        let last = (image.outHeight - 1) * rowLength + (samples - 1) * segment + image.outWidth
        positions = (last + 15) / 16 * 16
        guard image.channels * height * rowLength + positions < Int(Int32.max) else { return nil }
    }

    var plane: Int { height * rowLength }
    /// Floats of a padded input read by the kept offsets over all positions.
    var inputExtent: Int { geo.image.channels * plane + positions }
    /// Floats of one padded `dx` plane written by the shifted adds.
    var gradientPlaneExtent: Int { plane + positions }

    /// Where the taps `k = (c·KH + u)·KW + v` read, relative to output position 0.
    func offset(ofTap k: Int) -> Int {
        let window = geo.image.window, taps = window.kernelH * window.kernelW
        let c = k / taps, u = k % taps / window.kernelW, v = k % window.kernelW
        return c * plane + u * rowLength + v
    }

    /// The two tensors a layout holds: the input side (`[N, C, H, W]`, a padded plane of
    /// `plane` floats per channel) and the output side (`[N, O, OH, OW]`, `positions` per channel).
    enum Side { case input, output }

    /// Copies the samples' pixels between a tensor of `side` (the channels `channels`, all by
    /// default) and its padded planes, where pixel `(row, column)` of the `b`-th of `samples`
    /// sits at `(top + row)·L + b·S + left + column` (top and left: the padding on the input
    /// side, 0 on the output side); into the padded planes with `toPadded`, else back.
    func transfer(tensor: UnsafeMutablePointer<Float>, padded: UnsafeMutablePointer<Float>, toPadded: Bool,
                  samples: Range<Int>, side: Side, channels: Range<Int>? = nil) {
        let image = geo.image, input = side == .input
        let total = input ? image.channels : geo.outChannels
        let (rows, columns) = input ? (image.height, image.width) : (image.outHeight, image.outWidth)
        let planeStride = input ? plane : positions
        let corner = input ? image.window.padH * rowLength + image.window.padW : 0
        let channels = channels ?? 0..<total
        @inline(__always) func copyRows(_ copy: (_ from: UnsafePointer<Float>, _ to: UnsafeMutablePointer<Float>) -> Void) {
            for (b, n) in samples.enumerated() {
                for c in channels {
                    let plain = tensor + (n * total + c) * rows * columns
                    let spaced = padded + (c - channels.lowerBound) * planeStride + corner + b * segment
                    for r in 0..<rows {
                        let (from, to) = toPadded ? (plain + r * columns, spaced + r * rowLength) : (spaced + r * rowLength, plain + r * columns)
                        copy(from, to)
                    }
                }
            }
        }
        // Rows of 2 to 16 floats (VGG-16's deep planes) move as one vector each: a memmove call
        // per row of 8–64 bytes took as long as the sparse products themselves at low densities
        // (perf, VGG-16's 4 × 4 and 2 × 2 layers at density 0.02).
        @inline(__always) func vectors<V: SIMD>(_: V.Type) where V.Scalar == Float {
            copyRows { from, to in UnsafeMutableRawPointer(to).storeBytes(of: UnsafeRawPointer(from).loadUnaligned(as: V.self), as: V.self) }
        }
        switch columns {
        case 2: vectors(SIMD2<Float>.self)
        case 4: vectors(SIMD4<Float>.self)
        case 8: vectors(SIMD8<Float>.self)
        case 16: vectors(SIMD16<Float>.self)
        default: copyRows { from, to in to.update(from: from, count: columns) }
        }
    }
}

extension SparseTopology {
    /// `conv2d(x, P_S(W))` by direct products over `layout`: `values` in row order.
    func directConv2d(_ x: UnsafePointer<Float>, values: [Float], layout: PaddedRows, into y: UnsafeMutablePointer<Float>) {
        let t = layout.positions
        let offsets = columnIndex.map { Int32(layout.offset(ofTap: Int($0))) }
        let blocks = SparseKernels.kBlocks(columns).map { layout.offset(ofTap: $0.lowerBound) ..< layout.offset(ofTap: $0.upperBound) }
        layout.geo.sampleGroups.forEach(scratch: layout.inputExtent + rows * t) { samples, scratch, threads in
            let padded = scratch, out = scratch + layout.inputExtent
            padded.update(repeating: 0, count: layout.inputExtent)
            layout.transfer(tensor: UnsafeMutablePointer(mutating: x), padded: padded, toPadded: true, samples: samples, side: .input)
            rowStart.withUnsafeBufferPointer { start in
                offsets.withUnsafeBufferPointer { index in
                    values.withUnsafeBufferPointer { vs in
                        SparseKernels.forEachPart(rows, work: count * t, threads: threads) { range in
                            SparseKernels.rowsTimesDenseByEntries(start: start.baseAddress!, index: index.baseAddress!,
                                                                  values: vs.baseAddress!, rows: range, blocks: blocks,
                                                                  dense: padded, ldd: 1, n: t, out: out, ldo: t)
                        }
                    }
                }
            }
            layout.transfer(tensor: y, padded: out, toPadded: false, samples: samples, side: .output)
        }
    }

    /// `conv2dInputGrad(gy, P_S(W))` by direct products over `layout`: `values` in column order.
    func directConv2dInputGrad(_ gy: UnsafePointer<Float>, values: [Float], layout: PaddedRows,
                               into dx: UnsafeMutablePointer<Float>) {
        let image = layout.geo.image, window = image.window
        let t = layout.positions, taps = window.kernelH * window.kernelW
        let blocks = SparseKernels.kBlocks(rows)
        layout.geo.sampleGroups.forEach(scratch: rows * t) { samples, gPadded, threads in
            gPadded.update(repeating: 0, count: rows * t)
            layout.transfer(tensor: UnsafeMutablePointer(mutating: gy), padded: gPadded, toPadded: true, samples: samples, side: .output)
            columnStart.withUnsafeBufferPointer { start in
                cscRowIndex.withUnsafeBufferPointer { index in
                    values.withUnsafeBufferPointer { vs in
                        SparseKernels.forEachPart(image.channels, work: count * t, threads: threads) { channels in
                            let tapRows = UnsafeMutablePointer<Float>.allocate(capacity: taps * t + layout.gradientPlaneExtent)
                            defer { tapRows.deallocate() }
                            let plane = tapRows + taps * t
                            for c in channels {
                                let first = start.baseAddress! + c * taps
                                SparseKernels.rowsTimesDenseByEntries(start: first, index: index.baseAddress!, values: vs.baseAddress!,
                                                                      rows: 0..<taps, blocks: blocks, dense: gPadded, ldd: t, n: t,
                                                                      out: tapRows, ldo: t)
                                plane.update(repeating: 0, count: layout.gradientPlaneExtent)
                                for tap in 0..<taps where first[tap] < first[tap + 1] {
                                    let row = tapRows + tap * t
                                    let target = plane + (tap / window.kernelW) * layout.rowLength + tap % window.kernelW
                                    for p in 0..<t { target[p] += row[p] }
                                }
                                layout.transfer(tensor: dx, padded: plane, toPadded: false, samples: samples, side: .input, channels: c..<c + 1)
                            }
                        }
                    }
                }
            }
        }
    }
}
