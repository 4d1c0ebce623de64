import XCTest
@testable import PrnKernel

/// Convolution and pooling kernels against direct loops in Double, plus thread-count
/// bit-identity and shape validation.
final class ConvTests: XCTestCase {
    /// (batch, channels, height, width, out channels, kernel h, kernel w, stride, padding)
    typealias Case = (n: Int, c: Int, h: Int, w: Int, o: Int, kh: Int, kw: Int, s: Int, p: Int)

    static let cases: [Case] = [
        (1, 1, 5, 5, 1, 3, 3, 1, 0),      // the smallest: one channel, one sample
        (2, 3, 7, 6, 4, 3, 3, 1, 1),      // non-square input, "same" padding
        (3, 2, 8, 5, 3, 3, 3, 2, 1),      // stride 2
        (2, 2, 6, 6, 3, 3, 3, 2, 0),      // stride 2 leaving the last input row unread
        (2, 3, 9, 7, 2, 5, 5, 2, 2),      // padding 2
        (2, 2, 5, 5, 3, 3, 2, 2, 0),      // non-square kernel
        (2, 4, 6, 9, 5, 1, 1, 1, 0),      // 1×1 conv
        (2, 3, 6, 7, 2, 5, 5, 1, 2),      // "same" 5×5: two padding columns on each side
        (2, 2, 2, 2, 3, 5, 5, 1, 2),      // "same" padding wider than the input: taps reading only zeros
        (2, 2, 3, 3, 2, 5, 5, 1, 1),      // kernel exactly as large as the padded input
        (4, 3, 4, 4, 2, 3, 3, 1, 1),      // small planes: several samples per GEMM group
        (70, 2, 4, 4, 3, 3, 3, 1, 1),     // several groups of several samples, the last one short
    ]

    // MARK: References

    /// The convolution written out directly: 7 loops, Double accumulation.
    static func naiveConv(_ x: Tensor, _ w: Tensor, stride s: Int, padding p: Int) -> Tensor {
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (o, kh, kw) = (w.shape[0], w.shape[2], w.shape[3])
        let oh = (h + 2 * p - kh) / s + 1, ow = (wd + 2 * p - kw) / s + 1
        var y = [Float](repeating: 0, count: n * o * oh * ow)
        for b in 0..<n { for f in 0..<o { for i in 0..<oh { for j in 0..<ow {
            var acc = 0.0
            for ch in 0..<c { for u in 0..<kh { for v in 0..<kw {
                let r = i * s - p + u, q = j * s - p + v
                guard r >= 0, r < h, q >= 0, q < wd else { continue }
                acc += Double(x.scalars[((b * c + ch) * h + r) * wd + q]) * Double(w.scalars[((f * c + ch) * kh + u) * kw + v])
            } } }
            y[((b * o + f) * oh + i) * ow + j] = Float(acc)
        } } } }
        return Tensor(shape: [n, o, oh, ow], scalars: y)
    }

    /// Both adjoints by the same direct loops: every (output, tap) pair adds its product to the
    /// input and weight positions it came from.
    static func naiveAdjoints(_ x: Tensor, _ w: Tensor, _ gy: Tensor, stride s: Int, padding p: Int) -> (dx: Tensor, dw: Tensor) {
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (o, kh, kw) = (w.shape[0], w.shape[2], w.shape[3])
        let (oh, ow) = (gy.shape[2], gy.shape[3])
        var dx = [Double](repeating: 0, count: x.count), dw = [Double](repeating: 0, count: w.count)
        for b in 0..<n { for f in 0..<o { for i in 0..<oh { for j in 0..<ow {
            let g = Double(gy.scalars[((b * o + f) * oh + i) * ow + j])
            for ch in 0..<c { for u in 0..<kh { for v in 0..<kw {
                let r = i * s - p + u, q = j * s - p + v
                guard r >= 0, r < h, q >= 0, q < wd else { continue }
                let xi = ((b * c + ch) * h + r) * wd + q, wi = ((f * c + ch) * kh + u) * kw + v
                dx[xi] += g * Double(w.scalars[wi])
                dw[wi] += g * Double(x.scalars[xi])
            } } }
        } } } }
        return (Tensor(shape: x.shape, scalars: dx.map(Float.init)), Tensor(shape: w.shape, scalars: dw.map(Float.init)))
    }

