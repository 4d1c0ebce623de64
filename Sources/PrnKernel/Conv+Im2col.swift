/// im2col and its adjoint col2im, one sample at a time.
///
/// The column matrix of a sample `x[C, H, W]` has one row per tap `r = (c·KH + u)·KW + v` and one
/// column per output pixel `p = i·OW + j`:
///
///     col[r, p] = x[c, i·sh − ph + u, j·sw − pw + v]     (0 where that falls in the padding)
///
/// so a convolution is the product `W[O, K] · col[K, P]`. Rows have leading dimension `ld`, which
/// lets several samples sit side by side in one matrix (sample b at column offset `b·P`) and share
/// one larger GEMM. col2im is the transpose of this linear map: it adds each column entry back
/// onto the input pixel it was read from.
extension WindowGeometry {
    /// Rows of the column matrix: `C·KH·KW`.
    var patch: Int { channels * window.kernelH * window.kernelW }

    /// Writes the `patch × outputPlane` column matrix of one sample into `col` (row stride `ld`);
    /// with `channels`, only the rows of those input channels (`KH·KW` rows each), from `col`'s
    /// first row.
    func im2col(_ x: UnsafePointer<Float>, into col: UnsafeMutablePointer<Float>, ld: Int, channels: Range<Int>? = nil) {
        let channels = channels ?? 0..<self.channels
        if outputPlane <= Self.gatherPlane {
            forEachGatheredRow(channels: channels, ld: ld) { c, row, from in
                let plane = x + c * inputPlane, dst = col + row
                for t in 0..<outputPlane {
                    let s = Int(from[t])
                    dst[t] = s >= 0 ? plane[s] : 0
                }
            }
            return
        }
        if let shifts = planeShifts {
            // Each row is the input plane shifted: one copy, then the padding's zeros.
            shifts.forEachTap(channels: channels) { r, base, rows, cols in
                let dst = col + r * ld
                guard let run = shifts.run(rows: rows, cols: cols) else {
                    FloatRun.zero(dst, count: outputPlane)
                    return
                }
                FloatRun.copy(x + (base + run.lowerBound), to: dst + run.lowerBound, count: run.count)
                FloatRun.zero(dst, count: rows.lowerBound * outWidth)
                FloatRun.zero(dst + rows.upperBound * outWidth, count: (outHeight - rows.upperBound) * outWidth)
                shifts.zeroWrappedColumns(dst, rows: rows, cols: cols)
            }
            return
        }
        let ow = outWidth, sw = window.strideW
        forEachColumnRow(ld: ld, channels: channels) { colOffset, inputOffset, valid in
            let dst = col + colOffset
            guard let inputOffset else {
                FloatRun.zero(dst, count: ow)
                return
            }
            FloatRun.zero(dst, count: valid.lowerBound)
            FloatRun.zero(dst + valid.upperBound, count: ow - valid.upperBound)
            if sw == 1 {
                FloatRun.copy(x + (inputOffset + valid.lowerBound), to: dst + valid.lowerBound, count: valid.count)
            } else {
                for j in valid { dst[j] = x[inputOffset + j * sw] }
            }
        }
    }

