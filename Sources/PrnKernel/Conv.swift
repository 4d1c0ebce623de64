/// 2-D convolution (NCHW, no bias) and its two adjoints, via im2col + GEMM.
///
/// With input `x[N, C, H, W]`, weight `w[O, C, KH, KW]`, stride `s` and zero padding `p` (the same
/// on both axes):
///
///     y[n, o, i, j] = Σ_{c,u,v} w[o, c, u, v] · x[n, c, i·s − p + u, j·s − p + v]
///
/// `y` is bilinear in `(x, w)`. Its two adjoints, the gradients of `⟨y, gy⟩`, are
///
///     conv2dInputGrad(gy, w)  = ∂⟨y, gy⟩/∂x   (the transposed convolution)
///     conv2dWeightGrad(x, gy) = ∂⟨y, gy⟩/∂w
///
/// Samples are processed in groups whose column matrices sit side by side, so a group is one GEMM
/// (`W · col`, `Wᵀ · gy`, `gy · colᵀ`, using the transpose flags, never a transposed copy). The
/// forward and the input gradient split the groups across threads (one fork per call), each
/// thread with its own scratch, so memory stays bounded by one group per thread; the weight
/// gradient splits its input channels instead and adds the groups in order. The group size
/// depends only on the shapes, so results are bit-identical for any thread count.
extension Tensor {
    /// `y = conv2d(x, w)` with the given stride and zero padding on both axes. Shapes must satisfy
    /// `Shape.conv2d` (validate user input with it first; here a mismatch traps). `algorithm`
    /// defaults to `ConvAlgorithm`'s fixed rule (the layer's algorithm; its weight gradient may run
    /// direct where Winograd's transforms would not pay, `ConvAlgorithm.chosen`).
    public func conv2d(_ weight: Tensor, stride: Int = 1, padding: Int = 0, algorithm: ConvAlgorithm? = nil) -> Tensor {
        let geo = ConvGeometry.validated(input: shape, weight: weight.shape, stride: stride, padding: padding)
        let chosen = geo.uses(algorithm, .forward)
        if chosen == .sliding { return SlidingPlan.conv2d(self, weight, geo) }
        if let tile = chosen.winogradTile { return WinogradPlan.conv2d(self, weight, geo, tile: tile) }
        return Tensor.build(geo.outputShape) { y in
            scalars.withUnsafeBufferPointer { x in
                geo.forward(x: x, y: y, product: geo.weightProduct(weight, transposed: false))
            }
        }
    }

    /// `dx = ∂⟨conv2d(x, w), gy⟩/∂x`, the transposed convolution of `gy[N, O, OH, OW]` with `w`:
    ///
    ///     dx[n, c, h, w'] = Σ_{o,u,v,i,j : i·s−p+u = h, j·s−p+v = w'} w[o, c, u, v] · gy[n, o, i, j]
    ///
    /// `inputShape` is the shape of `x` (with stride > 1, several input sizes give the same output
    /// size). Computed as `col2im(Wᵀ · gy)`.
    public static func conv2dInputGrad(_ gy: Tensor, _ weight: Tensor, inputShape: [Int],
                                       stride: Int = 1, padding: Int = 0, algorithm: ConvAlgorithm? = nil) -> Tensor {
        let geo = ConvGeometry.validated(input: inputShape, weight: weight.shape, stride: stride, padding: padding)
        precondition(gy.shape == geo.outputShape, "conv2dInputGrad: gradient \(gy.shape), expected \(geo.outputShape)")
        let chosen = geo.uses(algorithm, .inputGradient)
        if chosen == .sliding { return SlidingPlan.inputGrad(gy, weight, geo) }
        if let tile = chosen.winogradTile { return WinogradPlan.inputGrad(gy, weight, geo, tile: tile) }
        return Tensor.build(inputShape) { dx in
            gy.scalars.withUnsafeBufferPointer { g in
                geo.inputGradient(gy: g, dx: dx, product: geo.weightProduct(weight, transposed: true))
            }
        }
    }

