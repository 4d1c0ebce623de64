/// Max and average pooling over the last two axes of an NCHW tensor, with the linear maps their
/// gradients need.
///
/// A window of `kernel × kernel` moves with `stride` (default: the kernel) over the input padded
/// by `padding` on every side; output size `⌊(H + 2p − k)/s⌋ + 1` per axis (no ceil mode).
/// Padding may be at most `kernel / 2`, so every window covers at least one real input.
///
/// - Max pooling returns the values and a `PoolArgmax`. Given the argmax, max pooling is the
///   linear selection `gathered(at:)`; its adjoint `scatterAdded(at:)` is the backward pass, and
///   the adjoint of that is the gather again, which is all double backward needs.
/// - Average pooling divides by `kernel²` including padded positions (PyTorch's
///   `count_include_pad=True`), so it is one fixed linear map; `avgPool2dAdjoint` is its transpose.
///
/// Planes (sample, channel) are processed in parallel; within a plane everything is sequential,
/// so results do not depend on the thread count.
extension Tensor {
    /// Max over each window: `y[n, c, i, j] = max_{u,v} x[n, c, i·s − p + u, j·s − p + v]` over
    /// the window's real (unpadded) inputs, and where each maximum was found (the first one on ties;
    /// NaN wins, so it propagates).
    public func maxPool2d(kernel: Int, stride: Int? = nil, padding: Int = 0) -> (values: Tensor, argmax: PoolArgmax) {
        let geo = WindowGeometry.pool(input: shape, kernel: kernel, stride: stride, padding: padding)
        let outShape = geo.outputShape
        let width = geo.width, inPlane = geo.inputPlane, outPlane = geo.outputPlane
        // Every offset is written below (each window's), so the array starts uninitialized.
        var offsets = [Int32](unsafeUninitializedCapacity: Shape.count(outShape)) { $1 = $0.count }
        let values = Tensor.build(outShape) { y in
            offsets.withUnsafeMutableBufferPointer { at in
                scalars.withUnsafeBufferPointer { x in
                    if geo.isPlain2x2 {
                        WindowGeometry.forEachPlaneRange(geo.planes, planeSize: inPlane) { planes in
                            geo.maxPool2x2(x.baseAddress!, planes: planes, y: y.baseAddress!, at: at.baseAddress!)
                        }
                        return
                    }
                    geo.forEachWindow { q, e, rows, cols in
                        let plane = x.baseAddress! + q * inPlane
                        var best = -Float.infinity, bestAt = rows.lowerBound * width + cols.lowerBound
                        var nans = 0
                        for h in rows {
                            for w in cols {
                                let v = plane[h &* width &+ w]
                                // Selects, not branches: the winner is data-dependent, so a branch
                                // would mispredict. NaNs are only counted here (off the critical path).
                                let take = v > best
                                best = take ? v : best
                                bestAt = take ? h &* width &+ w : bestAt
                                nans &+= v.isNaN ? 1 : 0
                            }
                        }
                        if nans > 0 {
                            // NaN propagates: the first NaN of the window wins.
                            bestAt = rows.lazy.flatMap { h in cols.lazy.map { h * width + $0 } }.first { plane[$0].isNaN }!
                            best = plane[bestAt]
                        }
                        y[q * outPlane + e] = best
                        at[q * outPlane + e] = Int32(bestAt)
                    }
                }
            }
        }
        return (values, PoolArgmax(inputShape: shape, outputShape: outShape, offsets: offsets, isPlain2x2: geo.isPlain2x2))
    }

    /// `y[e] = x[argmax[e]]`: this tensor (shaped like the pooled input) read at the positions
    /// max pooling chose. Linear in `x`; the adjoint of `scatterAdded(at:)`.
    public func gathered(at argmax: PoolArgmax) -> Tensor {
        precondition(shape == argmax.inputShape, "gathered(at:): tensor \(shape), argmax of input \(argmax.inputShape)")
        return Tensor.build(argmax.outputShape) { y in
            scalars.withUnsafeBufferPointer { x in
                argmax.forEachPlane { outputs, input, at in
                    for e in outputs { y[e] = x[input + Int(at[e])] }
                }
            }
        }
    }

