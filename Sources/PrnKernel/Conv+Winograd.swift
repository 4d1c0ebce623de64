// Winograd F(m×m, 3×3) for 3×3 convolutions of stride 1 and padding 1 (Lavin & Gray, 2016),
// with output tiles of m = 2 or m = 4 (`WinogradTile`, its transforms in
// `Conv+WinogradTransforms.swift`).
//
// Each m × m block of outputs ("tile") of one output channel is
//
//     y_tile = Aᵀ · [ Σ_c (G·g_oc·Gᵀ) ⊙ (Bᵀ·d_c·B) ] · A
//
// with d_c the α × α input patch of the tile in channel c (α = m + 2). For each of the α²
// positions ξ of the transformed domain the sum over c is a matrix product, M[ξ] (O × T) = U[ξ]ᵀ
// (O × C) · V[ξ] (C × T) over the T tiles of a group of samples: α² GEMMs with α²·O·C
// multiply-adds per tile instead of direct convolution's 9·m²·O·C, 2.25× fewer for m = 2 and
// 4× fewer for m = 4.
//
// The result is not the direct convolution's chain of FMAs: it differs in the last bits, more so
// for m = 4 (see `ConvAlgorithm`).

/// How a convolution is computed: `direct` (im2col + GEMM, each output one FMA chain in the GEMM's
/// order, which the sparse kernels match bit for bit), `winograd2x2` (F(2×2, 3×3): 2.25× fewer
/// multiply-adds, results within about 1e-6 of the largest output's magnitude), `winograd4x4`
/// (F(4×4, 3×3): 4× fewer, within about 1e-5; README, Architecture, has the measured errors) or
/// `sliding` (direct 3×3 loops vectorized along the output plane, `Conv+Sliding.swift`: no
/// transform and no column matrix, for layers of few channels; each output one FMA chain over
/// (c, u, v), which is im2col's forward chain whenever C·9 fits one GEMM k-block; also on stride
/// 2 but for the input gradient, and on planes of at most 2×2 as a dense map per sample computed
/// by GEMMs, `Conv+SlidingPlaneMap.swift`).
public enum ConvAlgorithm: Sendable {
    case direct, winograd2x2, winograd4x4, sliding

    /// The Winograd tile, or nil for `direct` and `sliding`.
    var winogradTile: WinogradTile? {
        switch self {
        case .direct, .sliding: nil
        case .winograd2x2: .f2
        case .winograd4x4: .f4
        }
    }

    /// The largest C·O the plane map runs: 128 × 128 (a 1 MB map), where it was measured ahead.
    static let planeMapLimit = 128 * 128

