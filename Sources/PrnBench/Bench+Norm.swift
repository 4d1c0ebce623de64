import Foundation
import PrnKernel

/// Batch norm's fused passes (`Tensor.batchNormalized` with the batch's statistics and a ReLU,
/// `Tensor.batchNormBackward` reading that ReLU's gate) on the shapes of VGG-11's (width 0.25)
/// and ResNet-20's batch norms at batch 128: these passes are bound by memory traffic, so each
/// line gives the rate at which they move the bytes they must (`gb_per_s`: the input read once
/// and the output written once; the backward reads the gradient and the input, writes `dx`).
public enum NormBenchmark {
    /// One line per shape, pass and thread count: `norm layer=vgg11.c16.s32 pass=forward
    /// threads=2 rounds=… ms=… cpu_ms=… gb_per_s=…`, medians over interleaved rounds
    /// (`ConvBenchmark.interleavedMedians`). `models`, `layers` and `threads` as in `prn bench conv`.
    public static func run(models: Set<String>? = nil, layers names: Set<String>? = nil, threads: [Int] = [1, 2], report: (String) -> Void) {
        // name, channels, side; each at batch 128
        let layers: [(String, Int, Int)] = [
            ("vgg11.c16.s32", 16, 32), ("vgg11.c32.s16", 32, 16), ("vgg11.c64.s8", 64, 8), ("vgg11.c128.s4", 128, 4),
            ("vgg11.c128.s2", 128, 2), ("resnet20.c16.s32", 16, 32), ("resnet20.c32.s16", 32, 16), ("resnet20.c64.s8", 64, 8),
        ]
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        for (name, c, side) in layers
        where models?.contains(String(name.prefix { $0 != "." })) ?? true && names?.contains(name) ?? true {
            var rng = RNG(seed: UInt64(c * side))
            let shape = [128, c, side, side], count = shape.reduce(1, *)
            let x = Tensor(shape: shape, scalars: rng.normal(count: count))
            let g = Tensor(shape: shape, scalars: rng.normal(count: count))
            let scale = Tensor(shape: [c], scalars: rng.normal(count: c)), shift = Tensor(shape: [c], scalars: rng.normal(count: c))
            let forward = x.batchNormalized(scale: scale, shift: shift, epsilon: 1e-5, relu: true)
            let passes: [(String, bytes: Int, () -> Void)] = [
                ("forward", 2 * count * 4, { _ = x.batchNormalized(scale: scale, shift: shift, epsilon: 1e-5, relu: true) }),
                ("backward", 3 * count * 4, {
                    _ = Tensor.batchNormBackward(g, x, mean: forward.mean, invStd: forward.invStd, scale: scale,
                                                 batchStatistics: true, gate: forward.gate)
                }),
            ]
            for threads in threads {
                Parallel.threads = threads
                let (rounds, wall, cpu) = ConvBenchmark.interleavedMedians(passes.count, minimumTotal: 1) { passes[$0].2() }
                for (i, pass) in passes.enumerated() {
                    report("norm layer=\(name) pass=\(pass.0) threads=\(threads) rounds=\(rounds)"
                           + " ms=\(Benchmarks.formatted(wall[i] * 1e3)) cpu_ms=\(Benchmarks.formatted(cpu[i] * 1e3))"
                           + " gb_per_s=\(Benchmarks.formatted(Double(pass.bytes) / wall[i] / 1e9))")
                }
            }
        }
    }
}
