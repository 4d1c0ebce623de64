// Winograd F(2×2, 3×3) for 3×3 convolutions of stride 1 and padding 1 (Lavin & Gray, 2016).
//
// Each 2×2 block of outputs ("tile") of one output channel is
//
//     y_tile = Aᵀ · [ Σ_c (G·g_oc·Gᵀ) ⊙ (Bᵀ·d_c·B) ] · A
//
// with d_c the 4×4 input patch of the tile in channel c. For each of the 16 positions ξ of the
// 4×4 transformed domain the sum over c is a matrix product, M[ξ] (O × T) = U[ξ] (O × C) · V[ξ]
// (C × T) over the T tiles of a group of samples: 16 GEMMs with 4·O·C multiply-adds per tile
// instead of direct convolution's 9·O·C per tile's 4 outputs, 2.25× fewer.
//
// The transforms only add, subtract and halve, but the result is not the direct convolution's
// chain of FMAs: it differs in the last bits (about 1e-6 relative).

/// How a convolution is computed: `direct` (im2col + GEMM, each output one FMA chain in the GEMM's
/// order, which the sparse kernels match bit for bit) or `winograd` (F(2×2, 3×3): 2.25× fewer
/// multiply-adds, results within about 1e-6 of the largest output's magnitude).
public enum ConvAlgorithm: Sendable {
    case direct, winograd

    /// The fixed rule, a function of the shapes alone (so a script computes the same way on every
    /// machine): Winograd for 3×3 kernels of stride 1 and padding 1 with at least 64 input and 64
    /// output channels, planes of at least 4×4 and at least `targetTiles` tiles in the batch, where
    /// `prn bench conv` measured it 1.2–1.6× faster than direct in all three products; direct
    /// everywhere else (fewer channels or 2×2 planes lose to the transforms, and a small batch —
    /// SynFlow's single sample — does not amortize transforming the weight: 2.6× slower).
    static func chosen(for geo: ConvGeometry) -> ConvAlgorithm {
        WinogradPlan.supports(geo) && geo.image.channels >= 64 && geo.outChannels >= 64
            && geo.image.height >= 4 && geo.image.width >= 4
            && geo.image.batch * WinogradPlan(geo).tilesPerSample >= WinogradPlan.targetTiles ? .winograd : .direct
    }
}

extension WinogradPlan {
    /// Whether Winograd F(2×2, 3×3) can compute this convolution: 3×3, stride 1, padding 1.
    static func supports(_ geo: ConvGeometry) -> Bool {
        let w = geo.image.window
        return w.kernelH == 3 && w.kernelW == 3 && w.strideH == 1 && w.strideW == 1 && w.padH == 1 && w.padW == 1
    }

    /// `y = conv2d(x, w)`.
    static func conv2d(_ x: Tensor, _ weight: Tensor, _ geo: ConvGeometry) -> Tensor {
        let plan = WinogradPlan(geo)
        let u = plan.transformedWeight(weight)
        return Tensor.build(geo.outputShape) { y in
            x.scalars.withUnsafeBufferPointer { x in
                u.withUnsafeBufferPointer { u in plan.forward(x: x.baseAddress!, u: u.baseAddress!, y: y.baseAddress!) }
            }
        }
    }

    /// `dx = conv2dInputGrad(gy, w)`: the convolution of gy with the weight flipped and its
    /// channels swapped.
    static func inputGrad(_ gy: Tensor, _ weight: Tensor, _ geo: ConvGeometry) -> Tensor {
        let plan = WinogradPlan(geo)
        let u = plan.transformedWeight(weight, adjoint: true)
        return Tensor.build(geo.image.inputShape) { dx in
            gy.scalars.withUnsafeBufferPointer { g in
                u.withUnsafeBufferPointer { u in plan.adjoint.forward(x: g.baseAddress!, u: u.baseAddress!, y: dx.baseAddress!) }
            }
        }
    }

    /// `dw = conv2dWeightGrad(x, gy)`.
    static func weightGrad(_ x: Tensor, _ gy: Tensor, _ geo: ConvGeometry, weightShape: [Int]) -> Tensor {
        Tensor.build(weightShape) { dw in
            x.scalars.withUnsafeBufferPointer { x in
                gy.scalars.withUnsafeBufferPointer { g in
                    WinogradPlan(geo).weightGradient(x: x.baseAddress!, gy: g.baseAddress!, dw: dw.baseAddress!)
                }
            }
        }
    }
}

/// The tiling of one 3×3, stride-1, padding-1 convolution, and its groups of samples.
struct WinogradPlan {
    let batch: Int, inChannels: Int, outChannels: Int, height: Int, width: Int
    /// Tiles per row and per column of a plane (the last ones may hang over the edge).
    let tileRows: Int, tileColumns: Int
    /// Samples per group: enough for about `targetTiles` tiles, the GEMMs' column count.
    let groupSize: Int