    /// The fixed rule, a function of the shapes alone (so a script computes the same way on every
    /// machine), for 3×3 kernels of stride 1 and padding 1 with at least 16 input and 16 output
    /// channels (not a network's first layer):
    /// - F(4×4, 3×3) on planes of at least 4×4 with 2048 outputs per channel in the batch (N·H·W):
    ///   `prn bench conv` measured it 1.7–2.8× faster than direct in each product on VGG-16's
    ///   layers (64–512 channels, one thread, CPU time) and 1.2–1.7× over the three products on
    ///   VGG-11's (width 0.25) and ResNet-20's layers of 16–128 channels (single ones 1.0–1.8×).
    /// - F(2×2, 3×3) on 2×2 and 3×3 planes with at least 128 × 128 channels and 512 outputs per
    ///   channel in the batch (VGG-16's and VGG-11's 2×2 layers, 1.1–2.1×; F(4×4) would compute
    ///   16 outputs per 4).
    /// - Direct everywhere else, among them a small batch (SynFlow's single sample), which does
    ///   not amortize transforming the weight.
    ///
    /// Before all of these, `sliding` runs all three products of 3×3, stride-1, padding-1 layers
    /// on planes of at least 8×8 with 2048 outputs per channel in the batch, at most 32 input
    /// and 64 output channels, on planes under 16×16 (where F(4×4)'s edge tiles waste most) or
    /// with C·O ≤ 512: a first layer of 64,
    /// whose im2col GEMM has k = 9·C (`prn bench conv`, load 6–12, ms, 1 / 2 threads: Conv-2's
    /// 1 → 64 on 28×28 at batch 64, forward 0.65 / 0.69 vs im2col's 1.85 / 3.23, weight gradient
    /// 0.65 / 0.66 vs 2.10 / 2.05; VGG-16's 3 → 64 in two runs, forward 13.9 vs 20.8 on one
    /// thread and 6.1, 18.6 vs 12.1, 21.0 on two, weight gradient 10.5, 23.1 vs 16.7, 26.3 on
    /// one and 11.7, 18.4 vs 21.8, 15.4 on two); except an input gradient onto fewer than 8
    /// channels (a first layer's, which training does not compute) and a weight gradient of
    /// C·O > 512 on planes under 16×16 (its 16-lane sums lose to im2col's GEMM there: 0.4–0.6×
    /// at C·O ≥ 2048). At batch 128 that is ResNet-20's first layer and its six 16-channel
    /// layers, VGG-11's (width 0.25) first three and VGG-16's first. ResNet-20's 32 → 32
    /// (16×16) moved to sliding in session 11 (idle `prn bench conv` at dbc5c64, ms, 1 / 2
    /// threads: forward 5.36 / 2.72 vs F(4×4)'s 5.18 / 4.48, input gradient 4.46 / 2.26 vs
    /// 7.14 / 4.50, weight gradient 5.41 / 3.28 vs im2col's 6.01 / 4.27) and back to F(4×4),
    /// all three products, in session 21, when the faster Winograd (sessions 19–21) overtook it:
    /// `prn bench conv` at 8c875a1, two runs, ms 1 / 2 threads, F(4×4) vs sliding: forward
    /// 5.93, 5.95 / 2.95, 2.73 vs 6.79, 6.78 / 3.32, 3.29; input gradient 5.96, 5.51 / 2.99,
    /// 2.73 vs 6.81, 6.73 / 3.34, 3.30; weight gradient 6.99, 7.12 / 3.23, 3.28 vs 7.91, 8.05 /
    /// 4.00, 4.05 (whole step, 2 threads: 6 of 6 pairs faster, median +4 %); its 64 → 64 (8×8) stays off sliding (sliding vs F(4×4): forward 5.57 / 3.30 vs
    /// 3.92 / 2.92, weight gradient 12.6 / 6.6 vs 5.2 / 3.3; that weight gradient runs direct,
    /// below). Its input gradient slid from session 14 (sliding 8–14 % ahead of F(4×4) then) to
    /// session 20, when the faster Winograd of session 19 overtook it: idle `prn bench conv` at
    /// 4d80a81, ms 1 / 2 threads, sliding 6.49 / 3.30 vs F(4×4)'s 4.22 / 2.14. `prn bench conv` (1 thread, the calling thread's CPU time, load 5–13, two runs),
    /// ms: ResNet-20's 16 → 16 (32×32) forward 4.89 / 5.21 vs F(4×4)'s 7.81 / 8.54, input
    /// gradient 5.01 / 5.26 vs 8.16 / 8.30, weight gradient 7.98 / 6.91 vs im2col's 8.73 / 8.85;
    /// VGG-11's 32 → 64 (8×8) forward 2.19 / 2.25 vs 2.75 / 2.90 and input gradient 2.47 / 2.72
    /// vs 3.72 / 4.75. Against the F(4×4) before 8a1ae92 it was also ahead on ResNet-20's
    /// 32 → 32 (16×16: 5.41 / 4.48 vs 5.94 / 5.92, 4.53 / 4.74 vs 4.82 / 5.73) and 64 → 64 layers
    /// (8×8: 4.49 / 5.25 vs 4.74 / 5.43, 4.64 / 4.48 vs 5.78 / 5.21), by less than 8a1ae92 took
    /// off F(4×4)'s forward there, so those stay on it.
    /// On planes of at most 2×2 in batches of at least 32 it runs all three products as a dense
    /// map per sample (`Conv+SlidingPlaneMap.swift`; SynFlow's single sample keeps im2col, which
    /// needs no map built): VGG-11's 128-channel 2×2 layers 1.12 / 1.14 vs F(2×2)'s 1.81 / 1.78,
    /// 1.32 / 1.12 vs 2.40 / 1.83, and 1.13 / 1.13 vs im2col's 2.10 / 1.49 in the weight gradient;
    /// up to `planeMapLimit` channels. VGG-16's 512-channel 2×2 layers, whose map (16·C·O floats,
    /// 16 MB) is far past L2, stay on F(2×2): the map took 1.1–1.3× F(2×2)'s time in every
    /// product (idle, 1 / 2 threads, ms: forward 21.3 / 9.8 vs 17.4 / 9.2, input gradient 20.5 /
    /// 10.2 vs 17.8 / 8.2, weight gradient 20.6 / 9.7 vs 16.3 / 8.4).
    /// On stride 2 it runs the forward pass of layers of at most 32 → 64 channels with at least
    /// 8×8 outputs, 2048 per channel (ResNet-20's downsampling layers: 4.35 / 4.19 vs im2col's
    /// 9.77 / 9.17 and 3.20 / 3.25 vs 6.04 / 6.48); its stride-2 weight gradient (0.3–0.7× of
    /// im2col's) is not chosen, and it has no stride-2 input gradient.
    ///
    /// That is the layer's algorithm, which its forward pass and input gradient run. Its weight
    /// gradient runs it too where the channels amortize transforming x and gy per tile (a
    /// tile's GEMM work grows as C·O, its transforms as C + O): at least 64 × 64 channels
    /// (C·O ≥ 4096; ResNet-20's and VGG-11/4's 64 → 64 on 8×8 ran direct until session 20, when
    /// F(4×4) overtook it: idle `prn bench conv` at 4d80a81, ms 1 / 2 threads, direct 7.69 / 3.95
    /// vs F(4×4)'s 4.99 / 2.66, and two runs of the resnet helper's alike), on planes of at
    /// least 16×16 from C·O ≥ 1024 (ResNet-20's 32 → 32 since session 21, above), and on planes
    /// under 8×8 (all of F(2×2)'s, and
    /// F(4×4)'s of one tile a side plus edge tiles) at least 256 × 256. Elsewhere the weight
    /// gradient runs direct, whose products there are one large GEMM each (k = N·H·W).
    /// `prn bench conv` at 5f39406 (idle): F(4×4)'s weight gradient ran at 0.44–0.86× of
    /// direct's on one thread and 0.54–0.70× on two on VGG-11's (width 0.25) 16–128-channel
    /// layers on 4×4 to 16×16 planes (but 1.21× on one thread for 128 channels on 4×4),
    /// 0.34–0.47× on ResNet-20's 16- and 32-channel layers;
    /// F(2×2)'s on VGG-11's 128-channel 2×2 layers 0.92× and 0.32×. VGG-16's 512-channel 4×4 and
    /// 2×2 layers keep Winograd (1.6× and 1.3× on one thread).
    static func chosen(for geo: ConvGeometry, product: ConvProduct = .forward) -> ConvAlgorithm {
        let image = geo.image, c = image.channels, o = geo.outChannels
        let side = Swift.min(image.height, image.width), outputs = image.batch * image.height * image.width
        if image.window.strideH == 2 {
            // Stride 2: the sliding forward pass and input gradient where few channels leave
            // im2col's GEMM short (the weight gradient stays on im2col; an input gradient onto
            // fewer than 8 channels too, as on stride 1).
            let strided = image.batch * image.outHeight * image.outWidth
            let few = Swift.min(image.outHeight, image.outWidth) >= 8 && strided >= 2048 && c <= 32 && o <= 64
            let slides = product == .forward || (product == .inputGradient && c >= 8)
            return slides && few && SlidingPlan.supports(geo, product) ? .sliding : .direct
        }
        guard WinogradPlan.supports(geo) else { return .direct }
        if image.height <= 2 && image.width <= 2 && image.batch >= 32 && c * o <= planeMapLimit { return .sliding }
        let slides = side >= 8 && outputs >= 2048 && c <= 32 && o <= 64 && (side < 16 || c * o <= 512)
        if slides && (product != .weightGradient || c * o <= 512 || side >= 16) {
            // The input gradient's output channels are the layer's inputs: 3 would fill 3 of the
            // kernel's 8-channel register block.
            return product == .inputGradient && c < 8 ? .direct : .sliding
        }
        guard c >= 16 && o >= 16 else { return .direct }
        let layer: ConvAlgorithm
        if side >= 4 {
            layer = outputs >= 2048 ? .winograd4x4 : .direct
        } else {
            layer = side >= 2 && c >= 128 && o >= 128 && outputs >= 512 ? .winograd2x2 : .direct
        }
        guard product == .weightGradient else { return layer }
        let amortized = (c * o >= 64 * 64 && (side >= 8 || (c >= 256 && o >= 256))) || (c * o >= 32 * 32 && side >= 16)
        return amortized ? layer : .direct
    }

