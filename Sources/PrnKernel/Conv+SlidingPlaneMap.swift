import Foundation

// The sliding kernel's form for planes of at most 2×2 (the last layers of VGG-11 and VGG-16 on
// CIFAR): there every input pixel lies inside every output pixel's 3×3 window, so one sample's
// whole layer is a dense linear map with no zero taps,
//
//     y[n][o·P + p] = Σ_{c, q} M[o·P + p][c·P + q] · x[n][c·P + q],   M[o·P + p][c·P + q] = w[o][c][u][v]
//
// with P = H·W pixels, p the output and q the input pixel, and (u, v) = (q_i − p_i + 1,
// q_j − p_j + 1). x and y, read as [N, C·P] and [N, O·P] matrices in place, make the three
// products one GEMM each over the whole batch: y = x · Mᵀ, dx = gy · M and dM = gyᵀ · x, whose
// entries are then added per tap into dw. That is 16 multiply-adds per channel pair and sample on a
// 2×2 plane, F(2×2)'s count, with no transform and no column matrix (im2col computes 36, with zeros).
//
// Each output is the GEMM's chain (`GEMM.swift`): the forward pass's over (c, q), which is the
// order of the plane-row kernel's chain over (c, u, v) with its zero taps left out, the input
// gradient's over (o, p), the weight gradient's over the samples, then per tap the entries of dM
// that hold it added from 0 in the order of p. The GEMM's contract makes them the same on every
// thread count and on AVX2 and AVX-512 builds.

extension SlidingPlan {
    /// Whether a plane this small takes the dense map (`Conv+SlidingPlaneMap.swift`) rather than
    /// the plane-row kernel: at most 2×2, so that the map has no zero taps.
    var usesPlaneMap: Bool { stride == 1 && height <= 2 && width <= 2 }

    /// The tap (u, v) that carries input pixel q to output pixel p, as its index 3u + v.
    func tap(output p: Int, input q: Int) -> Int {
        let u = q / width - p / width + 1, v = q % width - p % width + 1
        return 3 * u + v
    }