    /// Overwrites `dx[C, H, W]` with the sum of the column entries read from each pixel (the
    /// adjoint of `im2col`). Entries are added in a fixed order (taps in row order), so the
    /// result is deterministic. The entries of `col` that read padding may be overwritten with
    /// zeros. With `channels`, only those planes of `dx`, from the rows of those channels
    /// (`KH·KW` each), counted from `col`'s first row as in `im2col`.
    func col2im(_ col: UnsafeMutablePointer<Float>, ld: Int, into dx: UnsafeMutablePointer<Float>, channels: Range<Int>? = nil) {
        let channels = channels ?? 0..<self.channels
        if outputPlane <= Self.gatherPlane {
            // Tap by tap onto zeros: each pixel's entries in tap order, as below.
            (dx + channels.lowerBound * inputPlane).update(repeating: 0, count: channels.count * inputPlane)
            forEachGatheredRow(channels: channels, ld: ld) { c, row, from in
                let plane = dx + c * inputPlane, src = col + row
                for t in 0..<outputPlane {
                    let s = Int(from[t])
                    if s >= 0 { plane[s] += src[t] }
                }
            }
            return
        }
        if let shifts = planeShifts {
            // Each row adds onto the plane shifted, in one run once the entries that would wrap
            // onto a neighbouring image row are zeroed (adding +0 to a sum that started at +0
            // changes no bit: such a sum is never −0). A channel's first row is added onto
            // zeros without reading them (`FloatRun.addToZero`), and only the pixels outside its
            // run are zero-filled.
            let taps = window.kernelH * window.kernelW
            shifts.forEachTap(channels: channels) { r, base, rows, cols in
                let run = shifts.run(rows: rows, cols: cols)
                let src = col + r * ld
                if run != nil { shifts.zeroWrappedColumns(src, rows: rows, cols: cols) }
                guard r % taps == 0 else {
                    if let run { FloatRun.add(src + run.lowerBound, into: dx + (base + run.lowerBound), count: run.count) }
                    return
                }
                let c = channels.lowerBound + r / taps, plane = dx + c * inputPlane
                guard let run else {
                    FloatRun.zero(plane, count: inputPlane)
                    return
                }
                // The run's pixels, as offsets in the plane (they lie inside it).
                let first = base + run.lowerBound - c * inputPlane, end = first + run.count
                FloatRun.zero(plane, count: first)
                FloatRun.addToZero(src + run.lowerBound, into: plane + first, count: run.count)
                FloatRun.zero(plane + end, count: inputPlane - end)
            }
            return
        }
        (dx + channels.lowerBound * inputPlane).update(repeating: 0, count: channels.count * inputPlane)
        let sw = window.strideW
        forEachColumnRow(ld: ld, channels: channels) { colOffset, inputOffset, valid in
            guard let inputOffset else { return }
            let src = col + colOffset
            if sw == 1 {
                FloatRun.add(src + valid.lowerBound, into: dx + (inputOffset + valid.lowerBound), count: valid.count)
            } else {
                for j in valid { dx[inputOffset + j * sw] += src[j] }
            }
        }
    }

    /// Output planes up to this many pixels (VGG's 4 × 4 and 2 × 2 layers) have their column
    /// rows gathered through a table of source pixels, made once per call: on such planes the
    /// runs below are a few floats long and finding them cost more than moving them.
    static let gatherPlane = 16

    /// Runs `body(channel, row, sources)` for each column-matrix row `(c, u, v)` of `channels`, in
    /// order: `row` is its offset in the column matrix (rows `ld` floats apart, counted from the
    /// first channel's), `sources` the input pixel within the plane that each output pixel reads
    /// through that tap, or −1 in the padding. im2col gathers through it, col2im adds back.
    private func forEachGatheredRow(channels: Range<Int>, ld: Int,
                                    _ body: (_ channel: Int, _ row: Int, _ sources: UnsafePointer<Int32>) -> Void) {
        withTapSources { sources, taps in
            for c in channels {
                for q in 0..<taps { body(c, ((c - channels.lowerBound) * taps + q) * ld, sources + q * outputPlane) }
            }
        }
    }

