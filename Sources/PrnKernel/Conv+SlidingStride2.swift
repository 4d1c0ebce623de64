// The sliding kernel on stride 2 (ResNet-20's downsampling 3×3 layers), forward pass and weight
// gradient. Output pixel (i, j) of tap (u, v) reads x[2i + u − 1][2j + v − 1]: rows of one parity
// and columns of one parity. So each input channel gets six copies, one per row phase and column
// shift, each an ⌈H/2⌉ × ⌈W/2⌉-wide plane read as one row like the output plane:
//
//     odd-row copy v:  element i·OW + j = x[2i − 1][2j + v − 1]   (i = 0…OH: row 0 is the zero row above the plane)
//     even-row copy v: element i·OW + j = x[2i][2j + v − 1]
//
// (zero outside the plane). Tap row u = 0 of output pixel p = i·OW + j is the odd-row copy's
// element p, u = 1 the even-row copy's element p, and u = 2 the odd-row copy's element p + OW, so
// the same kernel runs with the rows' offsets (`SlidingPlan.tapRows`) in place of u·W. Each
// output is again the chain `fma(w, x, acc)` over (c, u, v) from 0, zeros included: im2col's
// whenever 9·C fits one GEMM k-block.

extension SlidingPlan {
    /// Writes each channel's six phase copies (channel c's from `copies + c·channelStride`),
    /// `shiftedCount` floats each: the odd-row copies for
    /// v = 0, 1, 2, then the even-row ones, each zero past its last row. A row's even and odd
    /// columns are split in one pass (column shift v = 1 and v = 2); v = 0 is the odd columns one
    /// place on, behind a zero.
    func fillPhases(_ x: UnsafePointer<Float>, into copies: UnsafeMutablePointer<Float>, channelStride: Int) {
        let ow = outWidth, oh = outHeight, shifted = shiftedCount, pairs = width / 2
        for c in 0..<inChannels {
            let source = x + c * inputPlane
            for phase in 0..<2 {
                let left = copies + c * channelStride + 3 * phase * shifted
                let even = left + shifted, odd = even + shifted
                func zero(from start: Int, count: Int) {
                    (left + start).update(repeating: 0, count: count)
                    (even + start).update(repeating: 0, count: count)
                    (odd + start).update(repeating: 0, count: count)
                }
                let rows = phase == 0 ? oh + 1 : oh
                for i in 0..<rows {
                    let r = phase == 0 ? 2 * i - 1 : 2 * i, at = i * ow
                    guard r >= 0 && r < height else {
                        zero(from: at, count: ow)
                        continue
                    }
                    let line = source + r * width
                    for j in 0..<pairs {
                        even[at + j] = line[2 * j]
                        odd[at + j] = line[2 * j + 1]
                    }
                    if pairs < ow {   // an odd width: one more even column, no odd one
                        even[at + pairs] = line[2 * pairs]
                        odd[at + pairs] = 0
                    }
                    left[at] = 0
                    (left + at + 1).update(from: odd + at, count: ow - 1)
                }
                zero(from: rows * ow, count: shifted - rows * ow)
            }
        }
    }
}