    /// `dw = ∂⟨conv2d(x, w), gy⟩/∂w`:
    ///
    ///     dw[o, c, u, v] = Σ_{n,i,j} gy[n, o, i, j] · x[n, c, i·s − p + u, j·s − p + v]
    ///
    /// `weightShape` is the shape of `w` (the kernel size is not implied by `x` and `gy`). Computed
    /// as `Σ_groups gy · colᵀ`, each group's product added to `dw` in group order (GEMM with beta
    /// 1 on zeros: `dw = fma(1, dw, acc)`, one rounding per group, as adding a group's partial
    /// product would give). The threads split dw's columns by input channel, each packing only its
    /// channels' taps straight from the input (`Conv+WeightGradient.swift`): no partial sums to
    /// add, no column matrix, and each element's sum is the same whatever the split.
    public static func conv2dWeightGrad(_ x: Tensor, _ gy: Tensor, weightShape: [Int],
                                        stride: Int = 1, padding: Int = 0, algorithm: ConvAlgorithm? = nil) -> Tensor {
        let geo = ConvGeometry.validated(input: x.shape, weight: weightShape, stride: stride, padding: padding)
        precondition(gy.shape == geo.outputShape, "conv2dWeightGrad: gradient \(gy.shape), expected \(geo.outputShape)")
        let chosen = geo.uses(algorithm, .weightGradient)
        if chosen == .sliding { return SlidingPlan.weightGrad(x, gy, geo, weightShape: weightShape) }
        if let tile = chosen.winogradTile { return WinogradPlan.weightGrad(x, gy, geo, tile: tile, weightShape: weightShape) }
        return Tensor.build(weightShape) { dw in
            guard geo.groupCount > 0 else {
                dw.update(repeating: 0)
                return
            }
            x.scalars.withUnsafeBufferPointer { xs in
                gy.scalars.withUnsafeBufferPointer { g in
                    geo.weightGradient(x: xs.baseAddress!, gy: g.baseAddress!, dw: dw.baseAddress!)
                }
            }
        }
    }
}

extension Tensor {
    /// Both adjoints at once, `(conv2dInputGrad(gy, w), conv2dWeightGrad(x, gy))`, as a backward
    /// pass asks for them when x and w both need gradients: the same bits as the two calls. Where
    /// the rule runs both on the sliding kernel on stride 1 and planes of at least 1024 pixels
    /// (`SlidingPlan.fusesGradients`), one pass over gy computes both (`Conv+SlidingGradients.swift`).
    public static func conv2dGradients(_ x: Tensor, _ gy: Tensor, _ weight: Tensor, stride: Int = 1, padding: Int = 0,
                                       algorithm: ConvAlgorithm? = nil) -> (input: Tensor, weight: Tensor) {
        conv2dGradients(x, gy, weight, stride: stride, padding: padding, algorithm: algorithm, fusing: true)
    }

    /// `conv2dGradients`; with `fusing` false, the two products apart even where the one pass
    /// would run (tests compare the two).
    static func conv2dGradients(_ x: Tensor, _ gy: Tensor, _ weight: Tensor, stride: Int, padding: Int,
                                algorithm: ConvAlgorithm?, fusing: Bool) -> (input: Tensor, weight: Tensor) {
        let geo = ConvGeometry.validated(input: x.shape, weight: weight.shape, stride: stride, padding: padding)
        precondition(gy.shape == geo.outputShape, "conv2dGradients: gradient \(gy.shape), expected \(geo.outputShape)")
        if fusing && geo.uses(algorithm, .inputGradient) == .sliding && geo.uses(algorithm, .weightGradient) == .sliding
            && SlidingPlan(geo).fusesGradients {
            return SlidingPlan.gradients(x, gy, weight, geo)
        }
        return (conv2dInputGrad(gy, weight, inputShape: x.shape, stride: stride, padding: padding, algorithm: algorithm),
                conv2dWeightGrad(x, gy, weightShape: weight.shape, stride: stride, padding: padding, algorithm: algorithm))
    }
}

extension Shape {
    /// The output shape of `conv2d` for an input `[N, C, H, W]` and a weight `[O, C, KH, KW]` with
    /// the same stride and zero padding on both axes:
    /// `[N, O, ⌊(H + 2p − KH)/s⌋ + 1, ⌊(W + 2p − KW)/s⌋ + 1]`.
    ///
    /// Throws for wrong ranks, a channel mismatch, a kernel larger than the padded input, a
    /// non-positive stride, negative padding, or sizes past `Tensor.maxElements`.
    public static func conv2d(input: [Int], weight: [Int], stride: Int = 1, padding: Int = 0) throws -> [Int] {
        try ConvGeometry(input: input, weight: weight, stride: stride, padding: padding).outputShape
    }
}

/// The sizes of one convolution, and how its batch is split into groups.
struct ConvGeometry {
    let image: WindowGeometry
    let outChannels: Int
    /// Samples per group: enough that a group's GEMM has about `targetColumns` columns (small
    /// feature maps would otherwise give skinny, inefficient GEMMs). Depends only on the shapes.
    let groupSize: Int

