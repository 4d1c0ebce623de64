// Direct 3×3 convolution (stride 1, padding 1) vectorized along the flattened output plane, for
// layers of few channels (ResNet-20's and VGG-11's at width 0.25), where Winograd's transforms and
// im2col's packing cost more than the multiply-adds they feed.
//
// A sample's output plane `y[o]` (H × W) is read as one row of H·W pixels. Output pixel
// p = i·W + j of tap (u, v) reads x[c][i + u − 1][j + v − 1]; in a copy of the plane shifted by
// v − 1 columns (zero where the shift brings in the other edge) and framed by a zero row above
// and below, that is the element p + u·W. So the 16 pixels p..<p+16 of one tap are one contiguous
// load from the copy for shift v, whatever the plane's width: no im2col buffer and no transform.
// A block of `vectors` × 16 (or 8) pixels and `channels` output channels keeps its accumulators in
// registers for the whole sum over (c, u, v), each tap one load per vector and one broadcast
// weight per channel.
//
// Each output element is the chain `acc = 0; acc = fma(w[o][c][u][v], x, acc)` over c, then u,
// then v: the same whichever block, vector width or thread computes it, so results are the same
// on every thread count and on AVX2 and AVX-512 builds. It is the im2col GEMM's chain whenever
// the 9·C taps fit one of its k-blocks (`GEMM.kcMax`, C ≤ 113), so the forward's bits are then
// `direct`'s; the gradients' chains are not im2col's and differ in the last places.
//
// Stride 2 (forward pass and weight gradient) runs the same kernel over copies split by row and
// column parity (`Conv+SlidingStride2.swift`), its input gradient a kernel of fewer taps per
// parity class of the input's pixels (`Conv+SlidingStride2InputGradient.swift`); planes of at
// most 2×2 are one dense map per sample instead, computed by GEMMs (`Conv+SlidingPlaneMap.swift`).

/// A direct 3×3, padding-1 convolution of stride 1 or 2 vectorized along the output plane: the
/// sizes, and the register block this build runs.
struct SlidingPlan {
    let batch: Int, inChannels: Int, outChannels: Int, height: Int, width: Int
    /// 1, or 2 (`Conv+SlidingStride2.swift`, `Conv+SlidingStride2InputGradient.swift`).
    let stride: Int

    init(_ geo: ConvGeometry) {
        self.init(batch: geo.image.batch, inChannels: geo.image.channels, outChannels: geo.outChannels,
                  height: geo.image.height, width: geo.image.width, stride: geo.image.window.strideH)
    }

    init(batch: Int, inChannels: Int, outChannels: Int, height: Int, width: Int, stride: Int = 1) {
        self.batch = batch
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.height = height
        self.width = width
        self.stride = stride
    }

    /// Whether the sliding kernel computes this product of this convolution: a 3×3 kernel and
    /// padding 1, stride 1, or stride 2 (the input gradient only on an even height and width,
    /// `Conv+SlidingStride2InputGradient.swift`).
    static func supports(_ geo: ConvGeometry, _ product: ConvProduct) -> Bool {
        let w = geo.image.window
        guard w.kernelH == 3 && w.kernelW == 3 && w.padH == 1 && w.padW == 1 && w.strideH == w.strideW else { return false }
        return w.strideH == 1 || (w.strideH == 2 && (product != .inputGradient || SlidingPlan(geo).classesCoverInput))
    }

    /// The plan of the input gradient: the convolution of gy with the adjoint weight.
    var adjoint: SlidingPlan {
        precondition(stride == 1, "the sliding kernel's input gradient needs stride 1")
        return SlidingPlan(batch: batch, inChannels: outChannels, outChannels: inChannels, height: height, width: width)
    }

    /// The output plane's sizes: the input's on stride 1, ⌈H / 2⌉ × ⌈W / 2⌉ on stride 2.
    var outHeight: Int { (height - 1) / stride + 1 }
    var outWidth: Int { (width - 1) / stride + 1 }
    /// Pixels of an output plane, which the kernel reads as one row.
    var plane: Int { outHeight * outWidth }
    var inputPlane: Int { height * width }

