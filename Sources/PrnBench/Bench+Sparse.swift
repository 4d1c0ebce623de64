import Foundation
import PrnKernel
import PrnData
import PrnNN
import PrnPrune

/// What sparse compute buys, printed by `prn bench sparse`: training throughput of pruned
/// networks on the dense path (`sparse=off`) and with `sparse=auto`, in one run.
///
/// - `lenet300`: batch 64, Adam, 30 steps, 5 runs per path and density; `vgg16`: CIFAR shape,
///   batch 128, SGD with momentum, 2 steps, 3 runs per path and density. Both pruned at
///   initialization by global SynFlow (10 rounds, so the benchmark stays short; the layer
///   densities come out uneven, as with 100) at densities 0.1, 0.02 and 0.005.
/// - The runs interleave: each round trains each density once dense (`sparse=off`) and then once
///   sparse (`sparse=auto`), so both paths at every density see the host in the same states, and
///   a slow minute of the host falls on all lines alike rather than on one density's dense runs
///   (session 12's idle run read 55k–72k dense LeNet-300-100 samples/s across its lines). A
///   path's throughput is the batch over the median of its timed steps, so neither a lucky nor
///   an unlucky step decides the ratio. The first step of each run (topology building, cold
///   caches) is not timed.
/// - Each line's dense baseline is the dense path at its own density, not the three densities'
///   dense steps pooled: the dense path multiplies the same `mask ⊙ w` products at every density,
///   but its optimizer updates the kept positions only, and on LeNet-300-100 that made the dense
///   step 8–12 % cheaper at 0.005 than at 0.1 (one thread, two runs: 42k / 45k / 47k and
///   43k / 44k / 46k samples/s at 0.1 / 0.02 / 0.005), so a pooled baseline would flatter the
///   sparsest line. The pooled dense median is printed beside it (`dense_pooled_samples_per_s`)
///   as a check on the host's steadiness.
/// - Each path also gets its mean CPU time per step (the whole process's): `dense_cores` and
///   `sparse_cores` are CPU over wall time, `speedup_cpu` the dense CPU time over the sparse
///   (`StepTimes`).
public enum SparseBenchmark {
    /// `models` (as `BENCH_MODELS=lenet300,crossover` gives them) runs only those cases;
    /// `vgg16layers` (never run by default) adds VGG-16's per-layer times (`layerTimes`), of the
    /// convolutions named in `layers` (`conv8`) when given.
    public static func run(threads: Int = Parallel.threads, models: Set<String>? = nil, layers: Set<String>? = nil,
                           report: (String) -> Void) throws {
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        Parallel.threads = threads
        if models?.contains("crossover") ?? true { crossover(threads: threads, report: report) }
        if models?.contains("vgg16layers") ?? false { try layerTimes(threads: threads, layers: layers, report: report) }
        let cases: [(name: Zoo, shape: [Int], batch: Int, steps: Int, runs: Int, optimizer: TrainConfig.OptimizerKind)] = [
            (.lenet300, [1, 28, 28], 64, 30, 5, .adam),
            (.vgg16, [3, 32, 32], 128, 2, 3, .sgd),
        ]
        for c in cases where models?.contains(c.name.rawValue) ?? true {
            let data = try Dataset.load(.synthetic(SyntheticSpec(classes: 10, shape: c.shape, train: c.batch * (c.steps + 1),
                                                                 test: c.batch, seed: 0)))
            let model = try Model(Architecture(name: c.name, inputShape: c.shape, classes: 10), seed: 1)
            var config = TrainConfig.benchmark(batch: c.batch, optimizer: c.optimizer)
            config.augment = false
            let densities = [0.1, 0.02, 0.005]
            let pruned = try densities.map { try Pruner.prune(model, method: .synflow, target: .density($0), rounds: 10).model }
            let steps = try stepTimes(pruned, data, config, runs: c.runs)
            let batch = Double(c.batch)
            let pooled = batch / Benchmarks.median(steps.flatMap { $0.dense.map(\.wall) })
            for (density, times) in zip(densities, steps) {
                let (dense, sparse) = (StepTimes(times.dense), StepTimes(times.sparse))
                report("sparse model=\(c.name) density=\(density) threads=\(threads) dense_samples_per_s=\(format(batch / dense.wall)) "
                       + "sparse_samples_per_s=\(format(batch / sparse.wall)) speedup=\(Benchmarks.formatted(dense.wall / sparse.wall)) "
                       + "dense_pooled_samples_per_s=\(format(pooled)) runs=\(c.runs) timed_steps=\(c.runs * c.steps) "
                       + "dense_cores=\(Benchmarks.formatted(dense.cores)) sparse_cores=\(Benchmarks.formatted(sparse.cores)) "
                       + "speedup_cpu=\(Benchmarks.formatted(dense.cpu / sparse.cpu))")
            }
        }
    }