    /// Max and average pooling by direct loops: the max's flat input index (first on ties) and
    /// the window sum over real inputs divided by k².
    static func naivePool(_ x: Tensor, kernel k: Int, stride s: Int, padding p: Int) -> (max: Tensor, at: [Int], avg: Tensor) {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let oh = (h + 2 * p - k) / s + 1, ow = (w + 2 * p - k) / s + 1
        var mx = [Float](), at = [Int](), avg = [Float]()
        for plane in 0..<(n * c) { for i in 0..<oh { for j in 0..<ow {
            var best = -Float.infinity, bestAt = -1, sum = 0.0
            for u in 0..<k { for v in 0..<k {
                let r = i * s - p + u, q = j * s - p + v
                guard r >= 0, r < h, q >= 0, q < w else { continue }
                let index = (plane * h + r) * w + q
                if bestAt < 0 || x.scalars[index] > best { best = x.scalars[index]; bestAt = index }
                sum += Double(x.scalars[index])
            } }
            mx.append(best); at.append(bestAt); avg.append(Float(sum / Double(k * k)))
        } } }
        let shape = [n, c, oh, ow]
        return (Tensor(shape: shape, scalars: mx), at, Tensor(shape: shape, scalars: avg))
    }

    static func assertClose(_ a: Tensor, _ b: Tensor, tol: Float = 1e-4, _ message: String,
                            file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.shape, b.shape, message, file: file, line: line)
        guard a.shape == b.shape else { return }
        for i in 0..<a.count where !(Swift.abs(a.scalars[i] - b.scalars[i]) <= tol * (1 + Swift.abs(b.scalars[i]))) {
            XCTFail("\(message): element \(i): \(a.scalars[i]) vs \(b.scalars[i])", file: file, line: line)
            return
        }
    }

    /// Asserts that `run` gives the same tensors, bit for bit, on 1 and on 2 threads (restoring
    /// `Parallel.threads`).
    static func assertSameBitsOnOneAndTwoThreads(_ label: String, file: StaticString = #filePath, line: UInt = #line,
                                                 _ run: () -> [Tensor]) {
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        Parallel.threads = 1
        let one = run()
        Parallel.threads = 2
        let two = run()
        XCTAssertEqual(one.count, two.count, label, file: file, line: line)
        for (i, (a, b)) in zip(one, two).enumerated() {
            XCTAssertEqual(a.scalars.map(\.bitPattern), b.scalars.map(\.bitPattern), "result \(i) of \(label)",
                           file: file, line: line)
        }
    }

    static func operands(_ t: Case, seed: UInt64) -> (x: Tensor, w: Tensor, gy: Tensor) {
        let x = Tensor.randn([t.n, t.c, t.h, t.w], seed: seed)
        let w = Tensor.randn([t.o, t.c, t.kh, t.kw], seed: seed + 1)
        let outShape = try! Shape.conv2d(input: x.shape, weight: w.shape, stride: t.s, padding: t.p)
        return (x, w, Tensor.randn(outShape, seed: seed + 2))
    }

    // MARK: Convolution

    func testConvForwardMatchesDirectLoops() {
        for (k, t) in Self.cases.enumerated() {
            let (x, w, _) = Self.operands(t, seed: UInt64(10 * k))
            Self.assertClose(x.conv2d(w, stride: t.s, padding: t.p),
                             Self.naiveConv(x, w, stride: t.s, padding: t.p), "forward \(t)")
        }
    }

    func testConvAdjointsMatchDirectLoops() {
        for (k, t) in Self.cases.enumerated() {
            let (x, w, gy) = Self.operands(t, seed: UInt64(10 * k))
            let reference = Self.naiveAdjoints(x, w, gy, stride: t.s, padding: t.p)
            Self.assertClose(Tensor.conv2dInputGrad(gy, w, inputShape: x.shape, stride: t.s, padding: t.p),
                             reference.dx, "input grad \(t)")
            Self.assertClose(Tensor.conv2dWeightGrad(x, gy, weightShape: w.shape, stride: t.s, padding: t.p),
                             reference.dw, "weight grad \(t)")
        }
    }

    /// ⟨conv(x, w), gy⟩ = ⟨x, conv2dInputGrad(gy, w)⟩ = ⟨w, conv2dWeightGrad(x, gy)⟩.
    func testConvAdjointIdentity() {
        func dot(_ a: Tensor, _ b: Tensor) -> Double {
            zip(a.scalars, b.scalars).reduce(0) { $0 + Double($1.0) * Double($1.1) }
        }
        for (k, t) in Self.cases.enumerated() {
            let (x, w, gy) = Self.operands(t, seed: UInt64(10 * k + 5))
            let forward = dot(x.conv2d(w, stride: t.s, padding: t.p), gy)
            let viaInput = dot(x, Tensor.conv2dInputGrad(gy, w, inputShape: x.shape, stride: t.s, padding: t.p))
            let viaWeight = dot(w, Tensor.conv2dWeightGrad(x, gy, weightShape: w.shape, stride: t.s, padding: t.p))
            let scale = 1 + Swift.abs(forward)
            XCTAssertEqual(viaInput / scale, forward / scale, accuracy: 1e-4, "\(t)")
            XCTAssertEqual(viaWeight / scale, forward / scale, accuracy: 1e-4, "\(t)")
        }
    }

    func testConvEmptyBatch() {
        let x = Tensor.zeros([0, 2, 5, 5]), w = Tensor.randn([3, 2, 3, 3], seed: 1)
        XCTAssertEqual(x.conv2d(w, padding: 1).shape, [0, 3, 5, 5])
        XCTAssertEqual(Tensor.conv2dWeightGrad(x, Tensor.zeros([0, 3, 5, 5]), weightShape: w.shape, padding: 1), .zeros(w.shape))
    }

    /// col2im (the input gradient's scatter of the column matrix) bit for bit against adding the
    /// column entries tap by tap onto zeros: same-size windows (whole shifted rows added at
    /// once, wrapped entries zeroed), a non-square kernel, planes narrower than eight, a strided
    /// window (the general path), planes of at most 16 pixels (gathered), and a row stride `ld`
    /// past the row. Integer entries and −0s make sums
    /// that cancel to zero, so the sign of zero is checked too.
    func testCol2imMatchesTapByTapSums() throws {
        let cases: [(c: Int, h: Int, w: Int, kh: Int, kw: Int, s: Int, p: Int)] = [
            (3, 9, 21, 3, 3, 1, 1), (2, 5, 17, 5, 5, 1, 2), (2, 4, 6, 1, 3, 1, 1), (1, 3, 1, 3, 3, 1, 1),
            (2, 6, 8, 1, 1, 1, 0), (2, 7, 9, 3, 3, 2, 1),
            // Output planes of at most 16 pixels (gathered through a table): 4 × 4, 2 × 2, strided 3 × 3.
            (3, 4, 4, 3, 3, 1, 1), (2, 2, 2, 3, 3, 1, 1), (2, 5, 5, 3, 3, 2, 1),
        ]
        var zeros = 0
        for (k, t) in cases.enumerated() {
            let geo = try WindowGeometry(input: [1, t.c, t.h, t.w],
                                         window: Window2D(kernelH: t.kh, kernelW: t.kw, stride: t.s, padding: t.p), op: "test")
            let taps = t.c * t.kh * t.kw, pixels = geo.outputPlane, ld = pixels + 3
            var col = Tensor.randn([taps, ld], seed: UInt64(300 + k)).map { ($0 * 1.5).rounded() }
            for i in stride(from: 1, to: col.count, by: 5) { col.scalars[i] = -0.0 }
            var expected = [Float](repeating: 0, count: t.c * t.h * t.w)
            for c in 0..<t.c { for u in 0..<t.kh { for v in 0..<t.kw {
                let r = (c * t.kh + u) * t.kw + v
                for i in 0..<geo.outHeight { for j in 0..<geo.outWidth {
                    let (y, x) = (i * t.s - t.p + u, j * t.s - t.p + v)
                    guard y >= 0 && y < t.h && x >= 0 && x < t.w else { continue }
                    expected[(c * t.h + y) * t.w + x] += col.scalars[r * ld + i * geo.outWidth + j]
                } }
            } } }
            var dx = [Float](repeating: .nan, count: expected.count)
            col.scalars.withUnsafeMutableBufferPointer { colBuffer in
                dx.withUnsafeMutableBufferPointer { geo.col2im(colBuffer.baseAddress!, ld: ld, into: $0.baseAddress!) }
            }
            XCTAssertEqual(dx.map(\.bitPattern), expected.map(\.bitPattern), "\(t)")
            zeros += expected.filter { $0 == 0 }.count
        }
        XCTAssertGreaterThan(zeros, 10, "some sums should cancel to zero")
    }

    // MARK: Pooling

    static let poolCases: [(n: Int, c: Int, h: Int, w: Int, k: Int, s: Int, p: Int)] = [
        (2, 3, 6, 6, 2, 2, 0),    // the usual 2×2 / 2
        (1, 2, 7, 5, 3, 2, 1),    // overlapping windows, padding, non-square input
        (2, 1, 5, 8, 3, 1, 1),    // stride 1
        (3, 2, 7, 7, 2, 2, 0),    // last row and column unread
        (1, 1, 4, 4, 4, 4, 2),    // padding = kernel / 2
    ]

    func testPoolingMatchesDirectLoops() {
        for (k, t) in Self.poolCases.enumerated() {
            // Integers make ties, so the tie rule (first in window order) is checked too.
            let x = Tensor.randn([t.n, t.c, t.h, t.w], seed: UInt64(k)).map { ($0 * 2).rounded() }
            let reference = Self.naivePool(x, kernel: t.k, stride: t.s, padding: t.p)
            let (values, argmax) = x.maxPool2d(kernel: t.k, stride: t.s, padding: t.p)
            XCTAssertEqual(values, reference.max, "max \(t)")
            let plane = t.h * t.w, outPlane = values.shape[2] * values.shape[3]
            let flat = argmax.offsets.enumerated().map { e, offset in (e / outPlane) * plane + Int(offset) }
            XCTAssertEqual(flat, reference.at, "argmax \(t)")
            XCTAssertEqual(x.gathered(at: argmax), values, "gather \(t)")
            Self.assertClose(x.avgPool2d(kernel: t.k, stride: t.s, padding: t.p), reference.avg, tol: 1e-6, "avg \(t)")
        }
    }

    func testPoolingAdjointsMatchDirectLoops() {
        for (k, t) in Self.poolCases.enumerated() {
            let x = Tensor.randn([t.n, t.c, t.h, t.w], seed: UInt64(k))
            let reference = Self.naivePool(x, kernel: t.k, stride: t.s, padding: t.p)
            let g = Tensor.randn(reference.max.shape, seed: UInt64(100 + k))
            let (_, argmax) = x.maxPool2d(kernel: t.k, stride: t.s, padding: t.p)

            var scatter = [Double](repeating: 0, count: x.count)
            for (e, index) in reference.at.enumerated() { scatter[index] += Double(g.scalars[e]) }
            Self.assertClose(g.scatterAdded(at: argmax), Tensor(shape: x.shape, scalars: scatter.map(Float.init)),
                             tol: 1e-6, "scatter \(t)")

            // avgPool2dAdjoint is the transpose: ⟨avg(e_i), g⟩ = ⟨e_i, avgᵀ g⟩ for each basis e_i.
            let adjoint = g.avgPool2dAdjoint(inputShape: x.shape, kernel: t.k, stride: t.s, padding: t.p)
            for i in 0..<x.count {
                var basis = Tensor.zeros(x.shape)
                basis.scalars[i] = 1
                let column = basis.avgPool2d(kernel: t.k, stride: t.s, padding: t.p)
                let expected = zip(column.scalars, g.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
                XCTAssertEqual(Double(adjoint.scalars[i]), expected, accuracy: 1e-5, "avg adjoint \(t) at \(i)")
            }
        }
    }

    /// 2 × 2 windows with stride 2 run eight at a time (a last partial block overlapping the one
    /// before; on planes 2, 4 or 8 wide, groups across rows and planes, a thread's first and last
    /// windows outside whole groups one at a time): values and argmax bit for bit against direct
    /// loops, with ties, −0 against +0, −∞ and NaNs (the first NaN of a window wins), even and
    /// odd widths, on 1, 2 and 3 threads.
    func testMaxPool2x2MatchesDirectLoopsWithTiesZerosInfinitiesAndNaN() {
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        for (k, shape) in [[2, 3, 28, 28], [1, 2, 6, 33], [1, 1, 4, 40], [2, 2, 8, 9], [8, 16, 32, 32],
                           [3, 5, 8, 8], [5, 3, 4, 4], [7, 3, 2, 2], [2, 3, 6, 8], [1, 1, 4, 2], [3, 1025, 4, 4]].enumerated() {
            // Rounding makes ties, and −0 from small negatives.
            var x = Tensor.randn(shape, seed: UInt64(200 + k)).map { ($0 * 2).rounded() }
            for i in stride(from: 3, to: x.count, by: 7) { x.scalars[i] = -.infinity }
            for i in stride(from: 5, to: x.count, by: 11) { x.scalars[i] = -0.0 }
            for i in stride(from: 2, to: x.count, by: 101) { x.scalars[i] = .nan }
            let (h, w) = (shape[2], shape[3]), (oh, ow) = (shape[2] / 2, shape[3] / 2)
            var expected = [Float](), expectedAt = [Int]()
            for plane in 0..<(shape[0] * shape[1]) { for i in 0..<oh { for j in 0..<ow {
                let window = [(2 * i, 2 * j), (2 * i, 2 * j + 1), (2 * i + 1, 2 * j), (2 * i + 1, 2 * j + 1)]
                    .map { (plane * h + $0.0) * w + $0.1 }
                var at = window.first { x.scalars[$0].isNaN } ?? window[0]
                if !x.scalars[at].isNaN {
                    for index in window.dropFirst() where x.scalars[index] > x.scalars[at] { at = index }
                }
                expected.append(x.scalars[at])
                expectedAt.append(at)
            } } }
            XCTAssertTrue(expected.contains { $0.isNaN } || x.count < 101, "NaNs should reach some outputs of \(shape)")
            for threads in [1, 2, 3] {
                Parallel.threads = threads
                let (values, argmax) = x.maxPool2d(kernel: 2)
                XCTAssertEqual(values.shape, [shape[0], shape[1], oh, ow])
                XCTAssertEqual(values.scalars.map(\.bitPattern), expected.map(\.bitPattern), "max of \(shape), \(threads) threads")
                let flat = argmax.offsets.enumerated().map { e, offset in (e / (oh * ow)) * h * w + Int(offset) }
                XCTAssertEqual(flat, expectedAt, "argmax of \(shape), \(threads) threads")
            }
        }
    }

    /// The 2 × 2 / 2 scatter writes each window's inputs in one pass: bit for bit what adding the
    /// gradient into zeros at the argmax gives (−0 gradients becoming +0, NaNs kept), zeros in an
    /// odd last row and column, for planes of fewer than eight windows a row, a partial last block
    /// and several blocks, on 1, 2 and 3 threads.
    func testScatter2x2MatchesAddingIntoZerosBitForBit() {
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        for (k, shape) in [[2, 3, 28, 28], [1, 2, 7, 33], [1, 1, 5, 9], [3, 2, 8, 9], [8, 16, 32, 32], [1, 1, 2, 2]].enumerated() {
            let x = Tensor.randn(shape, seed: UInt64(300 + k)).map { ($0 * 2).rounded() }
            let (values, argmax) = x.maxPool2d(kernel: 2)
            var g = Tensor.randn(values.shape, seed: UInt64(400 + k))
            for i in stride(from: 1, to: g.count, by: 5) { g.scalars[i] = -0.0 }
            for i in stride(from: 2, to: g.count, by: 13) { g.scalars[i] = .nan }
            let plane = shape[2] * shape[3], outPlane = values.shape[2] * values.shape[3]
            var expected = [Float](repeating: 0, count: x.count)
            for (e, offset) in argmax.offsets.enumerated() { expected[(e / outPlane) * plane + Int(offset)] += g.scalars[e] }
            for threads in [1, 2, 3] {
                Parallel.threads = threads
                XCTAssertEqual(g.scatterAdded(at: argmax).scalars.map(\.bitPattern), expected.map(\.bitPattern),
                               "scatter into \(shape), \(threads) threads")
            }
        }
    }

    func testMaxPoolPropagatesNaN() {
        var x = Tensor.arange(16).reshaped([1, 1, 4, 4])
        x.scalars[5] = .nan
        let (values, _) = x.maxPool2d(kernel: 2)
        XCTAssertTrue(values.scalars[0].isNaN)
        XCTAssertEqual(Array(values.scalars[1...]), [7, 13, 15])
    }

    // MARK: Determinism

    /// Every kernel gives the same bits on 1 and 2 threads, for one-sample groups (large planes)
    /// and multi-sample groups (small planes, with a short last group).
    func testThreadCountDoesNotChangeBits() {
        // The last two run as one group, its im2col and col2im split across the threads.
        for t: Case in [(5, 3, 24, 24, 4, 3, 3, 1, 1), (70, 2, 4, 4, 3, 3, 3, 1, 1), (9, 2, 11, 9, 3, 3, 3, 2, 1),
                        (6, 3, 5, 5, 4, 3, 3, 1, 1)] {
            let (x, w, gy) = Self.operands(t, seed: 77)
            Self.assertSameBitsOnOneAndTwoThreads("\(t)") {
                let (values, argmax) = x.maxPool2d(kernel: 3, stride: 2, padding: 1)
                let g = Tensor.randn(values.shape, seed: 3)
                return [x.conv2d(w, stride: t.s, padding: t.p),
                        Tensor.conv2dInputGrad(gy, w, inputShape: x.shape, stride: t.s, padding: t.p),
                        Tensor.conv2dWeightGrad(x, gy, weightShape: w.shape, stride: t.s, padding: t.p),
                        values, g.scatterAdded(at: argmax),
                        x.avgPool2d(kernel: 2, stride: 1),
                        x.avgPool2d(kernel: 2, stride: 1).avgPool2dAdjoint(inputShape: x.shape, kernel: 2, stride: 1)]
            }
        }
    }

    /// The weight gradient packed straight from the input is, bit for bit, `sgemm`'s
    /// `dw += gy_group · col_groupᵀ` over the im2col column matrices, groups in order (the
    /// formulation the sparse kernels and the contract in `Conv+WeightGradient.swift` follow):
    /// for channel counts that split unevenly, taps crossing the 32-column slivers, row slivers
    /// of 12 and fewer, groups whose columns take several k-blocks, and strides.
    func testWeightGradientMatchesGEMMOverColumnMatrixBitForBit() {
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        let cases: [Case] = Self.cases + [
            (3, 16, 9, 9, 16, 3, 3, 1, 1),     // 144 taps: four full slivers and a half one
            (2, 5, 40, 33, 13, 3, 3, 1, 1),    // 1320 columns per group: two k-blocks
            (2, 7, 50, 47, 3, 3, 3, 1, 1),     // 2350 columns: three k-blocks, blocks crossing rows
            (9, 12, 8, 8, 25, 1, 1, 2, 0),     // 1×1 stride 2 (a shortcut), 25 rows: 12 + 12 + 1
            (5, 40, 4, 4, 30, 3, 3, 1, 1),     // 40 channels: runs longer than a sliver
            (5, 1, 28, 28, 20, 3, 3, 1, 1),    // one channel: the threads split the k-blocks
            (3, 3, 40, 33, 16, 3, 3, 1, 1),    // three channels, two k-blocks per group, split
            (50, 2, 9, 9, 13, 5, 5, 2, 2),     // two channels, groups of 21 samples (the last short), stride 2
            // Few pixels, many output channels: taps in dw's order, tiles written into dw.
            (1, 40, 2, 2, 64, 3, 3, 1, 1),     // SynFlow's single sample on a deep layer
            (1, 7, 4, 4, 70, 3, 3, 1, 1),      // 16 pixels, 7 channels split 3 + 4, 63 taps
            (2, 3, 2, 2, 40, 3, 3, 1, 1),      // two samples, three channels
            (1, 9, 3, 3, 37, 1, 1, 2, 0),      // 1×1 stride 2: 4 pixels
        ]
        var direct: [Bool] = []
        for (k, t) in cases.enumerated() {
            let (x, w, gy) = Self.operands(t, seed: UInt64(31 * k + 3))
            let geo = ConvGeometry.validated(input: x.shape, weight: w.shape, stride: t.s, padding: t.p)
            direct.append(ConvGeometry.writesWeightGradientDirectly(outChannels: geo.outChannels, groupColumns: geo.groupColumns))
            var reference = [Float](repeating: 0, count: w.count)
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: (geo.image.patch + geo.outChannels) * geo.groupColumns)
            defer { scratch.deallocate() }
            x.scalars.withUnsafeBufferPointer { xs in
                gy.scalars.withUnsafeBufferPointer { g in
                    for group in 0..<geo.groupCount {
                        let (col, gGroup, cols) = geo.weightGradientOperands(xs.baseAddress!, g.baseAddress!,
                                                                            samples: geo.samples(ofGroup: group), scratch: scratch)
                        GEMM.sgemm(transA: false, transB: true, m: t.o, n: geo.image.patch, k: cols, alpha: 1,
                                   a: gGroup, lda: cols, b: col, ldb: cols, beta: 1, c: &reference, ldc: geo.image.patch)
                    }
                }
            }
            for threads in [1, 2, 3] {
                Parallel.threads = threads
                let dw = Tensor.conv2dWeightGrad(x, gy, weightShape: w.shape, stride: t.s, padding: t.p, algorithm: .direct)
                XCTAssertEqual(dw.scalars.map(\.bitPattern), reference.map(\.bitPattern), "\(t), \(threads) threads")
            }
        }
        // The last four write into dw directly, every training shape before them does not.
        XCTAssertEqual(direct, [Bool](repeating: false, count: cases.count - 4) + [true, true, true, true])
    }

    /// A weight gradient is its products summed onto zeros, so products that all underflow to
    /// −0 give +0 (`fma(1, +0, −0)`), whether the tiles are written into dw directly or go
    /// through the accumulator: neither path may write the chain's −0 as it is.
    func testWeightGradientOfUnderflowingProductsIsPositiveZero() {
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        for t: Case in [(1, 40, 2, 2, 64, 3, 3, 1, 1), (3, 16, 9, 9, 16, 3, 3, 1, 1), (2, 5, 40, 33, 13, 3, 3, 1, 1)] {
            let (x, w, gy) = Self.operands(t, seed: 5)
            let tiny = x.map { _ in 1e-30 }, negative = gy.map { _ in -1e-30 }
            XCTAssertEqual((tiny.scalars[0] * negative.scalars[0]).bitPattern, (-Float.zero).bitPattern)
            for threads in [1, 2] {
                Parallel.threads = threads
                let dw = Tensor.conv2dWeightGrad(tiny, negative, weightShape: w.shape, stride: t.s, padding: t.p)
                XCTAssertEqual(Set(dw.scalars.map(\.bitPattern)), [0], "\(t), \(threads) threads")
            }
        }
    }

    // MARK: Validation

    func testConvShapeValidation() throws {
        XCTAssertEqual(try Shape.conv2d(input: [2, 3, 32, 32], weight: [16, 3, 3, 3], stride: 1, padding: 1), [2, 16, 32, 32])
        XCTAssertEqual(try Shape.conv2d(input: [2, 3, 7, 8], weight: [4, 3, 3, 2], stride: 2, padding: 0), [2, 4, 3, 4])
        let invalid: [(input: [Int], weight: [Int], stride: Int, padding: Int, mentions: String)] = [
            ([2, 3, 8, 8], [4, 2, 3, 3], 1, 0, "channels"),
            ([2, 3, 4, 4], [4, 3, 7, 7], 1, 1, "larger"),
            ([2, 3, 8, 8], [4, 3, 3, 3], 0, 0, "stride"),
            ([2, 3, 8, 8], [4, 3, 3, 3], -1, 0, "stride"),
            ([2, 3, 8, 8], [4, 3, 3, 3], 1, -1, "padding"),
            ([3, 8, 8], [4, 3, 3, 3], 1, 0, "[batch, channels, height, width]"),
            ([2, 3, 8, 8], [4, 3, 3], 1, 0, "[out, in, kh, kw]"),
            ([2, 3, 8, 8], [4, 3, 0, 3], 1, 1, "kernel"),
            ([2, 0, 8, 8], [4, 0, 3, 3], 1, 0, "at least one"),
            ([1 << 40, 1 << 20, 8, 8], [4, 1 << 20, 3, 3], 1, 0, "too large"),
        ]
        for bad in invalid {
            XCTAssertThrowsError(try Shape.conv2d(input: bad.input, weight: bad.weight, stride: bad.stride, padding: bad.padding)) {
                XCTAssertTrue("\($0)".contains(bad.mentions), "\($0) should mention \(bad.mentions)")
            }
        }
    }

    func testPoolShapeValidation() throws {
        XCTAssertEqual(try Shape.pool2d(input: [2, 3, 32, 32], kernel: 2), [2, 3, 16, 16])
        XCTAssertEqual(try Shape.pool2d(input: [2, 3, 7, 5], kernel: 3, stride: 2, padding: 1), [2, 3, 4, 3])
        XCTAssertThrowsError(try Shape.pool2d(input: [2, 3, 4, 4], kernel: 5))
        XCTAssertThrowsError(try Shape.pool2d(input: [2, 3, 4, 4], kernel: 2, stride: 0))
        XCTAssertThrowsError(try Shape.pool2d(input: [2, 3, 4, 4], kernel: 3, padding: 2))
        XCTAssertThrowsError(try Shape.pool2d(input: [2, 3, 4, 4], kernel: 0))
        XCTAssertThrowsError(try Shape.pool2d(input: [3, 4, 4], kernel: 2))
    }
}