    /// Floats of one shifted copy of an input plane: on stride 1 the plane framed by a zero row
    /// above and below (on stride 2 a phase of it, `Conv+SlidingStride2.swift`), and room for the
    /// last pixel block's loads past the plane's end, rounded up to whole cache lines
    /// (`slidingCopies`).
    var shiftedCount: Int {
        cacheLineFloats((stride == 1 ? (height + 2) * width : (outHeight + 1) * outWidth) + SlidingBlock.current.pixels)
    }
    /// Shifted copies per input channel: one per column shift on stride 1, and per row phase too
    /// on stride 2.
    var copiesPerChannel: Int { stride == 1 ? 3 : 6 }
    /// Floats of one sample's shifted copies.
    var copiesPerSample: Int { copiesPerChannel * inChannels * shiftedCount }

    /// Where row u of an output pixel's taps starts in a channel's copies, relative to the pixel's
    /// element in copy 0 (floats): u·W on stride 1; on stride 2 the odd-row phase for u = 0 and
    /// u = 2 (one row further) and the even-row phase, three copies on, for u = 1.
    var tapRows: TapRows {
        stride == 1 ? TapRows(0, width, 2 * width) : TapRows(0, 3 * shiftedCount, outWidth)
    }

    /// Output channels per block of the packed weight (the block this build runs).
    var channelBlock: Int { SlidingBlock.current.channels }

    /// The weight `w[O, C, 3, 3]` packed for the kernel: per block of `channelBlock` output
    /// channels, per input channel and tap (u, v), the block's weights side by side (zeros past
    /// the last output channel). With `adjoint`, the weight of the input gradient,
    /// `w'[c][o][u][v] = w[o][c][2 − u][2 − v]` (channels swapped, kernel flipped).
    func packedWeight(_ w: UnsafePointer<Float>, adjoint: Bool = false) -> [Float] {
        // In the plan's own terms (for the adjoint, the plan's inChannels are w's O).
        let weightIn = adjoint ? outChannels : inChannels
        return Self.packed(outputs: outChannels, depth: inChannels, taps: 9, block: channelBlock) { o, c, t in
            adjoint ? w[(c * weightIn + o) * 9 + (8 - t)] : w[(o * weightIn + c) * 9 + t]
        }
    }

    /// A kernel's weights: per block of `block` output channels (of `outputs`), per input channel
    /// (of `depth`) and tap `t`, `weight(o, c, t)` of the block's channels side by side (zeros past
    /// the last output channel).
    static func packed(outputs: Int, depth: Int, taps: Int, block: Int,
                       _ weight: (_ o: Int, _ c: Int, _ t: Int) -> Float) -> [Float] {
        let blocks = (outputs + block - 1) / block
        return [Float](unsafeUninitializedCapacity: blocks * block * depth * taps) { packed, initialized in
            for ob in 0..<blocks {
                for c in 0..<depth {
                    for t in 0..<taps {
                        let base = ((ob * depth + c) * taps + t) * block
                        for k in 0..<block {
                            let o = ob * block + k
                            packed[base + k] = o < outputs ? weight(o, c, t) : 0
                        }
                    }
                }
            }
            initialized = packed.count
        }
    }

    /// y = conv(x, w) given `packed = packedWeight(w)` (or the input gradient through the adjoint
    /// plan and weight). The threads split the batch; each output is computed once, by one chain.
    func forward(x: UnsafePointer<Float>, packed: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        Parallel.forEach(batch) { samples in
            let copies = slidingCopies(copiesPerSample)
            defer { copies.deallocate() }
            for n in samples {
                fillShifted(x + n * inChannels * inputPlane, into: copies)
                forwardSample(copies, packed: packed, y: y + n * outChannels * plane)
            }
        }
    }

