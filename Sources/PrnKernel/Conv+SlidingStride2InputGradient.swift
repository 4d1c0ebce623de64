// The input gradient of a stride-2 layer (ResNet-20's downsampling 3×3 layers) on the sliding
// kernel, by parity classes instead of im2col's GEMM and col2im.
//
//     dx[c][h][w'] = Σ_{o,u,v : 2i − 1 + u = h, 2j − 1 + v = w'} w[o][c][u][v] · gy[o][i][j]
//
// On even H and W, input pixel (2i + a, 2j + b) is reached only by taps with u ≡ a + 1 and
// v ≡ b + 1 (mod 2): row u = 1 from gy row i when a = 0; rows u = 0 and u = 2 from gy rows i + 1
// and i when a = 1 (the same for columns). So each of the four classes (a, b) is a convolution of
// gy's OH × OW planes with 1, 2 or 4 taps, each gy[o][i + di][j + dj] for di, dj ∈ {0, 1}: in a
// copy of gy's plane shifted left by dj columns and framed by a zero row below, element
// p + di·OW of output pixel p = i·OW + j. Nine taps in all per (o, c), the layer's own work,
// against the 36 of one 3×3 kernel over a dilated gy. The classes' planes are then interleaved
// into dx.
//
// Each element of dx is the chain `acc = fma(w[o][c][u][v], gy, acc)` from 0 over o, then its
// class's taps in (u, v) order (zeros past gy's edge included): the same on every thread count,
// and on both register blocks.

extension SlidingPlan {
    /// Whether the parity classes compute this stride-2 layer's input gradient: even height and
    /// width, so that every class plane has gy's size.
    var classesCoverInput: Bool { stride == 2 && height % 2 == 0 && width % 2 == 0 }

    /// Floats of one of gy's two shifted copies: the plane, a zero row below, and room for the
    /// last pixel block's loads past its end.
    var classCopyCount: Int { cacheLineFloats((outHeight + 1) * outWidth + SlidingBlock.current.pixels) }

    /// `dx = conv2dInputGrad(gy, w)` of this stride-2 plan by parity classes. The threads split the
    /// batch; each output is computed once, by one chain.
    func stride2InputGradient(gy: UnsafePointer<Float>, weight: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>) {
        precondition(classesCoverInput, "the parity classes need stride 2 and an even height and width")
        let classes = ParityClass.all(outWidth: outWidth, copyCount: classCopyCount)
        let packed = classes.map { packedClassWeight(weight, $0) }
        let copiesPerSample = 2 * outChannels * classCopyCount, outputPerSample = inChannels * inputPlane
        Parallel.forEach(batch) { samples in
            let copies = slidingCopies(copiesPerSample)
            let planes = UnsafeMutablePointer<Float>.allocate(capacity: outputPerSample)
            defer {
                copies.deallocate()
                planes.deallocate()
            }
            for n in samples {
                fillClassCopies(gy + n * outChannels * plane, into: copies)
                for (k, parity) in classes.enumerated() {
                    packed[k].withUnsafeBufferPointer { w in
                        classSample(copies, parity, packed: w.baseAddress!, y: planes + k * inChannels * plane)
                    }
                }
                interleaveClasses(planes, into: dx + n * outputPerSample)
            }
        }
    }

    /// Each of gy's channels as two copies, `classCopyCount` floats each: copy dj's element
    /// i·OW + j is gy[i][j + dj], zero past the plane's right edge, in the row below and past it.
    func fillClassCopies(_ gy: UnsafePointer<Float>, into copies: UnsafeMutablePointer<Float>) {
        let plane = self.plane, ow = outWidth, count = classCopyCount
        for o in 0..<outChannels {
            let source = gy + o * plane, unshifted = copies + 2 * o * count, shifted = unshifted + count
            unshifted.update(from: source, count: plane)
            (unshifted + plane).update(repeating: 0, count: count - plane)
            shifted.update(from: source + 1, count: plane - 1)
            (shifted + plane - 1).update(repeating: 0, count: count - plane + 1)
            for i in 0..<outHeight { shifted[i * ow + ow - 1] = 0 }
        }
    }