    /// One timed step: its wall-clock time and the CPU time of the whole process (every
    /// thread, the worker pool's spin-waits included; `Clocks`), in seconds.
    typealias Step = (wall: Double, cpu: Double)

    /// A path's timed steps summed up.
    struct StepTimes {
        /// The median wall-clock time of a step, in seconds.
        let wall: Double
        /// The mean CPU time of a step, in seconds: a mean, since Linux adds another thread's CPU
        /// time to the process's only when it is descheduled or at a timer tick (every few ms),
        /// so a single step of about a millisecond often misses the worker's share, and the
        /// median would too.
        let cpu: Double
        /// The mean wall-clock time of a step, in seconds.
        let meanWall: Double
        /// CPU time over wall time (means): the cores the path kept busy, the worker's spin-waits
        /// and the background batch copy (`Batches.Iterator`) included. On two threads the dense
        /// path splits its GEMMs (about 1.9), while LeNet-300-100's sparse products at 0.02 and
        /// 0.005 stay below the size that wakes a second thread, so there the second core only
        /// copies the next batch; that line's two-thread speed-up rises and falls with how much
        /// the host lets the dense path gain from its second core.
        var cores: Double { cpu / meanWall }

        init(_ steps: [Step]) {
            wall = Benchmarks.median(steps.map(\.wall))
            meanWall = steps.map(\.wall).reduce(0, +) / Double(steps.count)
            cpu = steps.map(\.cpu).reduce(0, +) / Double(steps.count)
        }
    }

    /// The timed steps of each model on each path, dense (`off`) and sparse (`auto`): `runs`
    /// rounds, each training every model once dense, then once sparse.
    static func stepTimes(_ models: [Model], _ data: Dataset, _ config: TrainConfig,
                          runs: Int) throws -> [(dense: [Step], sparse: [Step])] {
        var steps = [[SparseMode: [Step]]](repeating: [:], count: models.count)
        for _ in 0..<runs {
            for (m, model) in models.enumerated() {
                for mode in [SparseMode.off, .auto] {
                    var previous = Clocks.now()
                    _ = try SparseMode.with(mode) {
                        try Trainer.train(model, data: data, config: config, progress: { p in
                            guard p.finishedEpoch == nil else { return }
                            let now = Clocks.now()
                            // The first step builds the topologies and warms the caches.
                            if p.batch > 1 { steps[m][mode, default: []].append((now.wall - previous.wall, now.cpu - previous.cpu)) }
                            previous = now
                        })
                    }
                }
            }
        }
        return steps.map { ($0[.off]!, $0[.auto]!) }
    }

    /// Per layer kind, one step of a representative layer on each path at falling densities;
    /// then VGG-16's convolutions that the dense path runs by Winograd (batch 128), per product.
    static func crossover(threads: Int, report: (String) -> Void) {
        // LeNet-300-100's three layers (global SynFlow keeps 0.35 of the second at density 0.1,
        // 0.38 of the head at 0.005). The convolution: a batch small enough (6 × 16 × 16
        // outputs) that the dense path keeps it on im2col (`ConvAlgorithm.chosen`); VGG-16's
        // Winograd layers follow.
        let layers: [(kind: String, x: [Int], w: [Int])] = [
            ("linear", [64, 784], [300, 784]), ("linear", [64, 300], [100, 300]), ("linear", [64, 100], [10, 100]),
            ("conv", [6, 64, 16, 16], [64, 64, 3, 3]),
        ]
        for layer in layers {
            let rule = layer.w.count == 4
                ? SparseSelection.convCrossover(ConvAlgorithm.chosen(input: layer.x, weight: layer.w, stride: 1, padding: 1))
                : SparseSelection.linearCrossover(layer.w)
            var wins: [String] = []
            for density in [0.5, 0.4, 0.3, 0.2, 0.1, 0.05, 0.02] {
                let (weight, mask, topology) = maskedWeight(layer.w, density: density)
                let x = Tensor.randn(layer.x, seed: 3)
                // The three products of a training step, dense on `mask ⊙ w` or sparse on the
                // compact weight (as training binds it).
                func step(_ sparse: Bool) {
                    let compact = sparse ? topology.compact(weight) : weight
                    if layer.w.count == 4 {
                        let y = sparse ? x.sparseConv2d(compact, topology, padding: 1) : x.conv2d(weight * mask, padding: 1)
                        _ = sparse ? Tensor.sparseConv2dInputGrad(y, compact, topology, inputShape: layer.x, padding: 1)
                                   : Tensor.conv2dInputGrad(y, weight * mask, inputShape: layer.x, padding: 1)
                        _ = sparse ? Tensor.sparseConv2dWeightGrad(x, y, topology, weightShape: compact.shape, padding: 1)
                                   : Tensor.conv2dWeightGrad(x, y, weightShape: layer.w, padding: 1) * mask
                    } else {
                        let y = sparse ? x.sparseLinear(compact, topology) : x.matmul(weight * mask, transB: true)
                        _ = sparse ? Tensor.sparseLinearInputGrad(y, compact, topology) : y.matmul(weight * mask)
                        _ = sparse ? Tensor.sparseLinearWeightGrad(x, y, topology, weightShape: compact.shape)
                                   : y.matmul(x, transA: true) * mask
                    }
                }
                let ratio = fastest(of: 5) { step(false) } / fastest(of: 5) { step(true) }
                wins.append("\(density):\(Benchmarks.formatted(ratio))")
            }
            report("sparse crossover kind=\(layer.kind) x=\(layer.x) w=\(layer.w) threads=\(threads) "
                   + "speedup_by_density=\(wins.joined(separator: ",")) auto_below=\(rule)")
        }
        winogradCrossover(threads: threads, report: report)
    }