    /// Writes each channel's three shifted copies (shift v − 1 for v = 0, 1, 2), one after the
    /// other, `shiftedCount` floats each: copy v's element (r + 1)·W + j is x[r][j + v − 1], zero
    /// outside the plane, in the frame rows and past the end. On stride 2, the six phase copies.
    /// Channel c's copies start at `copies + c·channelStride` (floats; by default right after
    /// channel c − 1's).
    func fillShifted(_ x: UnsafePointer<Float>, into copies: UnsafeMutablePointer<Float>, channelStride: Int? = nil) {
        let channelStride = channelStride ?? copiesPerChannel * shiftedCount
        guard stride == 1 else { return fillPhases(x, into: copies, channelStride: channelStride) }
        let plane = self.plane, w = width, shifted = shiftedCount
        for c in 0..<inChannels {
            let source = x + c * plane
            for v in 0..<3 {
                let copy = copies + c * channelStride + v * shifted
                copy.update(repeating: 0, count: w + 1)
                // Shift by v − 1: the plane read as one row, moved by one element, then the column
                // that came from the neighbouring row zeroed.
                (copy + w + 1 - v).update(from: source, count: plane)
                (copy + w + plane + 1 - v).update(repeating: 0, count: shifted - w - plane - 1 + v)
                // Column 0 of copy 0 (rows 1 to H + 1) and column W − 1 of copy 2 (rows 0 to H) are
                // outside the plane.
                if v == 0 {
                    for r in 1...height + 1 { copy[r * w] = 0 }
                } else if v == 2 {
                    for r in 0...height { copy[r * w + w - 1] = 0 }
                }
            }
        }
    }

    /// One sample's output planes from its shifted copies (channel c's at `copies +
    /// c·channelStride`, by default right after channel c − 1's): pixel blocks outer, so a block's
    /// input stays in L1 across the output channel blocks.
    func forwardSample(_ copies: UnsafePointer<Float>, channelStride: Int? = nil, packed: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        let block = SlidingBlock.current, packedBlock = inChannels * 9 * block.channels
        let channelStride = channelStride ?? copiesPerChannel * shiftedCount
        block.sweep(plane: plane, outputs: outChannels, y: y) { p, ob, vectors, y, yStride in
            block.kernel(vectors: vectors, depth: inChannels, x: copies + p, channelStride: channelStride,
                         shiftStride: shiftedCount, rows: tapRows, w: packed + ob * packedBlock, y: y, yStride: yStride)
        }
    }
}

/// `count` floats for shifted copies, starting on a cache line (64 bytes). With every copy a whole
/// number of lines long (`cacheLineFloats`), a 16-float load at a multiple of 16 pixels from a
/// copy's start stays within one line: from a 16-byte aligned block, as `allocate(capacity:)`
/// gives, every such load straddled two lines, which costs a second load-port pass (the weight
/// gradient's 11 loads per 18 FMAs were then load-bound).
func slidingCopies(_ count: Int) -> UnsafeMutablePointer<Float> {
    UnsafeMutableRawPointer.allocate(byteCount: 4 * Swift.max(1, count), alignment: 64).bindMemory(to: Float.self, capacity: count)
}

/// `count` rounded up to a whole number of cache lines of floats (16).
func cacheLineFloats(_ count: Int) -> Int { (count + 15) & ~15 }

/// The register block of the sliding kernel: `channels` output channels × `vectors` pixel
/// vectors of `lanes` floats. With 32 vector registers (AVX-512, `GEMM.wideTiles`) 8 × 3 of 16
/// lanes: 24 accumulators, per tap 3 loads and 8 broadcasts for 24 FMAs. With 16 ymm registers
/// (x86-64-v3), 4 × 3 of 8 lanes: 12 accumulators. The block only decides which chains share a
/// loop, never a chain's order, so both give the same bits.
struct SlidingBlock {
    let channels: Int, vectors: Int, lanes: Int

    var pixels: Int { vectors * lanes }

    static let wide = SlidingBlock(channels: 8, vectors: 3, lanes: 16)
    static let narrow = SlidingBlock(channels: 4, vectors: 3, lanes: 8)
    static var current: SlidingBlock { GEMM.wideTiles ? wide : narrow }