    /// The rule's choice for a product of a convolution of these shapes (which must satisfy
    /// `Shape.conv2d`); the forward pass's is the layer's algorithm.
    public static func chosen(input: [Int], weight: [Int], stride: Int, padding: Int,
                              product: ConvProduct = .forward) -> ConvAlgorithm {
        chosen(for: ConvGeometry.validated(input: input, weight: weight, stride: stride, padding: padding), product: product)
    }
}

/// The three products of a convolution layer, which the rule (`ConvAlgorithm.chosen`) may run
/// by different algorithms: `conv2d`, `conv2dInputGrad`, `conv2dWeightGrad`.
public enum ConvProduct: Sendable {
    case forward, inputGradient, weightGradient
}

extension WinogradPlan {
    /// Whether Winograd can compute this convolution: 3×3, stride 1, padding 1.
    static func supports(_ geo: ConvGeometry) -> Bool {
        let w = geo.image.window
        return w.kernelH == 3 && w.kernelW == 3 && w.strideH == 1 && w.strideW == 1 && w.padH == 1 && w.padW == 1
    }

    /// `y = conv2d(x, w)`.
    static func conv2d(_ x: Tensor, _ weight: Tensor, _ geo: ConvGeometry, tile: WinogradTile) -> Tensor {
        let plan = WinogradPlan(geo, tile: tile)
        let u = plan.transformedWeight(weight)
        return Tensor.build(geo.outputShape) { y in
            x.scalars.withUnsafeBufferPointer { x in plan.forward(x: x.baseAddress!, u: u, y: y.baseAddress!) }
        }
    }