    /// `body` with the taps of every pixel pair, `taps[p · P + q] = tap(output: p, input: q)`: the
    /// map's loops look them up instead of dividing by the plane's width for every entry.
    func withTaps<R>(_ body: (UnsafePointer<Int>) -> R) -> R {
        let pixels = plane
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: pixels * pixels) { taps in
            for p in 0..<pixels {
                for q in 0..<pixels { taps[p * pixels + q] = tap(output: p, input: q) }
            }
            return body(UnsafePointer(taps.baseAddress!))
        }
    }

    /// `M[O·P, C·P]` from `w[O, C, 3, 3]`: a training step's forward pass and input gradient
    /// build the same map, so a small one is kept (`PlaneMapCache`) and taken again for the same
    /// layer shape and weights, bit for bit.
    func planeMap(_ w: UnsafePointer<Float>) -> [Float] {
        let weights = UnsafeBufferPointer(start: w, count: outChannels * inChannels * 9)
        let key = [outChannels, inChannels, height, width]
        if let map = PlaneMapCache.shared.map(key, weights) { return map }
        let map = buildPlaneMap(w)
        PlaneMapCache.shared.keep(map, key, weights)
        return map
    }

    /// `M[O·P, C·P]` from `w[O, C, 3, 3]`, filled by rows of output channels on the threads.
    func buildPlaneMap(_ w: UnsafePointer<Float>) -> [Float] {
        let pixels = plane, row = inChannels * pixels
        return [Float](unsafeUninitializedCapacity: outChannels * pixels * row) { map, initialized in
            let base = map.baseAddress!
            withTaps { taps in
                Parallel.forEach(outChannels) { outputs in
                    for o in outputs {
                        for p in 0..<pixels {
                            let target = base + (o * pixels + p) * row, rowTaps = taps + p * pixels
                            for c in 0..<inChannels {
                                let kernel = w + (o * inChannels + c) * 9, entries = target + c * pixels
                                for q in 0..<pixels { entries[q] = kernel[rowTaps[q]] }
                            }
                        }
                    }
                }
            }
            initialized = map.count
        }
    }

    /// `y = x · Mᵀ` over the batch.
    func planeMapForward(x: UnsafePointer<Float>, map: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        let k = inChannels * plane, n = outChannels * plane
        GEMM.sgemm(transA: false, transB: true, m: batch, n: n, k: k, alpha: 1, a: x, lda: k, b: map, ldb: k,
                   beta: 0, c: y, ldc: n)
    }

    /// `dx = gy · M` over the batch.
    func planeMapInputGradient(gy: UnsafePointer<Float>, map: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>) {
        let k = outChannels * plane, n = inChannels * plane
        GEMM.sgemm(transA: false, transB: false, m: batch, n: n, k: k, alpha: 1, a: gy, lda: k, b: map, ldb: n,
                   beta: 0, c: dx, ldc: n)
    }

    /// `dM = gyᵀ · x` over the batch, then each tap's entries added: `dw[o][c][t] = 0 + dM[o·P +
    /// p][c·P + q] + …` over the pixels p (ascending) whose pixel q = p + (u − 1, v − 1) lies in the
    /// plane (0 for a tap no pair reaches, such as u ≠ 1 on a plane of one row).
    func planeMapWeightGradient(x: UnsafePointer<Float>, gy: UnsafePointer<Float>, dw: UnsafeMutablePointer<Float>) {
        let pixels = plane, rows = outChannels * pixels, columns = inChannels * pixels
        let sums = UnsafeMutablePointer<Float>.allocate(capacity: rows * columns)
        defer { sums.deallocate() }
        if batch == 0 {
            sums.update(repeating: 0, count: rows * columns)
        } else {
            GEMM.sgemm(transA: true, transB: false, m: rows, n: columns, k: batch, alpha: 1, a: gy, lda: rows,
                       b: x, ldb: columns, beta: 0, c: sums, ldc: columns)
        }
        withTaps { taps in
            Parallel.forEach(outChannels) { outputs in
                for o in outputs {
                    for c in 0..<inChannels {
                        let kernel = dw + (o * inChannels + c) * 9
                        kernel.update(repeating: 0, count: 9)
                        for p in 0..<pixels {
                            let entries = sums + (o * pixels + p) * columns + c * pixels, rowTaps = taps + p * pixels
                            for q in 0..<pixels { kernel[rowTaps[q]] += entries[q] }
                        }
                    }
                }
            }
        }
    }
}

/// The plane maps built last (`SlidingPlan.planeMap`), with the layer shape and weights each
/// came from: the forward pass of a step builds them, its input gradients (in the reverse
/// layer order) find them. Weights are compared bit for bit, so a hit is the map that would be
/// built. Only maps of at most `largestMap` scalars are kept (VGG-11's 128-channel 2 × 2 layers:
/// 1 MB each; not VGG-16's 512-channel ones, 16 MB each, whose memory counts more than the
/// rebuild), the `capacity` most recent ones.
final class PlaneMapCache: @unchecked Sendable {
    static let shared = PlaneMapCache()
    static let largestMap = 1 << 20, capacity = 4

    private let lock = NSLock()
    private var entries: [(key: [Int], weights: [Float], map: [Float])] = []

    /// The kept map for `key` and these weights, if any.
    func map(_ key: [Int], _ weights: UnsafeBufferPointer<Float>) -> [Float]? {
        lock.withLock {
            entries.first { entry in
                entry.key == key && entry.weights.withUnsafeBytes { kept in
                    kept.count == weights.count * 4 && memcmp(kept.baseAddress!, weights.baseAddress!, kept.count) == 0
                }
            }?.map
        }
    }

    /// Keeps `map`, built from `weights` for `key`, in place of the oldest entry when full.
    func keep(_ map: [Float], _ key: [Int], _ weights: UnsafeBufferPointer<Float>) {
        guard map.count <= Self.largestMap, !weights.isEmpty else { return }
        lock.withLock {
            if entries.count == Self.capacity { entries.removeFirst() }
            entries.append((key, Array(weights), map))
        }
    }
}