    /// `dx[argmax[e]] += g[e]`: this tensor (shaped like the pooled output) added into a zero
    /// tensor shaped like the pooled input at the positions max pooling chose. This is max
    /// pooling's backward; its adjoint is `gathered(at:)`.
    public func scatterAdded(at argmax: PoolArgmax) -> Tensor {
        precondition(shape == argmax.outputShape, "scatterAdded(at:): tensor \(shape), argmax of output \(argmax.outputShape)")
        let inPlane = argmax.inputPlane
        return Tensor.build(argmax.inputShape) { dx in
            scalars.withUnsafeBufferPointer { g in
                argmax.forEachPlane { outputs, input, at in
                    let plane = dx.baseAddress! + input
                    plane.update(repeating: 0, count: inPlane)
                    for e in outputs { plane[Int(at[e])] += g[e] }
                } rowsOf2x2: { planes in
                    argmax.scatter2x2(g.baseAddress!, planes: planes, into: dx.baseAddress!)
                }
            }
        }
    }

    /// Mean over each window, padding counted as zeros:
    /// `y[n, c, i, j] = (1/k²) Σ_{u,v} x[n, c, i·s − p + u, j·s − p + v]`.
    public func avgPool2d(kernel: Int, stride: Int? = nil, padding: Int = 0) -> Tensor {
        let geo = WindowGeometry.pool(input: shape, kernel: kernel, stride: stride, padding: padding)
        let width = geo.width, inPlane = geo.inputPlane, outPlane = geo.outputPlane
        let area = Float(kernel * kernel)
        return Tensor.build(geo.outputShape) { y in
            scalars.withUnsafeBufferPointer { x in
                geo.forEachWindow { q, e, rows, cols in
                    let plane = x.baseAddress! + q * inPlane
                    var sum: Float = 0
                    for h in rows {
                        for w in cols { sum += plane[h * width + w] }
                    }
                    y[q * outPlane + e] = sum / area
                }
            }
        }
    }

    /// The transpose of `avgPool2d` for an input of `inputShape`: each output gradient, divided by
    /// `k²`, is added to every real input of its window. This is average pooling's backward; its
    /// own adjoint is `avgPool2d` again.
    public func avgPool2dAdjoint(inputShape: [Int], kernel: Int, stride: Int? = nil, padding: Int = 0) -> Tensor {
        let geo = WindowGeometry.pool(input: inputShape, kernel: kernel, stride: stride, padding: padding)
        precondition(shape == geo.outputShape, "avgPool2dAdjoint: gradient \(shape), expected \(geo.outputShape)")
        let width = geo.width, inPlane = geo.inputPlane, outPlane = geo.outputPlane
        let area = Float(kernel * kernel)
        return Tensor.build(inputShape) { dx in
            dx.update(repeating: 0)
            scalars.withUnsafeBufferPointer { g in
                geo.forEachWindow { q, e, rows, cols in
                    let plane = dx.baseAddress! + q * inPlane
                    let share = g[q * outPlane + e] / area
                    for h in rows {
                        for w in cols { plane[h * width + w] += share }
                    }
                }
            }
        }
    }
}

/// Where each max-pool output was read from: enough to route gradients (and gradients of
/// gradients) without looking at the values again.
public struct PoolArgmax: Sendable, Equatable {
    public let inputShape: [Int]
    public let outputShape: [Int]
    /// For output element `e` (flat index) in plane `q = e / (OH·OW)`: the offset `h·W + w` of its
    /// input within plane `q` of the input.
    public let offsets: [Int32]
    /// Whether the windows were 2 × 2 with stride 2 and no padding (`WindowGeometry.isPlain2x2`):
    /// disjoint, so that `scatterAdded` can write each window's four inputs directly.
    let isPlain2x2: Bool