    /// Computes `outputs` planes of `plane` pixels into y, block by block, pixel blocks outer (so
    /// a block's input stays in L1 across the channel blocks): `kernel(p, ob, vectors, y, yStride)`,
    /// a kernel of this block, computes channel block `ob` at pixels `p…` (through `run`).
    @inline(__always)
    func sweep(plane: Int, outputs: Int, y: UnsafeMutablePointer<Float>,
               _ kernel: (_ p: Int, _ ob: Int, _ vectors: Int, _ y: UnsafeMutablePointer<Float>, _ yStride: Int) -> Void) {
        var p = 0
        while p < plane {
            let pixels = Swift.min(self.pixels, plane - p)
            for ob in 0..<(outputs + channels - 1) / channels {
                let live = Swift.min(channels, outputs - ob * channels)
                run(pixels: pixels, live: live, y: y + ob * channels * plane + p, plane: plane) { kernel(p, ob, $0, $1, $2) }
            }
            p += pixels
        }
    }

    /// Computes `live` ≤ `channels` output planes at `pixels` ≤ `self.pixels` pixels by
    /// `kernel(vectors, y, yStride)` (a kernel of this block over that many pixel vectors): whole
    /// vectors of all the block's channels straight into y, else (the plane's end, the last
    /// channels) through a tile on the stack.
    @inline(__always)
    private func run(pixels: Int, live: Int, y: UnsafeMutablePointer<Float>, plane: Int,
             _ kernel: (_ vectors: Int, _ y: UnsafeMutablePointer<Float>, _ yStride: Int) -> Void) {
        let used = (pixels + lanes - 1) / lanes
        if pixels == used * lanes && live == channels {
            kernel(used, y, plane)
            return
        }
        withUnsafeTemporaryAllocation(of: Float.self, capacity: channels * self.pixels) { tile in
            let tile = tile.baseAddress!
            kernel(used, tile, self.pixels)
            for k in 0..<live { (y + k * plane).update(from: tile + k * self.pixels, count: pixels) }
        }
    }

    @inline(__always)
    func kernel(vectors: Int, depth: Int, x: UnsafePointer<Float>, channelStride: Int, shiftStride: Int,
                        rows: TapRows, w: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, yStride: Int) {
        let f: SlidingKernel
        if lanes == 16 {
            f = vectors == 3 ? slidingWide3 : vectors == 2 ? slidingWide2 : slidingWide1
        } else {
            f = vectors == 3 ? slidingNarrow3 : vectors == 2 ? slidingNarrow2 : slidingNarrow1
        }
        f(depth, x, channelStride, shiftStride, rows, w, y, yStride)
    }
}

typealias SlidingKernel = (_ depth: Int, _ x: UnsafePointer<Float>, _ channelStride: Int, _ shiftStride: Int,
                           _ rows: TapRows, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                           _ yStride: Int) -> Void

/// The offsets (floats) of an output pixel's three tap rows u = 0, 1, 2 from its element in a
/// channel's first copy (`SlidingPlan.tapRows`).
struct TapRows {
    let first: Int, second: Int, third: Int

    init(_ first: Int, _ second: Int, _ third: Int) { (self.first, self.second, self.third) = (first, second, third) }

    subscript(u: Int) -> Int { u == 0 ? first : u == 1 ? second : third }
}

/// Three registers side by side: a block's row of 3 pixel vectors, so that each broadcast weight
/// is used by its three FMAs at once and dies (24 accumulators, 3 loaded vectors and one broadcast
/// fit AVX-512's 32 registers; keeping all 8 broadcasts for the vectors one after the other, as
/// the compiler did when the kernel walked the vectors outer, spilled accumulators to the stack).
struct MicroTriple<Part: MicroRow>: MicroRow {
    var first = Part(), second = Part(), third = Part()

    static var width: Int { 3 * Part.width }

    @inline(__always) init() {}

    @inline(__always)
    static func load(_ p: UnsafeRawPointer) -> Self {
        var row = Self()
        (row.first, row.second, row.third) = (Part.load(p), Part.load(p + 4 * Part.width), Part.load(p + 8 * Part.width))
        return row
    }

    @inline(__always)
    mutating func accumulate(_ a: Float, _ b: Self) {
        first.accumulate(a, b.first)
        second.accumulate(a, b.second)
        third.accumulate(a, b.third)
    }

