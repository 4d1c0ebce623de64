import PrnKernel

/// Direct (im2col + GEMM) against Winograd F(2×2, 3×3) convolution on the 3×3 layers of VGG-16,
/// VGG-11 (width 0.25) and ResNet-20 at batch 128: the forward pass and both gradients.
public enum ConvBenchmark {
    /// One line per layer, product and thread count: `conv layer=vgg16.c64.s32 product=forward
    /// threads=2 direct_ms=… winograd_ms=… speedup=… max_diff=…` (`max_diff`: the largest
    /// difference between the two results, relative to the direct result's largest magnitude).
    public static func run(report: (String) -> Void) {
        let layers: [(String, Int, Int, Int)] = [  // name, in, out, side
            ("vgg16.c64.s32", 64, 64, 32), ("vgg16.c128.s16", 128, 128, 16), ("vgg16.c256.s8", 256, 256, 8),
            ("vgg16.c512.s4", 512, 512, 4), ("vgg16.c512.s2", 512, 512, 2),
            ("vgg11w.c32.s16", 32, 32, 16), ("vgg11w.c64.s8", 64, 64, 8),
            ("resnet20.c16.s32", 16, 16, 32), ("resnet20.c32.s16", 32, 32, 16), ("resnet20.c64.s8", 64, 64, 8),
        ]
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        for (name, c, o, side) in layers {
            var rng = RNG(seed: UInt64(c * side))
            let x = Tensor(shape: [128, c, side, side], scalars: rng.normal(count: 128 * c * side * side))
            let w = Tensor(shape: [o, c, 3, 3], scalars: rng.normal(count: o * c * 9))
            let gy = Tensor(shape: [128, o, side, side], scalars: rng.normal(count: 128 * o * side * side))
            let products: [(String, () -> Tensor, () -> Tensor)] = [
                ("forward", { x.conv2d(w, stride: 1, padding: 1, algorithm: .direct) }, { x.conv2d(w, stride: 1, padding: 1, algorithm: .winograd) }),
                ("input_grad", { Tensor.conv2dInputGrad(gy, w, inputShape: x.shape, stride: 1, padding: 1, algorithm: .direct) },
                 { Tensor.conv2dInputGrad(gy, w, inputShape: x.shape, stride: 1, padding: 1, algorithm: .winograd) }),
                ("weight_grad", { Tensor.conv2dWeightGrad(x, gy, weightShape: w.shape, stride: 1, padding: 1, algorithm: .direct) },
                 { Tensor.conv2dWeightGrad(x, gy, weightShape: w.shape, stride: 1, padding: 1, algorithm: .winograd) }),
            ]
            for (product, direct, winograd) in products {
                for threads in [1, 2] {
                    Parallel.threads = threads
                    var a = x, b = x
                    let td = Benchmarks.bestTime(minimumTotal: 0.3) { a = direct() }
                    let tw = Benchmarks.bestTime(minimumTotal: 0.3) { b = winograd() }
                    let scale = a.scalars.map(abs).max() ?? 1
                    let worst = zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? 0
                    report("conv layer=\(name) product=\(product) threads=\(threads) direct_ms=\(Benchmarks.formatted(td * 1e3)) "
                           + "winograd_ms=\(Benchmarks.formatted(tw * 1e3)) speedup=\(Benchmarks.formatted(td / tw)) "
                           + "max_diff=\(worst / Swift.max(scale, .leastNormalMagnitude))")
                }
            }
        }
    }
}