    var inputPlane: Int { inputShape[2] * inputShape[3] }
    var outputPlane: Int { outputShape[2] * outputShape[3] }

    /// Visits each plane, planes in parallel, with the flat indices of its outputs, the flat
    /// index where its input plane starts, and the offsets (indexed by output). With
    /// `rowsOf2x2`, ranges of planes go to it instead when the windows are disjoint 2 × 2 ones at
    /// least eight to a row (`scatter2x2`'s blocks).
    @inline(__always)
    func forEachPlane(_ body: (_ outputs: Range<Int>, _ input: Int, _ offsets: UnsafeBufferPointer<Int32>) -> Void,
                      rowsOf2x2: ((Range<Int>) -> Void)? = nil) {
        let inPlane = inputPlane, outPlane = outputPlane
        let blocks = isPlain2x2 && outputShape[3] >= 8 ? rowsOf2x2 : nil
        offsets.withUnsafeBufferPointer { at in
            WindowGeometry.forEachPlaneRange(outputShape[0] * outputShape[1], planeSize: inPlane) { planes in
                if let blocks { return blocks(planes) }
                for q in planes { body(q * outPlane..<(q + 1) * outPlane, q * inPlane, at) }
            }
        }
    }

    /// `scatterAdded` for disjoint 2 × 2 windows, planes `planes` of `g` into `dx`, in one pass
    /// that writes every input once instead of zeroing the plane and then adding into it: each
    /// window's input at its argmax gets `0 + g` (what adding into zero gives, −0 becoming +0),
    /// its other three inputs and the inputs no window covers (an odd last row or column) get 0.
    /// Eight windows side by side (rows of at least eight); a last partial block is taken as the
    /// eight last windows, writing some inputs twice with the same values.
    func scatter2x2(_ g: UnsafePointer<Float>, planes: Range<Int>, into dx: UnsafeMutablePointer<Float>) {
        let width = inputShape[3], height = inputShape[2], oh = outputShape[2], ow = outputShape[3]
        let lanes = SIMD16<Int32>(0, 0, 2, 2, 4, 4, 6, 6, 8, 8, 10, 10, 12, 12, 14, 14)
        let columns = SIMD16<Int32>(0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1)
        let zero = SIMD16<Float>(repeating: 0)
        offsets.withUnsafeBufferPointer { offsets in
            let at = offsets.baseAddress!
            for q in planes {
                let plane = dx + q * inputPlane
                for i in 0..<oh {
                    let top = 2 * i * width, out = q * outputPlane + i * ow
                    for block in stride(from: 0, to: ow, by: 8) {
                        let j = Swift.min(block, ow - 8)
                        let gradients = UnsafeRawPointer(g + out + j).loadUnaligned(as: SIMD8<Float>.self)
                        let chosen = UnsafeRawPointer(at + out + j).loadUnaligned(as: SIMD8<Int32>.self)
                        // Each window's gradient and argmax twice, once per input column.
                        let pairs = Self.doubled(gradients), targets = Self.doubled(chosen)
                        let upper = SIMD16<Int32>(repeating: Int32(top + 2 * j)) &+ lanes &+ columns
                        let sums = zero + pairs
                        UnsafeMutableRawPointer(plane + top + 2 * j)
                            .storeBytes(of: zero.replacing(with: sums, where: targets .== upper), as: SIMD16<Float>.self)
                        UnsafeMutableRawPointer(plane + top + width + 2 * j)
                            .storeBytes(of: zero.replacing(with: sums, where: targets .== upper &+ Int32(width)), as: SIMD16<Float>.self)
                    }
                    if width > 2 * ow {
                        plane[top + width - 1] = 0
                        plane[top + 2 * width - 1] = 0
                    }
                }
                if height > 2 * oh { (plane + 2 * oh * width).update(repeating: 0, count: width) }
            }
        }
    }