    @inline(__always)
    func store(to c: UnsafeMutableRawPointer) {
        first.store(to: c)
        second.store(to: c + 4 * Part.width)
        third.store(to: c + 8 * Part.width)
    }

    @inline(__always)
    func store(to c: UnsafeMutableRawPointer, addingScaled factor: Float) {
        first.store(to: c, addingScaled: factor)
        second.store(to: c + 4 * Part.width, addingScaled: factor)
        third.store(to: c + 8 * Part.width, addingScaled: factor)
    }
}

/// `y[k][0..<Row.width] = Σ_{c,u,v} w[c][u][v][k] · copy_v[c][p + rows[u]]` for the block's
/// `channels` (a literal, so that unused accumulators fold away), a row of pixel vectors per
/// channel: per tap, one load of the row and `channels` broadcasts.
@inline(__always)
private func slidingKernel<Row: MicroRow>(
    _: Row.Type, channels: Int, depth: Int, x: UnsafePointer<Float>, channelStride: Int, shiftStride: Int,
    rows: TapRows, w: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, yStride: Int
) {
    let low = min(channels, 6), high = channels - low
    var a = MicroRows<Row>(), b = MicroRows<Row>()
    var x = UnsafeRawPointer(x), w = w
    let shiftBytes = 4 &* shiftStride
    let row0 = 4 &* rows.first, row1 = 4 &* rows.second, row2 = 4 &* rows.third
    @inline(__always) func tap(_ p: UnsafeRawPointer) {
        let pixels = Row.load(p)
        a.accumulate(w, pixels, rows: low)
        if high > 0 { b.accumulate(w + 6, pixels, rows: high) }
        w += channels
    }
    @inline(__always) func taps(_ row: UnsafeRawPointer) {
        tap(row)
        tap(row + shiftBytes)
        tap(row + 2 &* shiftBytes)
    }
    for _ in 0..<depth {
        taps(x + row0)
        taps(x + row1)
        taps(x + row2)
        x += 4 &* channelStride
    }
    let out = UnsafeMutableRawPointer(y), outRow = 4 &* yStride
    a.store(to: out, rowBytes: outRow, rows: low, factor: nil)
    if high > 0 { b.store(to: out + 6 &* outRow, rowBytes: outRow, rows: high, factor: nil) }
}

// One out-of-line copy per block shape, so each gets its own register allocation.
@inline(never) private func slidingWide3(_ d: Int, _ x: UnsafePointer<Float>, _ cs: Int, _ ss: Int, _ rs: TapRows, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ ys: Int) {
    slidingKernel(MicroTriple<SIMD16<Float>>.self, channels: 8, depth: d, x: x, channelStride: cs, shiftStride: ss, rows: rs, w: w, y: y, yStride: ys)
}
@inline(never) private func slidingWide2(_ d: Int, _ x: UnsafePointer<Float>, _ cs: Int, _ ss: Int, _ rs: TapRows, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ ys: Int) {
    slidingKernel(SIMD16Pair.self, channels: 8, depth: d, x: x, channelStride: cs, shiftStride: ss, rows: rs, w: w, y: y, yStride: ys)
}
@inline(never) private func slidingWide1(_ d: Int, _ x: UnsafePointer<Float>, _ cs: Int, _ ss: Int, _ rs: TapRows, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ ys: Int) {
    slidingKernel(SIMD16<Float>.self, channels: 8, depth: d, x: x, channelStride: cs, shiftStride: ss, rows: rs, w: w, y: y, yStride: ys)
}
@inline(never) private func slidingNarrow3(_ d: Int, _ x: UnsafePointer<Float>, _ cs: Int, _ ss: Int, _ rs: TapRows, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ ys: Int) {
    slidingKernel(MicroTriple<SIMD8<Float>>.self, channels: 4, depth: d, x: x, channelStride: cs, shiftStride: ss, rows: rs, w: w, y: y, yStride: ys)
}
@inline(never) private func slidingNarrow2(_ d: Int, _ x: UnsafePointer<Float>, _ cs: Int, _ ss: Int, _ rs: TapRows, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ ys: Int) {
    slidingKernel(SIMD8Pair.self, channels: 4, depth: d, x: x, channelStride: cs, shiftStride: ss, rows: rs, w: w, y: y, yStride: ys)
}
@inline(never) private func slidingNarrow1(_ d: Int, _ x: UnsafePointer<Float>, _ cs: Int, _ ss: Int, _ rs: TapRows, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ ys: Int) {
    slidingKernel(SIMD8<Float>.self, channels: 4, depth: d, x: x, channelStride: cs, shiftStride: ss, rows: rs, w: w, y: y, yStride: ys)
}