    /// `dx = conv2dInputGrad(gy, w)`: the convolution of gy with the weight flipped and its
    /// channels swapped.
    static func inputGrad(_ gy: Tensor, _ weight: Tensor, _ geo: ConvGeometry, tile: WinogradTile) -> Tensor {
        let plan = WinogradPlan(geo, tile: tile)
        let u = plan.transformedWeight(weight, adjoint: true)
        return Tensor.build(geo.image.inputShape) { dx in
            gy.scalars.withUnsafeBufferPointer { g in plan.adjoint.forward(x: g.baseAddress!, u: u, y: dx.baseAddress!) }
        }
    }

    /// `dw = conv2dWeightGrad(x, gy)`.
    static func weightGrad(_ x: Tensor, _ gy: Tensor, _ geo: ConvGeometry, tile: WinogradTile, weightShape: [Int]) -> Tensor {
        Tensor.build(weightShape) { dw in
            x.scalars.withUnsafeBufferPointer { x in
                gy.scalars.withUnsafeBufferPointer { g in
                    WinogradPlan(geo, tile: tile).weightGradient(x: x.baseAddress!, gy: g.baseAddress!, dw: dw.baseAddress!)
                }
            }
        }
    }
}

/// The tiling of one 3×3, stride-1, padding-1 convolution, and its groups of samples.
struct WinogradPlan {
    let tile: WinogradTile
    let batch: Int, inChannels: Int, outChannels: Int, height: Int, width: Int
    /// Tiles per row and per column of a plane (the last ones may hang over the edge).
    let tileRows: Int, tileColumns: Int
    /// Samples per group: enough for about `targetTiles(tile)` tiles, the GEMMs' column count.
    let groupSize: Int