    static let targetColumns = 512

    init(input: [Int], weight: [Int], stride: Int, padding: Int) throws {
        guard weight.count == 4 else {
            throw ShapeError("conv2d needs a weight of shape [out, in, kh, kw], got \(weight)")
        }
        let window = Window2D(kernelH: weight[2], kernelW: weight[3], stride: stride, padding: padding)
        image = try WindowGeometry(input: input, window: window, op: "conv2d")
        guard weight[1] == input[1] else {
            throw ShapeError("conv2d: input \(input) has \(input[1]) channels, weight \(weight) expects \(weight[1])")
        }
        guard weight[0] > 0, weight[1] > 0 else {
            throw ShapeError("conv2d: weight \(weight) needs at least one output and one input channel")
        }
        outChannels = weight[0]
        let plane = image.outputPlane
        groupSize = Swift.max(1, Swift.min(image.batch, plane == 0 ? 1 : (Self.targetColumns + plane - 1) / plane))
        _ = try Shape.checkedCount(weight)
        _ = try Shape.checkedCount(outputShape)
        // Scratch per group: column matrix, regrouped gradient, weight partial (a loose bound).
        guard (try? Shape.checkedCount([image.patch + outChannels + 1, groupColumns + outChannels])) != nil else {
            throw ShapeError("conv2d: the im2col buffer for input \(input) and weight \(weight) is too large")
        }
    }

    /// The initializer for kernels, whose callers have validated the shapes: a failure here is a
    /// programmer error.
    static func validated(input: [Int], weight: [Int], stride: Int, padding: Int) -> ConvGeometry {
        do {
            return try ConvGeometry(input: input, weight: weight, stride: stride, padding: padding)
        } catch {
            preconditionFailure("\(error)")
        }
    }

    var outputShape: [Int] { [image.batch, outChannels, image.outHeight, image.outWidth] }
    /// The algorithm a product runs: the one asked for, else the fixed rule's for that product.
    /// Winograd and sliding are asked for only where they apply (a precondition).
    func uses(_ algorithm: ConvAlgorithm?, _ product: ConvProduct) -> ConvAlgorithm {
        guard let algorithm else { return ConvAlgorithm.chosen(for: self, product: product) }
        switch algorithm {
        case .direct: break
        case .sliding: precondition(SlidingPlan.supports(self, product), "sliding needs a 3×3 kernel, padding 1, stride 1 or 2 (an even height and width for the input gradient on stride 2)")
        case .winograd2x2, .winograd4x4: precondition(WinogradPlan.supports(self), "Winograd needs a 3×3 kernel, stride 1, padding 1")
        }
        return algorithm
    }
    /// The batch in groups of `groupSize` samples, and how they run on the threads.
    var sampleGroups: SampleGroups { SampleGroups(batch: image.batch, size: groupSize) }
    /// Groups of the batch: all of `groupSize` samples but maybe the last.
    var groupCount: Int { sampleGroups.count }
    /// The samples of group `g`.
    func samples(ofGroup g: Int) -> Range<Int> { sampleGroups.samples(ofGroup: g) }
    /// Floats of one sample's input `[C, H, W]` and of its output `[O, OH, OW]`.
    var sampleInputCount: Int { image.channels * image.inputPlane }
    var sampleOutputCount: Int { outChannels * image.outputPlane }
    /// Columns of the largest group's column matrix.
    var groupColumns: Int { groupSize * image.outputPlane }

    /// A group's dense product with the weight `W[O, K]`, as `forward` (`out = W · col`) and
    /// `inputGradient` (`col = Wᵀ · gy`, with `transposed`) take it: one GEMM, transpose flags
    /// instead of a transposed copy.
    func weightProduct(_ weight: Tensor, transposed: Bool)
        -> (_ b: UnsafePointer<Float>, _ cols: Int, _ c: UnsafeMutablePointer<Float>, _ threads: Int?) -> Void {
        let o = outChannels, k = image.patch
        return { b, cols, c, threads in
            weight.scalars.withUnsafeBufferPointer { w in
                GEMM.sgemm(transA: transposed, transB: false, m: transposed ? k : o, n: cols, k: transposed ? o : k,
                           alpha: 1, a: w.baseAddress!, lda: k, b: b, ldb: cols,
                           beta: 0, c: c, ldc: cols, threads: threads)
            }
        }
    }
}