extension SlidingPlan {
    /// `y = conv2d(x, w)`.
    static func conv2d(_ x: Tensor, _ weight: Tensor, _ geo: ConvGeometry) -> Tensor {
        let plan = SlidingPlan(geo)
        if plan.usesPlaneMap {
            let map = weight.scalars.withUnsafeBufferPointer { plan.planeMap($0.baseAddress!) }
            return Tensor.build(geo.outputShape) { y in
                x.scalars.withUnsafeBufferPointer { x in
                    map.withUnsafeBufferPointer { m in plan.planeMapForward(x: x.baseAddress!, map: m.baseAddress!, y: y.baseAddress!) }
                }
            }
        }
        let packed = weight.scalars.withUnsafeBufferPointer { plan.packedWeight($0.baseAddress!) }
        return Tensor.build(geo.outputShape) { y in
            x.scalars.withUnsafeBufferPointer { x in
                packed.withUnsafeBufferPointer { p in plan.forward(x: x.baseAddress!, packed: p.baseAddress!, y: y.baseAddress!) }
            }
        }
    }

    /// `dx = conv2dInputGrad(gy, w)`: the convolution of gy with the weight flipped and its
    /// channels swapped.
    static func inputGrad(_ gy: Tensor, _ weight: Tensor, _ geo: ConvGeometry) -> Tensor {
        let layer = SlidingPlan(geo)
        if layer.stride == 2 {
            return Tensor.build(geo.image.inputShape) { dx in
                gy.scalars.withUnsafeBufferPointer { g in
                    weight.scalars.withUnsafeBufferPointer { w in
                        layer.stride2InputGradient(gy: g.baseAddress!, weight: w.baseAddress!, dx: dx.baseAddress!)
                    }
                }
            }
        }
        if layer.usesPlaneMap {
            let map = weight.scalars.withUnsafeBufferPointer { layer.planeMap($0.baseAddress!) }
            return Tensor.build(geo.image.inputShape) { dx in
                gy.scalars.withUnsafeBufferPointer { g in
                    map.withUnsafeBufferPointer { m in layer.planeMapInputGradient(gy: g.baseAddress!, map: m.baseAddress!, dx: dx.baseAddress!) }
                }
            }
        }
        let plan = layer.adjoint
        let packed = weight.scalars.withUnsafeBufferPointer { plan.packedWeight($0.baseAddress!, adjoint: true) }
        return Tensor.build(geo.image.inputShape) { dx in
            gy.scalars.withUnsafeBufferPointer { g in
                packed.withUnsafeBufferPointer { p in plan.forward(x: g.baseAddress!, packed: p.baseAddress!, y: dx.baseAddress!) }
            }
        }
    }
}

extension SlidingPlan {
    /// `dw = conv2dWeightGrad(x, gy)` (`Conv+SlidingWeightGradient.swift`, or on planes of at
    /// most 2×2 `Conv+SlidingPlaneMap.swift`).
    static func weightGrad(_ x: Tensor, _ gy: Tensor, _ geo: ConvGeometry, weightShape: [Int]) -> Tensor {
        Tensor.build(weightShape) { dw in
            x.scalars.withUnsafeBufferPointer { x in
                gy.scalars.withUnsafeBufferPointer { g in
                    let plan = SlidingPlan(geo)
                    if plan.usesPlaneMap {
                        plan.planeMapWeightGradient(x: x.baseAddress!, gy: g.baseAddress!, dw: dw.baseAddress!)
                    } else {
                        plan.weightGradient(x: x.baseAddress!, gy: g.baseAddress!, dw: dw.baseAddress!)
                    }
                }
            }
        }
    }
}