    /// Tiles of a group, the GEMMs' column count: 512 for m = 2; for m = 4, whose transformed
    /// tiles are 2.25× larger, 256 keep the scratch about the same size.
    static func targetTiles(_ tile: WinogradTile) -> Int { tile.m == 2 ? 512 : 256 }

    init(_ geo: ConvGeometry, tile: WinogradTile) {
        self.init(tile: tile, batch: geo.image.batch, inChannels: geo.image.channels, outChannels: geo.outChannels,
                  height: geo.image.height, width: geo.image.width)
    }

    init(tile: WinogradTile, batch: Int, inChannels: Int, outChannels: Int, height: Int, width: Int) {
        self.tile = tile
        self.batch = batch
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.height = height
        self.width = width
        tileRows = (height + tile.m - 1) / tile.m
        tileColumns = (width + tile.m - 1) / tile.m
        let perSample = tileRows * tileColumns, target = Self.targetTiles(tile)
        groupSize = Swift.max(1, Swift.min(batch, (target + perSample - 1) / perSample))
    }

    /// The plan of the input gradient: the convolution of gy with the adjoint weight.
    var adjoint: WinogradPlan {
        WinogradPlan(tile: tile, batch: batch, inChannels: outChannels, outChannels: inChannels, height: height, width: width)
    }

    var tilesPerSample: Int { tileRows * tileColumns }
    /// The batch in groups of `groupSize` samples, and how they run on the threads.
    var sampleGroups: SampleGroups { SampleGroups(batch: batch, size: groupSize) }

    /// y = conv(x, w) given `u = transformedWeight(w)` (for the input gradient's plan,
    /// `adjoint`, the adjoint one).
    ///
    /// Each output comes out the same in any group (a tile's transforms are its own, and a GEMM
    /// column's chains do not depend on the other columns, `GEMM.swift`), so unlike the weight
    /// gradient, whose sums follow the groups, the forward pass cuts the batch into at least one
    /// group per thread: a batch that fits one group (VGG-11's 4×4 and 2×2 layers at batch 128,
    /// one tile per sample) runs as a group per thread, each with its α² GEMMs whole, instead of
    /// one group whose transforms and α² GEMMs each fork across the threads. For the same
    /// reason a layer of few channels can run smaller groups (`forwardGroupSize`), and the
    /// threads claim the groups one at a time (`SampleGroups.forEachClaimed`).
    func forward(x: UnsafePointer<Float>, u: [GEMM.PackedA], y: UnsafeMutablePointer<Float>) {
        let perThread = (batch + Parallel.threads - 1) / Parallel.threads
        let groups = SampleGroups(batch: batch, size: Swift.max(1, Swift.min(forwardGroupSize, perThread)))
        let positions = tile.positions, maxTiles = groups.size * tilesPerSample
        let transforms = positions * (inChannels + outChannels) * maxTiles
        groups.forEachClaimed(scratch: transforms) { samples, v, gemmThreads in
            let m = v + positions * inChannels * maxTiles, tiles = samples.count * tilesPerSample
            transformInput(x, samples: samples, into: v, tiles: tiles, threads: gemmThreads)
            for xi in 0..<positions {
                GEMM.sgemm(packedA: u[xi], transB: false, n: tiles, b: v + xi * inChannels * tiles, ldb: tiles,
                           beta: 0, c: m + xi * outChannels * tiles, ldc: tiles, threads: gemmThreads)
            }
            transformOutput(m, tiles: tiles, samples: samples, into: y, threads: gemmThreads)
        }
    }