    /// `(v0, v0, v1, v1, …, v7, v7)`: one shuffle.
    @inline(__always)
    private static func doubled<T: SIMDScalar>(_ v: SIMD8<T>) -> SIMD16<T> {
        SIMD16(v[0], v[0], v[1], v[1], v[2], v[2], v[3], v[3], v[4], v[4], v[5], v[5], v[6], v[6], v[7], v[7])
    }
}

extension Shape {
    /// The output shape of `maxPool2d`/`avgPool2d` for an input `[N, C, H, W]`:
    /// `[N, C, ⌊(H + 2p − k)/s⌋ + 1, ⌊(W + 2p − k)/s⌋ + 1]`, with `s` defaulting to `k`.
    ///
    /// Throws for a wrong rank, a kernel smaller than 1 or larger than the padded input, a
    /// non-positive stride, or padding negative or above `kernel / 2`.
    public static func pool2d(input: [Int], kernel: Int, stride: Int? = nil, padding: Int = 0) throws -> [Int] {
        try WindowGeometry(pool: input, kernel: kernel, stride: stride, padding: padding).outputShape
    }
}

extension WindowGeometry {
    init(pool input: [Int], kernel: Int, stride: Int?, padding: Int) throws {
        let window = Window2D(kernelH: kernel, kernelW: kernel, stride: stride ?? kernel, padding: padding)
        try self.init(input: input, window: window, op: "pool2d")
        guard padding <= kernel / 2 else {
            throw ShapeError("pool2d: padding \(padding) is more than half the kernel \(kernel)")
        }
        // Argmax offsets within a plane are stored as Int32.
        guard inputPlane <= Int(Int32.max) else {
            throw ShapeError("pool2d: input plane \(height)×\(width) is too large")
        }
    }

    /// The initializer for kernels, whose callers have validated the shapes.
    static func pool(input: [Int], kernel: Int, stride: Int?, padding: Int) -> WindowGeometry {
        do {
            return try WindowGeometry(pool: input, kernel: kernel, stride: stride, padding: padding)
        } catch {
            preconditionFailure("\(error)")
        }
    }

    var outputShape: [Int] { [batch, channels, outHeight, outWidth] }

    /// Visits every window of every plane: `body(plane, e, rows, cols)` with `e = i·OW + j` the
    /// output's index within its plane and `rows × cols` the real inputs its window covers.
    /// Planes run in parallel; each plane's windows run in order. Always inlined, so `body` is
    /// inlined into the loop rather than called per window.
    @inline(__always)
    func forEachWindow(_ body: (_ plane: Int, _ e: Int, _ rows: Range<Int>, _ cols: Range<Int>) -> Void) {
        let w = window
        WindowGeometry.forEachPlaneRange(planes, planeSize: inputPlane) { planes in
            for q in planes {
                for i in 0..<outHeight {
                    let rows = Window2D.coveredInputs(output: i, n: height, kernel: w.kernelH, stride: w.strideH, pad: w.padH)
                    for j in 0..<outWidth {
                        let cols = Window2D.coveredInputs(output: j, n: width, kernel: w.kernelW, stride: w.strideW, pad: w.padW)
                        body(q, i * outWidth + j, rows, cols)
                    }
                }
            }
        }
    }

    /// Runs `body` over ranges of `count` planes in parallel, ranges big enough to be worth a
    /// thread. Callers treat each plane independently, so the split does not change results.
    static func forEachPlaneRange(_ count: Int, planeSize: Int, _ body: (Range<Int>) -> Void) {
        Parallel.forEach(count, grain: Swift.max(1, 16_384 / Swift.max(planeSize, 1)), body)
    }
}

extension WindowGeometry {
    /// Whether this is a 2 × 2 window with stride 2 and no padding, every pooling of the model
    /// zoo, which `maxPool2x2` computes eight windows at a time.
    var isPlain2x2: Bool {
        window == Window2D(kernelH: 2, kernelW: 2, stride: 2, padding: 0)
    }