    static let targetTiles = 512

    init(_ geo: ConvGeometry) {
        self.init(batch: geo.image.batch, inChannels: geo.image.channels, outChannels: geo.outChannels,
                  height: geo.image.height, width: geo.image.width)
    }

    init(batch: Int, inChannels: Int, outChannels: Int, height: Int, width: Int) {
        self.batch = batch
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.height = height
        self.width = width
        tileRows = (height + 1) / 2
        tileColumns = (width + 1) / 2
        let perSample = tileRows * tileColumns
        groupSize = Swift.max(1, Swift.min(batch, (Self.targetTiles + perSample - 1) / perSample))
    }

    /// The plan of the input gradient: the convolution of gy with the adjoint weight.
    var adjoint: WinogradPlan {
        WinogradPlan(batch: batch, inChannels: outChannels, outChannels: inChannels, height: height, width: width)
    }

    var tilesPerSample: Int { tileRows * tileColumns }
    /// The batch in groups of `groupSize` samples, and how they run on the threads.
    var sampleGroups: SampleGroups { SampleGroups(batch: batch, size: groupSize) }

    /// `U[ξ][o][c] = (G·g_oc·Gᵀ)[ξ]`, 16 matrices of O × C. With `adjoint`, the transform of
    /// the weight the input gradient convolves with, `g'[c][o][u][v] = g[o][c][2−u][2−v]`:
    /// 16 matrices of C × O.
    func transformedWeight(_ weight: Tensor, adjoint: Bool = false) -> [Float] {
        let o = outChannels, c = inChannels, stride = o * c
        var u = [Float](repeating: 0, count: 16 * stride)
        weight.scalars.withUnsafeBufferPointer { w in
            u.withUnsafeMutableBufferPointer { u in
                for index in 0..<stride {
                    // `index` is where the transform goes; `kernel` the (o, c) it comes from.
                    let kernel = adjoint ? (index % o) * c + index / o : index
                    var g = SIMD16<Float>()
                    for t in 0..<9 { g[t] = w[kernel * 9 + (adjoint ? 8 - t : t)] }
                    // G·g: 4 rows of 3, held as three SIMD4 columns (lane i = row i).
                    func column(_ j: Int) -> SIMD4<Float> {
                        let g0 = g[j], g1 = g[3 + j], g2 = g[6 + j]
                        return SIMD4(g0, (g0 + g1 + g2) * 0.5, (g0 - g1 + g2) * 0.5, g2)
                    }
                    let t0 = column(0), t1 = column(1), t2 = column(2)
                    // (G·g)·Gᵀ, by columns.
                    let c1 = (t0 + t1 + t2) * 0.5, c2 = (t0 - t1 + t2) * 0.5
                    for i in 0..<4 {
                        u[(4 * i) * stride + index] = t0[i]
                        u[(4 * i + 1) * stride + index] = c1[i]
                        u[(4 * i + 2) * stride + index] = c2[i]
                        u[(4 * i + 3) * stride + index] = t2[i]
                    }
                }
            }
        }
        return u
    }

    /// y = conv(x, w) given `u = transformedWeight(w)`.
    func forward(x: UnsafePointer<Float>, u: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        let maxTiles = groupSize * tilesPerSample
        sampleGroups.forEach(scratch: 16 * (inChannels + outChannels) * maxTiles) { samples, v, gemmThreads in
            let m = v + 16 * inChannels * maxTiles, tiles = samples.count * tilesPerSample
            transformInput(x, samples: samples, into: v, tiles: tiles)
            for xi in 0..<16 {
                GEMM.sgemm(transA: false, transB: false, m: outChannels, n: tiles, k: inChannels, alpha: 1,
                           a: u + xi * outChannels * inChannels, lda: inChannels,
                           b: v + xi * inChannels * tiles, ldb: tiles,
                           beta: 0, c: m + xi * outChannels * tiles, ldc: tiles, threads: gemmThreads)
            }
            transformOutput(m, tiles: tiles, samples: samples, into: y)
        }
    }