    /// VGG-16's 3×3 layers of 64 channels and more at batch 128, which the dense path runs by
    /// Winograd (`ConvAlgorithm.chosen`): one line per layer, the sparse training step's speed-up
    /// over the dense one at falling densities, and in parentheses that of each product
    /// (forward / input gradient / weight gradient). `auto_below` is the crossover `auto` uses
    /// for the layer's dense algorithm (`SparseSelection.convCrossover`).
    static func winogradCrossover(threads: Int, report: (String) -> Void) {
        for (channels, side) in [(64, 32), (128, 16), (256, 8), (512, 4), (512, 2)] {
            let xShape = [128, channels, side, side], wShape = [channels, channels, 3, 3]
            let algorithm = ConvAlgorithm.chosen(input: xShape, weight: wShape, stride: 1, padding: 1)
            let x = Tensor.randn(xShape, seed: 3), gy = Tensor.randn(xShape, seed: 4)
            let dense = productTimes(
                forward: { w in _ = x.conv2d(w, padding: 1) },
                inputGrad: { w in _ = Tensor.conv2dInputGrad(gy, w, inputShape: xShape, padding: 1) },
                weightGrad: { _ = Tensor.conv2dWeightGrad(x, gy, weightShape: wShape, padding: 1) },
                weight: maskedWeight(wShape, density: 1).weight)
            var wins: [String] = []
            for density in [0.4, 0.3, 0.2, 0.15, 0.1, 0.05, 0.02] {
                let (weight, _, topology) = maskedWeight(wShape, density: density)
                let sparse = productTimes(
                    forward: { w in _ = x.sparseConv2d(w, topology, padding: 1) },
                    inputGrad: { w in _ = Tensor.sparseConv2dInputGrad(gy, w, topology, inputShape: xShape, padding: 1) },
                    weightGrad: { _ = Tensor.sparseConv2dWeightGrad(x, gy, topology, weightShape: [topology.count], padding: 1) },
                    weight: topology.compact(weight))
                let each = zip(dense, sparse).map { Benchmarks.formatted($0 / $1) }.joined(separator: "/")
                wins.append("\(density):\(Benchmarks.formatted(dense.reduce(0, +) / sparse.reduce(0, +)))(\(each))")
            }
            report("sparse crossover kind=conv layer=vgg16.c\(channels).s\(side) x=\(xShape) dense=\(algorithm) threads=\(threads) "
                   + "speedup_by_density=\(wins.joined(separator: ",")) auto_below=\(SparseSelection.convCrossover(algorithm))")
        }
    }

    /// The fastest of three timings of each product, in seconds.
    static func productTimes(forward: (Tensor) -> Void, inputGrad: (Tensor) -> Void, weightGrad: () -> Void,
                             weight: Tensor) -> [Double] {
        [fastest(of: 3) { forward(weight) }, fastest(of: 3) { inputGrad(weight) }, fastest(of: 3) { weightGrad() }]
    }

    /// A random weight of `shape`, a mask keeping about `density` of it uniformly, and the mask's topology.
    static func maskedWeight(_ shape: [Int], density: Double) -> (weight: Tensor, mask: Tensor, topology: SparseTopology) {
        var rng = RNG(seed: 7)
        let mask = Tensor(shape: shape, scalars: rng.uniform(count: Shape.count(shape)).map { Double($0) < density ? 1 : 0 })
        return (Tensor.randn(shape, seed: 2), mask, SparseTopology(mask: mask))
    }

    /// The shortest of `runs` timings of `body`, in seconds.
    static func fastest(of runs: Int, _ body: () -> Void) -> Double {
        (0..<runs).map { _ in
            let start = Date()
            body()
            return Date().timeIntervalSince(start)
        }.min()!
    }

    static func format(_ x: Double) -> String { String(Int(x.rounded())) }
}
