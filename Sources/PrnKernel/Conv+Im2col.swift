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
        let ow = outWidth, sw = window.strideW
        forEachColumnRow(ld: ld, channels: channels ?? 0..<self.channels) { colOffset, inputOffset, valid in
            let dst = col + colOffset
            guard let inputOffset else {
                dst.update(repeating: 0, count: ow)
                return
            }
            dst.update(repeating: 0, count: valid.lowerBound)
            (dst + valid.upperBound).update(repeating: 0, count: ow - valid.upperBound)
            if sw == 1 {
                (dst + valid.lowerBound).update(from: x + (inputOffset + valid.lowerBound), count: valid.count)
            } else {
                for j in valid { dst[j] = x[inputOffset + j * sw] }
            }
        }
    }

    /// Overwrites `dx[C, H, W]` with the sum of the column entries read from each pixel (the
    /// adjoint of `im2col`). Entries are added in a fixed order, so the result is deterministic.
    func col2im(_ col: UnsafePointer<Float>, ld: Int, into dx: UnsafeMutablePointer<Float>) {
        dx.update(repeating: 0, count: channels * inputPlane)
        let sw = window.strideW
        forEachColumnRow(ld: ld, channels: 0..<channels) { colOffset, inputOffset, valid in
            guard let inputOffset else { return }
            let src = col + colOffset
            if sw == 1 {
                // Separate base pointers give the vectorizer a plain a[j] += b[j] loop.
                let dst = dx + (inputOffset + valid.lowerBound), run = src + valid.lowerBound
                for j in 0..<valid.count { dst[j] += run[j] }
            } else {
                for j in valid { dx[inputOffset + j * sw] += src[j] }
            }
        }
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