    /// Max pooling of the planes `planes` over 2 × 2 windows with stride 2: the values into `y`,
    /// their offsets into `at`. The general loop's comparisons in its order (top row, then bottom,
    /// left to right; a later value wins only when greater), so the same values and argmax —
    /// eight windows side by side, a block holding a NaN done one window at a time. Planes
    /// narrower than 16 run eight windows at a time across rows and planes when they can
    /// (`poolsInGroups`), else one window at a time.
    func maxPool2x2(_ x: UnsafePointer<Float>, planes: Range<Int>, y: UnsafeMutablePointer<Float>, at: UnsafeMutablePointer<Int32>) {
        if poolsInGroups { return maxPool2x2InGroups(x, planes: planes, y: y, at: at) }
        let width = self.width, ow = outWidth
        let lanes = SIMD8<Int32>(0, 2, 4, 6, 8, 10, 12, 14)
        for q in planes {
            let plane = x + q * inputPlane
            for i in 0..<outHeight {
                let top = 2 * i * width, out = q * outputPlane + i * ow
                // Blocks of eight windows; a last partial block is taken as the eight last windows
                // (the overlap computes the same values again).
                var next = ow >= 8 ? 0 : ow
                while next < ow {
                    let j = Swift.min(next, ow - 8)
                    next += 8
                    let upper = UnsafeRawPointer(plane + top + 2 * j).loadUnaligned(as: SIMD16<Float>.self)
                    let lower = UnsafeRawPointer(plane + top + width + 2 * j).loadUnaligned(as: SIMD16<Float>.self)
                    let candidates = (upper.evenHalf, upper.oddHalf, lower.evenHalf, lower.oddHalf)
                    if Self.holdNaN(candidates) {
                        for e in j..<j + 8 { (y[out + e], at[out + e]) = Self.maxOf2x2(plane, top + 2 * e, width: width) }
                    } else {
                        let (best, offset) = Self.maxOf(candidates, width: width)
                        UnsafeMutableRawPointer(y + out + j).storeBytes(of: best, as: SIMD8<Float>.self)
                        let first = SIMD8<Int32>(repeating: Int32(top + 2 * j)) &+ lanes
                        UnsafeMutableRawPointer(at + out + j).storeBytes(of: first &+ offset, as: SIMD8<Int32>.self)
                    }
                }
                if ow < 8 {
                    for j in 0..<ow { (y[out + j], at[out + j]) = Self.maxOf2x2(plane, top + 2 * j, width: width) }
                }
            }
        }
    }

    /// Whether every 32 consecutive inputs from the start of a plane hold eight whole windows,
    /// which are then consecutive outputs: planes of width 2, 4 or 8 (row pairs of 4, 8 or 16
    /// inputs, nothing left over) and even height whose size is a multiple of 32 or divides it
    /// (so that a group of 32 lies in one plane or holds whole planes). VGG's last poolings
    /// (8 × 8, 4 × 4 and 2 × 2 planes) are these.
    var poolsInGroups: Bool {
        (width == 2 || width == 4 || width == 8) && height % 2 == 0 && (inputPlane % 32 == 0 || 32 % inputPlane == 0)
    }

