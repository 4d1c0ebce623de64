import PrnKernel

/// Direct (im2col + GEMM) against Winograd F(2×2, 3×3), F(4×4, 3×3) and the sliding direct
/// kernel (`ConvAlgorithm.sliding`) on the 3×3 layers of VGG-16, VGG-11 (width 0.25, `vgg11`) and
/// ResNet-20 at batch 128, and Conv-2's (Fashion-MNIST's 28×28) at its training batch of 64: the
/// forward pass and both gradients.
public enum ConvBenchmark {
    /// One line per layer, product and thread count: `conv layer=vgg16.c64.s32 product=forward
    /// threads=2 direct_ms=… winograd2x2_ms=… winograd4x4_ms=… sliding_ms=… speedup2x2=…
    /// speedup4x4=… speedup_sliding=… max_diff2x2=… max_diff4x4=… max_diff_sliding=… rule=…`
    /// (speedups against direct; `max_diff`: the largest difference from the direct result,
    /// relative to its largest magnitude; `rule`: what `ConvAlgorithm.chosen` runs for this layer's
    /// product). `models` (as `BENCH_MODELS=vgg16` gives them) runs only those models' layers.
    public static func run(models: Set<String>? = nil, report: (String) -> Void) {
        // name, in, out, side (of the input); `c3` the first layers (3 input channels: training runs
        // no input gradient there); `stride2` ResNet-20's downsampling layers (stride 2: no
        // Winograd, and sliding but for the input gradient)
        let layers: [(String, Int, Int, Int)] = [
            ("vgg16.c3.s32", 3, 64, 32), ("vgg16.c64.s32", 64, 64, 32), ("vgg16.c128.s16", 128, 128, 16),
            ("vgg16.c256.s8", 256, 256, 8), ("vgg16.c512.s4", 512, 512, 4), ("vgg16.c512.s2", 512, 512, 2),
            ("vgg11.c16.s16", 16, 32, 16), ("vgg11.c32.s8", 32, 64, 8), ("vgg11.c64.s8", 64, 64, 8),
            ("vgg11.c64.s4", 64, 128, 4), ("vgg11.c128.s4", 128, 128, 4), ("vgg11.c128.s2", 128, 128, 2),
            ("resnet20.c3.s32", 3, 16, 32), ("resnet20.c16.s32", 16, 16, 32), ("resnet20.c32.s16", 32, 32, 16),
            ("resnet20.c64.s8", 64, 64, 8), ("resnet20.c16.s32.stride2", 16, 32, 32), ("resnet20.c32.s16.stride2", 32, 64, 16),
            ("conv2.c1.s28", 1, 64, 28), ("conv2.c64.s28", 64, 64, 28),
        ]
        // Column names: the time, speed-up and difference of each algorithm.
        let algorithms: [(label: String, suffix: String, ConvAlgorithm)] = [
            ("winograd2x2", "2x2", .winograd2x2), ("winograd4x4", "4x4", .winograd4x4), ("sliding", "_sliding", .sliding),
        ]
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        for (name, c, o, side) in layers where models?.contains(String(name.prefix { $0 != "." })) ?? true {
            let stride = name.hasSuffix("stride2") ? 2 : 1, outSide = (side - 1) / stride + 1
            let batch = name.hasPrefix("conv2.") ? 64 : 128
            var rng = RNG(seed: UInt64(c * side))
            let x = Tensor(shape: [batch, c, side, side], scalars: rng.normal(count: batch * c * side * side))
            let w = Tensor(shape: [o, c, 3, 3], scalars: rng.normal(count: o * c * 9))
            let gy = Tensor(shape: [batch, o, outSide, outSide], scalars: rng.normal(count: batch * o * outSide * outSide))
            let products: [(String, ConvProduct, (ConvAlgorithm) -> Tensor)] = [
                ("forward", .forward, { x.conv2d(w, stride: stride, padding: 1, algorithm: $0) }),
                ("input_grad", .inputGradient, { Tensor.conv2dInputGrad(gy, w, inputShape: x.shape, stride: stride, padding: 1, algorithm: $0) }),
                ("weight_grad", .weightGradient, { Tensor.conv2dWeightGrad(x, gy, weightShape: w.shape, stride: stride, padding: 1, algorithm: $0) }),
            ]
            for (product, kind, compute) in products {
                let rule = ConvAlgorithm.chosen(input: x.shape, weight: w.shape, stride: stride, padding: 1, product: kind)
                for threads in [1, 2] {
                    Parallel.threads = threads
                    var direct = x
                    let td = Benchmarks.bestTime(minimumTotal: 0.3) { direct = compute(.direct) }
                    let scale = Swift.max(direct.scalars.map(abs).max() ?? 1, .leastNormalMagnitude)
                    var times = "", speedups = "", diffs = ""
                    for (label, suffix, algorithm) in algorithms where stride == 1 || (algorithm == .sliding && kind != .inputGradient) {
                        var result = x
                        let t = Benchmarks.bestTime(minimumTotal: 0.3) { result = compute(algorithm) }
                        let worst = zip(direct.scalars, result.scalars).map { abs($0 - $1) }.max() ?? 0
                        times += " \(label)_ms=\(Benchmarks.formatted(t * 1e3))"
                        speedups += " speedup\(suffix)=\(Benchmarks.formatted(td / t))"
                        diffs += " max_diff\(suffix)=\(worst / scale)"
                    }
                    report("conv layer=\(name) product=\(product) threads=\(threads) direct_ms=\(Benchmarks.formatted(td * 1e3))"
                           + times + speedups + diffs + " rule=\(rule)")
                }
            }
        }
    }
}