    /// The weight of one class packed for the kernel (`SlidingPlan.packed`): per block of
    /// `channelBlock` of dx's channels, per gy channel o and class tap, w[o][c][u][v].
    func packedClassWeight(_ w: UnsafePointer<Float>, _ parity: ParityClass) -> [Float] {
        Self.packed(outputs: inChannels, depth: outChannels, taps: parity.kernelTaps.count, block: channelBlock) { c, o, t in
            w[(o * inChannels + c) * 9 + parity.kernelTaps[t]]
        }
    }

    /// One class's planes (dx's channels, each gy's size) from a sample's copies: pixel blocks
    /// outer, as `forwardSample` runs them.
    private func classSample(_ copies: UnsafePointer<Float>, _ parity: ParityClass, packed: UnsafePointer<Float>,
                             y: UnsafeMutablePointer<Float>) {
        let block = SlidingBlock.current, packedBlock = outChannels * parity.taps.count * block.channels
        block.sweep(plane: plane, outputs: inChannels, y: y) { p, cb, vectors, y, yStride in
            block.tapKernel(vectors: vectors, depth: outChannels, x: copies + p, channelStride: 2 * classCopyCount,
                            taps: parity.taps, w: packed + cb * packedBlock, y: y, yStride: yStride)
        }
    }

    /// dx[c][2i + a][2j + b] = class (a, b)'s plane c at i·OW + j, the classes in `ParityClass.all`'s order.
    private func interleaveClasses(_ planes: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>) {
        let ow = outWidth, classStride = inChannels * plane
        for c in 0..<inChannels {
            for i in 0..<outHeight {
                for a in 0..<2 {
                    let row = dx + c * inputPlane + (2 * i + a) * width
                    let even = planes + 2 * a * classStride + c * plane + i * ow, odd = even + classStride
                    var j = 0
                    while j + 8 <= ow {
                        let e = UnsafeRawPointer(even + j).loadUnaligned(as: SIMD8<Float>.self)
                        let o = UnsafeRawPointer(odd + j).loadUnaligned(as: SIMD8<Float>.self)
                        // Lane by lane, which the compiler turns into two shuffles.
                        let pairs = SIMD16<Float>(e[0], o[0], e[1], o[1], e[2], o[2], e[3], o[3],
                                                  e[4], o[4], e[5], o[5], e[6], o[6], e[7], o[7])
                        UnsafeMutableRawPointer(row + 2 * j).storeBytes(of: pairs, as: SIMD16<Float>.self)
                        j += 8
                    }
                    while j < ow {
                        row[2 * j] = even[j]
                        row[2 * j + 1] = odd[j]
                        j += 1
                    }
                }
            }
        }
    }
}

/// One parity class (a, b) of a stride-2 layer's input pixels: its taps of the 3×3 kernel, and
/// where each reads gy in a channel's two copies.
struct ParityClass {
    /// Tap u·3 + v of the kernel for each of the class's taps, in (u, v) order.
    let kernelTaps: [Int]
    /// Byte offsets of the taps from an output pixel's element in the channel's first copy.
    let taps: TapList

    /// The four classes (0, 0), (0, 1), (1, 0), (1, 1) for gy planes `outWidth` wide and copies of
    /// `copyCount` floats.
    static func all(outWidth: Int, copyCount: Int) -> [ParityClass] {
        // (kernel row or column, gy offset) per parity: even pixels through tap 1 at offset 0, odd
        // ones through tap 0 at offset 1 and tap 2 at offset 0.
        let lines = [[(1, 0)], [(0, 1), (2, 0)]]
        return [(0, 0), (0, 1), (1, 0), (1, 1)].map { a, b in
            var kernelTaps = [Int](), offsets = [Int]()
            for (u, di) in lines[a] {
                for (v, dj) in lines[b] {
                    kernelTaps.append(3 * u + v)
                    offsets.append(4 * (dj * copyCount + di * outWidth))
                }
            }
            return ParityClass(kernelTaps: kernelTaps, taps: TapList(offsets))
        }
    }
}

/// Up to four byte offsets, the taps of a parity class.
struct TapList {
    let count: Int
    private let offsets: (Int, Int, Int, Int)

    init(_ list: [Int]) {
        precondition((1...4).contains(list.count), "a parity class has 1, 2 or 4 taps")
        count = list.count
        let padded = list + [Int](repeating: 0, count: 4 - list.count)
        offsets = (padded[0], padded[1], padded[2], padded[3])
    }

    @inline(__always)
    subscript(t: Int) -> Int { t == 0 ? offsets.0 : t == 1 ? offsets.1 : t == 2 ? offsets.2 : offsets.3 }
}