    /// `V[ξ][c][t] = (Bᵀ·d·B)[ξ]` for the 4×4 input patch d of tile t in channel c. A row of
    /// tiles at a time, so every load and store runs along the tiles (the compiler vectorizes).
    func transformInput(_ x: UnsafePointer<Float>, samples: Range<Int>, into v: UnsafeMutablePointer<Float>, tiles: Int) {
        let plane = height * width, tw = tileColumns, stride = inChannels * tiles
        // For each of the 4 rows of a patch row: its even and odd padded columns, then d·B.
        let even = UnsafeMutablePointer<Float>.allocate(capacity: 2 * (tw + 1) + 16 * tw)
        defer { even.deallocate() }
        let odd = even + tw + 1, rowsB = odd + tw + 1
        forEachTileRow(of: samples, channels: inChannels) { s, n, c, ti in
            let src = x + (n * inChannels + c) * plane
            for a in 0..<4 {
                let r = 2 * ti - 1 + a, out = rowsB + 4 * a * tw
                guard r >= 0 && r < height else {
                    out.update(repeating: 0, count: 4 * tw)
                    continue
                }
                let row = src + r * width
                // even[j] = x[2j − 1], odd[j] = x[2j], zero outside the row.
                for j in 0...tw {
                    even[j] = j > 0 && 2 * j - 1 < width ? row[2 * j - 1] : 0
                    odd[j] = 2 * j < width ? row[2 * j] : 0
                }
                for j in 0..<tw { out[j] = even[j] - even[j + 1] }
                for j in 0..<tw { out[tw + j] = odd[j] + even[j + 1] }
                for j in 0..<tw { out[2 * tw + j] = even[j + 1] - odd[j] }
                for j in 0..<tw { out[3 * tw + j] = odd[j] - odd[j + 1] }
            }
            // Bᵀ over the four rows: ξ = 4·i + b.
            let first = v + c * tiles + (s * tileRows + ti) * tw
            for b in 0..<4 {
                let d0 = rowsB + b * tw, d1 = d0 + 4 * tw, d2 = d1 + 4 * tw, d3 = d2 + 4 * tw
                let v0 = first + b * stride, v1 = v0 + 4 * stride, v2 = v1 + 4 * stride, v3 = v2 + 4 * stride
                for j in 0..<tw {
                    v0[j] = d0[j] - d2[j]
                    v1[j] = d1[j] + d2[j]
                    v2[j] = d2[j] - d1[j]
                    v3[j] = d1[j] - d3[j]
                }
            }
        }
    }

    /// `y_tile = Aᵀ·M_tile·A` for every output channel and tile of the group.
    func transformOutput(_ m: UnsafePointer<Float>, tiles: Int, samples: Range<Int>, into y: UnsafeMutablePointer<Float>) {
        let plane = height * width, tw = tileColumns, stride = outChannels * tiles
        let rows = UnsafeMutablePointer<Float>.allocate(capacity: 8 * tw)
        defer { rows.deallocate() }
        forEachTileRow(of: samples, channels: outChannels) { s, n, o, ti in
            let dst = y + (n * outChannels + o) * plane
            let first = m + o * tiles + (s * tileRows + ti) * tw
            // Aᵀ·M: rows[i][b] over the tiles.
            for b in 0..<4 {
                let q0 = first + b * stride, q1 = q0 + 4 * stride, q2 = q1 + 4 * stride, q3 = q2 + 4 * stride
                let a0 = rows + b * tw, a1 = rows + (4 + b) * tw
                for j in 0..<tw {
                    a0[j] = q0[j] + q1[j] + q2[j]
                    a1[j] = q1[j] - q2[j] - q3[j]
                }
            }
            for i in 0..<2 where 2 * ti + i < height {
                let out = dst + (2 * ti + i) * width, r = rows + 4 * i * tw
                let full = width / 2
                for j in 0..<Swift.min(tw, full) {
                    out[2 * j] = r[j] + r[tw + j] + r[2 * tw + j]
                    out[2 * j + 1] = r[tw + j] - r[2 * tw + j] - r[3 * tw + j]
                }
                if full < tw { out[2 * full] = r[full] + r[tw + full] + r[2 * tw + full] }
            }
        }
    }

    /// `body(s, n, channel, ti)` for each sample of a group (`s` its place in the group, `n` in the
    /// batch), channel and row of tiles `ti`.
    @inline(__always)
    private func forEachTileRow(of samples: Range<Int>, channels: Int, _ body: (Int, Int, Int, Int) -> Void) {
        for (s, n) in samples.enumerated() {
            for channel in 0..<channels {
                for ti in 0..<tileRows { body(s, n, channel, ti) }
            }
        }
    }

