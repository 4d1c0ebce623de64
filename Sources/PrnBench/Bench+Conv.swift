import Foundation
import PrnKernel

/// Direct (im2col + GEMM) against Winograd F(2×2, 3×3), F(4×4, 3×3) and the sliding direct
/// kernel (`ConvAlgorithm.sliding`) on the 3×3 layers of VGG-16, VGG-11 (width 0.25, `vgg11`) and
/// ResNet-20 at batch 128, and Conv-2's (Fashion-MNIST's 28×28) at its training batch of 64: the
/// forward pass and both gradients.
public enum ConvBenchmark {
    /// One line per layer, product and thread count: `conv layer=vgg16.c64.s32 product=forward
    /// threads=2 rounds=… direct_ms=… winograd2x2_ms=… winograd4x4_ms=… sliding_ms=…
    /// speedup2x2=… speedup4x4=… speedup_sliding=… max_diff2x2=… max_diff4x4=…
    /// max_diff_sliding=… rule=… direct_cpu_ms=… winograd2x2_cpu_ms=… … best=… best_cpu=…
    /// rule_vs_best=… rule_vs_best_cpu=…`.
    ///
    /// The algorithms' runs are interleaved (one call of each per round, each round starting one
    /// algorithm further on), so a spell of load on the shared host falls on all of them alike,
    /// and each time is the median over the rounds: `_ms` wall clock, `_cpu_ms` the CPU time of
    /// the whole process (`CLOCK_PROCESS_CPUTIME_ID`, every thread, the worker pool's spin-waits
    /// included). On one thread the CPU time is the work, which other processes on the host
    /// barely change: the number to compare algorithms by under load. On two threads the CPU
    /// time adds both threads' work (and their waits for each other), so it tells how much an
    /// algorithm loses to splitting; the wall time is what training sees, but a loaded host
    /// inflates it. Speed-ups are direct's wall time over the algorithm's; `max_diff`: the
    /// largest difference from the direct result, relative to its largest magnitude; `rule`:
    /// what `ConvAlgorithm.chosen` runs for this layer's product; `best` (`best_cpu`): the
    /// fastest by wall (CPU) time; `rule_vs_best` (`_cpu`): the rule's time over the best one's.
    ///
    /// After a layer's three products (for layers of at least 8 input channels), a line
    /// `conv layer=… product=gradients threads=… together_ms=… apart_ms=… speedup_together=…
    /// together_cpu_ms=… apart_cpu_ms=…`: both gradients as a backward pass asks for them
    /// (`Tensor.conv2dGradients`, one pass on the sliding kernel where it pays) against the two
    /// calls one after the other, interleaved the same way.
    ///
    /// `models` (as `BENCH_MODELS=vgg16` gives them) runs only those models' layers, `layers`
    /// (`BENCH_LAYERS=vgg11.c64.s8,resnet20.c64.s8`) only the layers of those names, `threads`
    /// (`BENCH_THREADS`) only those thread counts.
    public static func run(models: Set<String>? = nil, layers names: Set<String>? = nil, threads: [Int] = [1, 2],
                           report: (String) -> Void) {
        // name, in, out, side (of the input); `c3` the first layers (3 input channels: training runs
        // no input gradient there); `stride2` ResNet-20's downsampling layers (stride 2: no
        // Winograd)
        let layers: [(String, Int, Int, Int)] = [
            ("vgg16.c3.s32", 3, 64, 32), ("vgg16.c64.s32", 64, 64, 32), ("vgg16.c128.s16", 128, 128, 16),
            ("vgg16.c256.s8", 256, 256, 8), ("vgg16.c512.s4", 512, 512, 4), ("vgg16.c512.s2", 512, 512, 2),
            ("vgg11.c16.s16", 16, 32, 16), ("vgg11.c32.s8", 32, 64, 8), ("vgg11.c64.s8", 64, 64, 8),
            ("vgg11.c64.s4", 64, 128, 4), ("vgg11.c128.s4", 128, 128, 4), ("vgg11.c128.s2", 128, 128, 2),
            ("resnet20.c3.s32", 3, 16, 32), ("resnet20.c16.s32", 16, 16, 32), ("resnet20.c32.s16", 32, 32, 16),
            ("resnet20.c64.s8", 64, 64, 8), ("resnet20.c16.s32.stride2", 16, 32, 32), ("resnet20.c32.s16.stride2", 32, 64, 16),
            ("conv2.c1.s28", 1, 64, 28), ("conv2.c64.s28", 64, 64, 28),
        ]
        // Column names: each algorithm's label and the suffix of its speed-up and difference.
        let algorithms: [(label: String, suffix: String, ConvAlgorithm)] = [
            ("direct", "", .direct), ("winograd2x2", "2x2", .winograd2x2), ("winograd4x4", "4x4", .winograd4x4),
            ("sliding", "_sliding", .sliding),
        ]
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        for (name, c, o, side) in layers
        where models?.contains(String(name.prefix { $0 != "." })) ?? true && names?.contains(name) ?? true {
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
                // Direct runs everything; on stride 2 the others only sliding.
                let runs = algorithms.filter { stride == 1 || $0.2 == .direct || $0.2 == .sliding }
                for threads in threads {
                    Parallel.threads = threads
                    // The first call of each warms it up (caches, heap) and gives the result to compare.
                    let results = runs.map { compute($0.2) }
                    let (rounds, wall, cpu) = interleavedMedians(runs.count) { _ = compute(runs[$0].2) }
                    let scale = Swift.max(results[0].scalars.map(abs).max() ?? 1, .leastNormalMagnitude)
                    var line = "conv layer=\(name) product=\(product) threads=\(threads) rounds=\(rounds)"
                    for (i, run) in runs.enumerated() { line += " \(run.label)_ms=\(Benchmarks.formatted(wall[i] * 1e3))" }
                    for (i, run) in runs.enumerated().dropFirst() { line += " speedup\(run.suffix)=\(Benchmarks.formatted(wall[0] / wall[i]))" }
                    for (i, run) in runs.enumerated().dropFirst() {
                        let worst = zip(results[0].scalars, results[i].scalars).map { abs($0 - $1) }.max() ?? 0
                        line += " max_diff\(run.suffix)=\(worst / scale)"
                    }
                    line += " rule=\(rule)"
                    for (i, run) in runs.enumerated() { line += " \(run.label)_cpu_ms=\(Benchmarks.formatted(cpu[i] * 1e3))" }
                    let ruled = runs.firstIndex { $0.2 == rule }!
                    let best = wall.indices.min { wall[$0] < wall[$1] }!, bestCPU = cpu.indices.min { cpu[$0] < cpu[$1] }!
                    report(line + " best=\(runs[best].2) best_cpu=\(runs[bestCPU].2)"
                           + " rule_vs_best=\(Benchmarks.formatted(wall[ruled] / wall[best]))"
                           + " rule_vs_best_cpu=\(Benchmarks.formatted(cpu[ruled] / cpu[bestCPU]))")
                }
            }
            // The first layers (1 or 3 input channels) get no input gradient in training.
            guard c >= 8 else { continue }
            // Both gradients as a backward pass asks for them (`Tensor.conv2dGradients`, one
            // pass where the rule slides both) against the two calls one after the other.
            let both: [() -> Void] = [
                { _ = Tensor.conv2dGradients(x, gy, w, stride: stride, padding: 1) },
                {
                    _ = Tensor.conv2dInputGrad(gy, w, inputShape: x.shape, stride: stride, padding: 1)
                    _ = Tensor.conv2dWeightGrad(x, gy, weightShape: w.shape, stride: stride, padding: 1)
                },
            ]
            for threads in threads {
                Parallel.threads = threads
                both.forEach { $0() }
                let (rounds, wall, cpu) = interleavedMedians(both.count) { both[$0]() }
                report("conv layer=\(name) product=gradients threads=\(threads) rounds=\(rounds)"
                       + " together_ms=\(Benchmarks.formatted(wall[0] * 1e3)) apart_ms=\(Benchmarks.formatted(wall[1] * 1e3))"
                       + " speedup_together=\(Benchmarks.formatted(wall[1] / wall[0]))"
                       + " together_cpu_ms=\(Benchmarks.formatted(cpu[0] * 1e3)) apart_cpu_ms=\(Benchmarks.formatted(cpu[1] * 1e3))")
            }
        }
    }

    /// Runs `body(0) … body(count - 1)` in rounds, round r starting at `r % count` (so no
    /// candidate always follows the same one), for at least `minimumRounds` rounds and
    /// `minimumTotal` seconds of wall time, at most `maximumRounds`; each candidate's median wall
    /// and process CPU time, in seconds.
    static func interleavedMedians(_ count: Int, minimumRounds: Int = 7, maximumRounds: Int = 60,
                                   minimumTotal: Double = 1.5, _ body: (Int) -> Void) -> (rounds: Int, wall: [Double], cpu: [Double]) {
        var wall = [[Double]](repeating: [], count: count), cpu = wall
        let start = Clocks.now()
        var rounds = 0
        repeat {
            for k in 0..<count {
                let i = (rounds + k) % count
                let before = Clocks.now()
                body(i)
                let after = Clocks.now()
                wall[i].append(after.wall - before.wall)
                cpu[i].append(after.cpu - before.cpu)
            }
            rounds += 1
        } while rounds < maximumRounds && (rounds < minimumRounds || Clocks.now().wall - start.wall < minimumTotal)
        return (rounds, wall.map(Benchmarks.median), cpu.map(Benchmarks.median))
    }
}

/// The wall clock and the CPU time of the whole process (all its threads), in seconds.
enum Clocks {
    static func now() -> (wall: Double, cpu: Double) {
        var wall = timespec(), cpu = timespec()
        clock_gettime(CLOCK_MONOTONIC, &wall)
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu)
        return (seconds(wall), seconds(cpu))
    }

    private static func seconds(_ t: timespec) -> Double { Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9 }
}