extension SlidingBlock {
    @inline(__always)
    func tapKernel(vectors: Int, depth: Int, x: UnsafePointer<Float>, channelStride: Int, taps: TapList,
                   w: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, yStride: Int) {
        let f: SlidingTapKernel
        if lanes == 16 {
            f = vectors == 3 ? slidingTapsWide3 : vectors == 2 ? slidingTapsWide2 : slidingTapsWide1
        } else {
            f = vectors == 3 ? slidingTapsNarrow3 : vectors == 2 ? slidingTapsNarrow2 : slidingTapsNarrow1
        }
        f(depth, x, channelStride, taps, w, y, yStride)
    }
}

typealias SlidingTapKernel = (_ depth: Int, _ x: UnsafePointer<Float>, _ channelStride: Int, _ taps: TapList,
                              _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ yStride: Int) -> Void

/// `y[k][0..<Row.width] = Σ_{o,t} w[o][t][k] · x_o[p + taps[t]]`, the sliding kernel's block
/// (`slidingKernel`) over a list of taps: per tap one load of the row and `channels` broadcasts.
@inline(__always)
private func slidingTapKernel<Row: MicroRow>(
    _: Row.Type, channels: Int, depth: Int, x: UnsafePointer<Float>, channelStride: Int, taps: TapList,
    w: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, yStride: Int
) {
    let low = min(channels, 6), high = channels - low
    var a = MicroRows<Row>(), b = MicroRows<Row>()
    var x = UnsafeRawPointer(x), w = w
    for _ in 0..<depth {
        for t in 0..<taps.count {
            let pixels = Row.load(x + taps[t])
            a.accumulate(w, pixels, rows: low)
            if high > 0 { b.accumulate(w + 6, pixels, rows: high) }
            w += channels
        }
        x += 4 &* channelStride
    }
    let out = UnsafeMutableRawPointer(y), outRow = 4 &* yStride
    a.store(to: out, rowBytes: outRow, rows: low, factor: nil)
    if high > 0 { b.store(to: out + 6 &* outRow, rowBytes: outRow, rows: high, factor: nil) }
}

// One out-of-line copy per block shape, as for `slidingKernel`.
@inline(never) private func slidingTapsWide3(_ d: Int, _ x: UnsafePointer<Float>, _ cs: Int, _ t: TapList, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ ys: Int) {
    slidingTapKernel(MicroTriple<SIMD16<Float>>.self, channels: 8, depth: d, x: x, channelStride: cs, taps: t, w: w, y: y, yStride: ys)
}
@inline(never) private func slidingTapsWide2(_ d: Int, _ x: UnsafePointer<Float>, _ cs: Int, _ t: TapList, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ ys: Int) {
    slidingTapKernel(SIMD16Pair.self, channels: 8, depth: d, x: x, channelStride: cs, taps: t, w: w, y: y, yStride: ys)
}
@inline(never) private func slidingTapsWide1(_ d: Int, _ x: UnsafePointer<Float>, _ cs: Int, _ t: TapList, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ ys: Int) {
    slidingTapKernel(SIMD16<Float>.self, channels: 8, depth: d, x: x, channelStride: cs, taps: t, w: w, y: y, yStride: ys)
}
@inline(never) private func slidingTapsNarrow3(_ d: Int, _ x: UnsafePointer<Float>, _ cs: Int, _ t: TapList, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ ys: Int) {
    slidingTapKernel(MicroTriple<SIMD8<Float>>.self, channels: 4, depth: d, x: x, channelStride: cs, taps: t, w: w, y: y, yStride: ys)
}
@inline(never) private func slidingTapsNarrow2(_ d: Int, _ x: UnsafePointer<Float>, _ cs: Int, _ t: TapList, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ ys: Int) {
    slidingTapKernel(SIMD8Pair.self, channels: 4, depth: d, x: x, channelStride: cs, taps: t, w: w, y: y, yStride: ys)
}
@inline(never) private func slidingTapsNarrow1(_ d: Int, _ x: UnsafePointer<Float>, _ cs: Int, _ t: TapList, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ ys: Int) {
    slidingTapKernel(SIMD8<Float>.self, channels: 4, depth: d, x: x, channelStride: cs, taps: t, w: w, y: y, yStride: ys)
}