    /// `dw = ∂⟨conv(x, w), gy⟩/∂w`, the adjoint of `forward` in w: per group, the 16 products
    /// `S[ξ] (O × C) = Z[ξ] (O × T) · V[ξ]ᵀ (T × C)` of gy's and x's transforms, added in group
    /// order, then `dw_oc = Gᵀ · S_oc · G`.
    func weightGradient(x: UnsafePointer<Float>, gy: UnsafePointer<Float>, dw: UnsafeMutablePointer<Float>) {
        let products = 16 * outChannels * inChannels, maxTiles = groupSize * tilesPerSample
        // Each group's scratch: x's transform V, gy's transform Z, then its 16 products S.
        let transforms = 16 * (inChannels + outChannels) * maxTiles
        let sum = UnsafeMutablePointer<Float>.allocate(capacity: products)
        defer { sum.deallocate() }
        var added = false
        sampleGroups.forEach(scratch: transforms + products, { samples, v, gemmThreads in
            let z = v + 16 * inChannels * maxTiles, partial = v + transforms
            let tiles = samples.count * tilesPerSample
            transformInput(x, samples: samples, into: v, tiles: tiles)
            transformGradient(gy, samples: samples, into: z, tiles: tiles)
            for xi in 0..<16 {
                GEMM.sgemm(transA: false, transB: true, m: outChannels, n: inChannels, k: tiles, alpha: 1,
                           a: z + xi * outChannels * tiles, lda: tiles, b: v + xi * inChannels * tiles, ldb: tiles,
                           beta: 0, c: partial + xi * outChannels * inChannels, ldc: inChannels, threads: gemmThreads)
            }
        }, afterWave: { scratches in
            for scratch in scratches {
                let partial = scratch + transforms
                if added {
                    for i in 0..<products { sum[i] += partial[i] }
                } else {
                    sum.update(from: partial, count: products)
                    added = true
                }
            }
        })
        if !added { sum.update(repeating: 0, count: products) }   // an empty batch
        transformWeightGradient(sum, into: dw)
    }

    /// `Z[ξ][o][t] = (A·gy_t·Aᵀ)[ξ]` for the 2 × 2 block gy_t of tile t (zero past the edge), the
    /// adjoint of `transformOutput`.
    func transformGradient(_ gy: UnsafePointer<Float>, samples: Range<Int>, into z: UnsafeMutablePointer<Float>, tiles: Int) {
        let plane = height * width, tw = tileColumns, stride = outChannels * tiles
        let split = UnsafeMutablePointer<Float>.allocate(capacity: 4 * tw)
        defer { split.deallocate() }
        forEachTileRow(of: samples, channels: outChannels) { s, n, o, ti in
            let src = gy + (n * outChannels + o) * plane
            // Even and odd columns of the tile row's two gradient rows.
            for i in 0..<2 {
                let r = 2 * ti + i, even = split + 2 * i * tw, odd = even + tw
                guard r < height else {
                    even.update(repeating: 0, count: 2 * tw)
                    continue
                }
                let row = src + r * width
                for j in 0..<tw {
                    even[j] = row[2 * j]
                    odd[j] = 2 * j + 1 < width ? row[2 * j + 1] : 0
                }
            }
            let e0 = split, o0 = split + tw, e1 = split + 2 * tw, o1 = split + 3 * tw
            let base = z + o * tiles + (s * tileRows + ti) * tw
            // Row i of A·gy is (p, q); its row of the product with Aᵀ is (p, p + q, p − q, −q).
            func store(_ i: Int, _ p: (Int) -> Float, _ q: (Int) -> Float) {
                let z0 = base + 4 * i * stride, z1 = z0 + stride, z2 = z1 + stride, z3 = z2 + stride
                for j in 0..<tw {
                    let a = p(j), b = q(j)
                    z0[j] = a
                    z1[j] = a + b
                    z2[j] = a - b
                    z3[j] = -b
                }
            }
            store(0, { e0[$0] }, { o0[$0] })
            store(1, { e0[$0] + e1[$0] }, { o0[$0] + o1[$0] })
            store(2, { e0[$0] - e1[$0] }, { o0[$0] - o1[$0] })
            store(3, { -e1[$0] }, { -o1[$0] })
        }
    }

    /// `dw_oc = Gᵀ · P · G` for each `P = S[·][o][c]`, the adjoint of `transformedWeight`.
    func transformWeightGradient(_ sum: UnsafePointer<Float>, into dw: UnsafeMutablePointer<Float>) {
        let stride = outChannels * inChannels
        for oc in 0..<stride {
            // Rows of P as SIMD4 over its columns.
            func row(_ i: Int) -> SIMD4<Float> {
                SIMD4(sum[(4 * i) * stride + oc], sum[(4 * i + 1) * stride + oc],
                      sum[(4 * i + 2) * stride + oc], sum[(4 * i + 3) * stride + oc])
            }
            let p0 = row(0), p1 = row(1), p2 = row(2), p3 = row(3)
            let out = dw + oc * 9
            func store(_ k: Int, _ r: SIMD4<Float>) {
                out[3 * k] = r[0] + (r[1] + r[2]) * 0.5
                out[3 * k + 1] = (r[1] - r[2]) * 0.5
                out[3 * k + 2] = (r[1] + r[2]) * 0.5 + r[3]
            }
            store(0, p0 + (p1 + p2) * 0.5)
            store(1, (p1 - p2) * 0.5)
            store(2, (p1 + p2) * 0.5 + p3)
        }
    }
}