    /// Runs `body(sources, taps)` with, for each tap `(u, v)` of the window and each output pixel
    /// `t`, the input pixel it reads within a plane (`sources[(u·KW + v)·P + t]`), or −1 in the
    /// padding.
    private func withTapSources(_ body: (_ sources: UnsafePointer<Int32>, _ taps: Int) -> Void) {
        let w = window, taps = w.kernelH * w.kernelW, plane = outputPlane
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: taps * plane) { sources in
            for u in 0..<w.kernelH {
                for v in 0..<w.kernelW {
                    for i in 0..<outHeight {
                        for j in 0..<outWidth {
                            let y = i * w.strideH - w.padH + u, x = j * w.strideW - w.padW + v
                            let inside = y >= 0 && y < height && x >= 0 && x < width
                            sources[(u * w.kernelW + v) * plane + i * outWidth + j] = inside ? Int32(y * width + x) : -1
                        }
                    }
                }
            }
            body(UnsafePointer(sources.baseAddress!), taps)
        }
    }

    /// For stride 1 with the output as wide as the input (a "same" convolution, the common
    /// case), every column-matrix row is the input plane shifted by `(u − ph)·W + (v − pw)`.
    private var planeShifts: PlaneShifts? {
        window.strideH == 1 && window.strideW == 1 && outWidth == width ? PlaneShifts(geometry: self) : nil
    }

    /// Visits each output row `i` of each column-matrix row `(c, u, v)` of the given channels:
    /// `colOffset` is where that run of `outWidth` entries starts in the column matrix (rows
    /// counted from the first channel's); `inputOffset` is such that output
    /// column `j` reads `x[inputOffset + j·sw]`, or nil when the whole run lies in the padding;
    /// `valid` is the range of `j` that reads inside the image.
    @inline(__always)
    private func forEachColumnRow(ld: Int, channels: Range<Int>,
                                  _ body: (_ colOffset: Int, _ inputOffset: Int?, _ valid: Range<Int>) -> Void) {
        let w = window
        for c in channels {
            for u in 0..<w.kernelH {
                let rows = Window2D.validOutputs(tap: u, n: height, outLength: outHeight, stride: w.strideH, pad: w.padH)
                for v in 0..<w.kernelW {
                    let r = ((c - channels.lowerBound) * w.kernelH + u) * w.kernelW + v
                    let cols = Window2D.validOutputs(tap: v, n: width, outLength: outWidth, stride: w.strideW, pad: w.padW)
                    for i in 0..<outHeight {
                        let colOffset = r * ld + i * outWidth
                        if rows.contains(i) && !cols.isEmpty {
                            let inputRow = c * height + i * w.strideH - w.padH + u
                            body(colOffset, inputRow * width + v - w.padW, cols)
                        } else {
                            body(colOffset, nil, 0..<0)
                        }
                    }
                }
            }
        }
    }
}

/// The column-matrix rows of a stride-1 window whose output is as wide as its input: output
/// entry `t = i·W + j` of tap `(c, u, v)` reads input `c·H·W + t + (u − ph)·W + (v − pw)`, so a
/// whole row is one run of the input, apart from the padding's entries: rows `i` outside the
/// valid range, and in each valid row the columns `j` outside it (which the run would read from
/// the neighbouring image row, so they are zeroed after).
private struct PlaneShifts {
    let geometry: WindowGeometry

    /// Runs `body(r, base, rows, cols)` for each tap `(c, u, v)` of `channels`, `r` counted from
    /// the first of them: entry `t` reads input `base + t`; `rows` and `cols` are the valid ranges.
    @inline(__always)
    func forEachTap(channels: Range<Int>, _ body: (_ r: Int, _ base: Int, _ rows: Range<Int>, _ cols: Range<Int>) -> Void) {
        let g = geometry, w = g.window
        for c in channels {
            for u in 0..<w.kernelH {
                let rows = Window2D.validOutputs(tap: u, n: g.height, outLength: g.outHeight, stride: 1, pad: w.padH)
                for v in 0..<w.kernelW {
                    let r = ((c - channels.lowerBound) * w.kernelH + u) * w.kernelW + v
                    let cols = Window2D.validOutputs(tap: v, n: g.width, outLength: g.outWidth, stride: 1, pad: w.padW)
                    body(r, c * g.inputPlane + (u - w.padH) * g.width + (v - w.padW), rows, cols)
                }
            }
        }
    }

    /// The entries from the first valid one to the last, or nil when none is valid.
    @inline(__always)
    func run(rows: Range<Int>, cols: Range<Int>) -> Range<Int>? {
        guard !rows.isEmpty, !cols.isEmpty else { return nil }
        let ow = geometry.outWidth
        return rows.lowerBound * ow + cols.lowerBound ..< (rows.upperBound - 1) * ow + cols.upperBound
    }