    /// Samples per group of `forward` (which the input gradient runs too): `groupSize`, but
    /// about `fewChannelTiles` tiles where the layer has at most `fewChannels` input and output
    /// channels together. There the transforms, not the α² GEMMs, take most of the time, and a
    /// group's transforms V and products M (α²·(C + O)·tiles floats, 2.4 MB for ResNet-20's 32 ×
    /// 32 channels at 256 tiles) left the L2 cache between the passes that write and read them.
    /// `perf record` of `prn bench train`, 2 threads, loaded host (two rounds, alternating):
    /// the Winograd forward's CPU share fell from 23.9 / 24.7 % to 19.9 / 20.1 % on ResNet-20 and
    /// from 33.7 / 33.4 % to 30.1 / 30.5 % on VGG-11 (width 0.25) with groups of 64 tiles. (On
    /// VGG-16, 64 tiles for every layer gave 42.1 / 41.9 % against 45.7 / 44.5 %; its layers of
    /// more channels keep `groupSize`, untested at 1 thread, where their α² packed weights would
    /// be read once per group.)
    var forwardGroupSize: Int {
        guard inChannels + outChannels <= Self.fewChannels else { return groupSize }
        return Swift.max(1, Swift.min(groupSize, (Self.fewChannelTiles + tilesPerSample - 1) / tilesPerSample))
    }

    static let fewChannels = 256, fewChannelTiles = 64

    /// Fewest elements of the weight gradient's sum per thread, so that a small sum is not forked.
    static let sumGrain = 1 << 14

    /// `dw = ∂⟨conv(x, w), gy⟩/∂w`, the adjoint of `forward` in w: per group, the α² products
    /// `S[ξ] (O × C) = Z[ξ] (O × T) · V[ξ]ᵀ (T × C)` of gy's and x's transforms, added in group
    /// order, then `dw_oc = Gᵀ · S_oc · G`. A lone group (VGG-16's 512-channel layers at batch
    /// 128: 38 MB of products) writes its products straight into the sum instead of copying them.
    func weightGradient(x: UnsafePointer<Float>, gy: UnsafePointer<Float>, dw: UnsafeMutablePointer<Float>) {
        let positions = tile.positions, maxTiles = groupSize * tilesPerSample
        let products = positions * outChannels * inChannels, lone = sampleGroups.count == 1
        // Each group's scratch: x's transform V, gy's transform Z, then its α² products S.
        let transforms = positions * (inChannels + outChannels) * maxTiles
        let sum = UnsafeMutablePointer<Float>.allocate(capacity: products)
        defer { sum.deallocate() }
        var added = false
        sampleGroups.forEach(scratch: transforms + (lone ? 0 : products), { samples, v, gemmThreads in
            let z = v + positions * inChannels * maxTiles, partial = lone ? sum : v + transforms
            let tiles = samples.count * tilesPerSample
            transformInput(x, samples: samples, into: v, tiles: tiles, threads: gemmThreads)
            transformGradient(gy, samples: samples, into: z, tiles: tiles, threads: gemmThreads)
            // A group alone on the threads (gemmThreads nil) splits its α² products between them,
            // each computed whole on one thread, rather than forking each product (which a small
            // one, under `GEMM.parallelThreshold`, would not: Conv-2's last group of 6 samples
            // ran its 36 64 × 64 products on one thread while the other waited). The threads
            // claim one product at a time: a fixed half each left one thread waiting for the
            // other's last products.
            Parallel.forEachClaimed(positions, pieces: positions, threads: gemmThreads) { share in
                for xi in share {
                    GEMM.sgemm(transA: false, transB: true, m: outChannels, n: inChannels, k: tiles, alpha: 1,
                               a: z + xi * outChannels * tiles, lda: tiles, b: v + xi * inChannels * tiles, ldb: tiles,
                               beta: 0, c: partial + xi * outChannels * inChannels, ldc: inChannels, threads: 1)
                }
            }
        }, afterWave: { scratches in
            defer { added = true }
            guard !lone else { return }
            // The threads split the elements: each element still adds the groups in group order.
            let summed = added
            let pieces = Swift.min(products / Self.sumGrain, Parallel.threads * Parallel.piecesPerThread)
            Parallel.forEachClaimed(products, pieces: pieces) { elements in
                for (w, scratch) in scratches.enumerated() {
                    let partial = scratch + transforms
                    if summed || w > 0 {
                        for i in elements { sum[i] += partial[i] }
                    } else {
                        (sum + elements.lowerBound).update(from: partial + elements.lowerBound, count: elements.count)
                    }
                }
            }
        })
        if !added { sum.update(repeating: 0, count: products) }   // an empty batch
        transformWeightGradient(sum, into: dw)
    }
}