    /// `maxPool2x2` when `poolsInGroups`: the windows of `planes` in output order, eight at a time
    /// from 32 inputs (a group starting at output `e` starts at input `4e`), the outputs before
    /// the first multiple of eight and after the last whole group one at a time.
    func maxPool2x2InGroups(_ x: UnsafePointer<Float>, planes: Range<Int>, y: UnsafeMutablePointer<Float>,
                            at: UnsafeMutablePointer<Int32>) {
        let width = self.width, ow = outWidth, inPlane = inputPlane, outPlane = outputPlane
        // Window k of a group: its top left input within the group (row pairs of width / 2
        // windows), and within its plane when a group holds several.
        var starts = SIMD8<Int32>(), startsInPlane = starts
        for k in 0..<8 {
            starts[k] = Int32((k / (width / 2)) * 2 * width + 2 * (k % (width / 2)))
            startsInPlane[k] = starts[k] % Int32(inPlane)
        }
        func single(_ e: Int) {
            let r = e % outPlane
            (y[e], at[e]) = Self.maxOf2x2(x + (e / outPlane) * inPlane, 2 * (r / ow) * width + 2 * (r % ow), width: width)
        }
        let end = planes.upperBound * outPlane
        var e = planes.lowerBound * outPlane
        while e < end && e % 8 != 0 {
            single(e)
            e += 1
        }
        while e + 8 <= end {
            let group = x + 4 * e
            let candidates = (Self.gathered(group, starts), Self.gathered(group + 1, starts),
                              Self.gathered(group + width, starts), Self.gathered(group + width + 1, starts))
            if Self.holdNaN(candidates) {
                for k in e..<e + 8 { single(k) }
            } else {
                let (best, offset) = Self.maxOf(candidates, width: width)
                UnsafeMutableRawPointer(y + e).storeBytes(of: best, as: SIMD8<Float>.self)
                let first = SIMD8<Int32>(repeating: Int32(4 * e % inPlane)) &+ startsInPlane
                UnsafeMutableRawPointer(at + e).storeBytes(of: first &+ offset, as: SIMD8<Int32>.self)
            }
            e += 8
        }
        while e < end {
            single(e)
            e += 1
        }
    }

    /// `p[s[0]], …, p[s[7]]`.
    @inline(__always)
    static func gathered(_ p: UnsafePointer<Float>, _ s: SIMD8<Int32>) -> SIMD8<Float> {
        SIMD8(p[Int(s[0])], p[Int(s[1])], p[Int(s[2])], p[Int(s[3])], p[Int(s[4])], p[Int(s[5])], p[Int(s[6])], p[Int(s[7])])
    }

    /// Whether any of eight windows' inputs is NaN (`maxOf2x2` then finds the first one).
    @inline(__always)
    static func holdNaN(_ candidates: (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>)) -> Bool {
        any((candidates.0 .!= candidates.0) .| (candidates.1 .!= candidates.1)
            .| (candidates.2 .!= candidates.2) .| (candidates.3 .!= candidates.3))
    }

    /// The maxima of eight windows from their inputs, none NaN (top left, top right, bottom left,
    /// bottom right, compared in that order, a later one winning only when greater) and the
    /// offset of each winner from its window's top left (0, 1, `width`, `width + 1`).
    @inline(__always)
    static func maxOf(_ candidates: (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>), width: Int)
        -> (SIMD8<Float>, SIMD8<Int32>) {
        var best = candidates.0, offset = SIMD8<Int32>(repeating: 0)
        var take = candidates.1 .> best
        best.replace(with: candidates.1, where: take)
        offset.replace(with: 1, where: take)
        take = candidates.2 .> best
        best.replace(with: candidates.2, where: take)
        offset.replace(with: Int32(width), where: take)
        take = candidates.3 .> best
        best.replace(with: candidates.3, where: take)
        offset.replace(with: Int32(width + 1), where: take)
        return (best, offset)
    }

    /// The maximum of the 2 × 2 window whose top left is `plane[first]`, and its offset: the
    /// first of the greatest values, or the first NaN.
    @inline(__always)
    static func maxOf2x2(_ plane: UnsafePointer<Float>, _ first: Int, width: Int) -> (Float, Int32) {
        var best = plane[first], bestAt = first
        if best.isNaN { return (best, Int32(first)) }
        for k in 1..<4 {
            let p = first + (k & 1) + (k >> 1) * width
            let v = plane[p]
            if v.isNaN { return (v, Int32(p)) }
            if v > best { (best, bestAt) = (v, p) }
        }
        return (best, Int32(bestAt))
    }
}