    /// Zeroes the columns outside `cols` in each of `rows` of one column-matrix row.
    @inline(__always)
    func zeroWrappedColumns(_ row: UnsafeMutablePointer<Float>, rows: Range<Int>, cols: Range<Int>) {
        let ow = geometry.outWidth
        guard cols.count < ow else { return }
        for i in rows {
            FloatRun.zero(row + i * ow, count: cols.lowerBound)
            FloatRun.zero(row + i * ow + cols.upperBound, count: ow - cols.upperBound)
        }
    }
}

/// Copies, zero fills and sums of short runs of floats (a feature-map row: often 32 floats or
/// fewer), inlined where memmove and memset would cost a call and a size dispatch per row. The
/// source and destination of a run must not overlap.
enum FloatRun {
    @inline(__always)
    static func copy(_ src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<Float>, count: Int) {
        let from = UnsafeRawPointer(src), to = UnsafeMutableRawPointer(dst)
        var j = 0
        while j &+ 8 <= count {
            to.storeBytes(of: from.loadUnaligned(fromByteOffset: j &* 4, as: SIMD8<Float>.self), toByteOffset: j &* 4, as: SIMD8<Float>.self)
            j &+= 8
        }
        if j &+ 4 <= count {
            to.storeBytes(of: from.loadUnaligned(fromByteOffset: j &* 4, as: SIMD4<Float>.self), toByteOffset: j &* 4, as: SIMD4<Float>.self)
            j &+= 4
        }
        while j < count {
            dst[j] = src[j]
            j &+= 1
        }
    }

    @inline(__always)
    static func zero(_ dst: UnsafeMutablePointer<Float>, count: Int) {
        let to = UnsafeMutableRawPointer(dst)
        var j = 0
        while j &+ 8 <= count {
            to.storeBytes(of: SIMD8<Float>(), toByteOffset: j &* 4, as: SIMD8<Float>.self)
            j &+= 8
        }
        while j < count {
            dst[j] = 0
            j &+= 1
        }
    }

    /// `dst[j] = 0 + src[j]` for `j < count`: what adding `src` onto zeros leaves (a −0 becomes
    /// +0), without reading `dst`.
    @inline(__always)
    static func addToZero(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, count: Int) {
        let from = UnsafeRawPointer(src), to = UnsafeMutableRawPointer(dst)
        var j = 0
        while j &+ 8 <= count {
            to.storeBytes(of: SIMD8<Float>() + from.loadUnaligned(fromByteOffset: j &* 4, as: SIMD8<Float>.self),
                          toByteOffset: j &* 4, as: SIMD8<Float>.self)
            j &+= 8
        }
        while j < count {
            dst[j] = 0 + src[j]
            j &+= 1
        }
    }

    /// `dst[j] += src[j]` for `j < count`.
    @inline(__always)
    static func add(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, count: Int) {
        let from = UnsafeRawPointer(src), to = UnsafeMutableRawPointer(dst)
        var j = 0
        while j &+ 8 <= count {
            let sum = to.loadUnaligned(fromByteOffset: j &* 4, as: SIMD8<Float>.self) + from.loadUnaligned(fromByteOffset: j &* 4, as: SIMD8<Float>.self)
            to.storeBytes(of: sum, toByteOffset: j &* 4, as: SIMD8<Float>.self)
            j &+= 8
        }
        if j &+ 4 <= count {
            let sum = to.loadUnaligned(fromByteOffset: j &* 4, as: SIMD4<Float>.self) + from.loadUnaligned(fromByteOffset: j &* 4, as: SIMD4<Float>.self)
            to.storeBytes(of: sum, toByteOffset: j &* 4, as: SIMD4<Float>.self)
            j &+= 4
        }
        while j < count {
            dst[j] += src[j]
            j &+= 1
        }
    }
}
