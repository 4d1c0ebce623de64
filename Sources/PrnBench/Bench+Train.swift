import Foundation
import PrnKernel
import PrnData
import PrnNN

/// Training throughput, printed by `prn bench train`, in the same setting
/// `scripts/bench-train.sh` gives PyTorch.
public enum TrainBenchmarks {
    /// One line per case and thread count, e.g. `train model=lenet300 threads=2 samples_per_s=35000
    /// cpu_per_wall=1.97` (the process's CPU time per wall-clock second over the timed steps):
    /// - `lenet300`: one epoch of Fashion-MNIST (synthetic data of the same shape when the
    ///   package is absent), Adam, batch 64 — the whole loop, data batching included.
    /// - `conv2`: 50 steps on Fashion-MNIST shapes, Adam, batch 64, width 1.
    /// - `vgg11`: 20 steps on CIFAR shapes [3, 32, 32], SGD momentum, batch 128, width 0.25.
    /// - `vgg16` (5 steps, width 1) and `resnet20` (10 steps): the same setting, the papers' models.
    ///
    /// `models` (names, as `BENCH_MODELS=vgg16,resnet20` gives them) runs only those, and loads
    /// only their data, so a process's peak memory is theirs. `threads` defaults to
    /// `BENCH_THREADS` (`1`, `2` or `1,2`, for profiling one of them), else 1 and 2.
    public static func run(threads: [Int] = benchThreads, models: Set<String>? = nil, report: (String) -> Void) throws {
        let cases: [(name: Zoo, data: BenchData, width: Double, batch: Int, steps: Int?, optimizer: TrainConfig.OptimizerKind)] = [
            (.lenet300, .fashion, 1, 64, nil, .adam),
            (.conv2, .fashion, 1, 64, 50, .adam),
            (.vgg11, .cifar, 0.25, 128, 20, .sgd),
            (.vgg16, .cifar, 1, 128, 5, .sgd),
            (.resnet20, .cifar, 1, 128, 10, .sgd),
        ]
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        var loaded: [BenchData: Dataset] = [:]
        for c in cases where models?.contains(c.name.rawValue) ?? true {
            let dataset = try loaded[c.data] ?? c.data.load()
            loaded[c.data] = dataset
            let architecture = Architecture(name: c.name, inputShape: dataset.inputShape, classes: dataset.classes, width: c.width)
            let model = try Model(architecture, seed: 1)
            let data = c.steps.map { dataset.truncated(train: $0 * c.batch) } ?? dataset
            for t in threads {
                Parallel.threads = t
                let config = TrainConfig.benchmark(batch: c.batch, optimizer: c.optimizer)
                var firstStepSeconds = 0.0, trainSeconds = 0.0
                var firstStepClocks = Clocks.now(), lastStepClocks = firstStepClocks
                _ = try Trainer.train(model, data: data, config: config, progress: { p in
                    if p.batch == 1 { (firstStepSeconds, firstStepClocks) = (p.elapsed, Clocks.now()) }
                    if p.finishedEpoch == nil { (trainSeconds, lastStepClocks) = (p.elapsed - firstStepSeconds, Clocks.now()) }
                })
                // Throughput over the steady steps: the first step (the heap's first pages, cold
                // caches; 5–15 % of a short run's time, paid only by the first thread count a
                // process runs) and the last (which includes the epoch-end test pass) are excluded.
                let last = data.train.count % c.batch == 0 ? c.batch : data.train.count % c.batch
                let samples = Double(data.train.count - last - c.batch)
                // The process's CPU seconds per wall second over the same steps (an idle worker
                // spins a little before it sleeps, so it counts too): near `threads` when each
                // thread had a core; near 1 at 2 threads when another process held the second
                // core, and the rate is then not a 2-thread rate (on a shared 2-vCPU host, another
                // `chrt -f` job of the same priority keeps the worker off its core for seconds).
                let cpu = lastStepClocks.cpu - firstStepClocks.cpu, wall = lastStepClocks.wall - firstStepClocks.wall
                report("train model=\(c.name) threads=\(t) samples_per_s=\(Int(samples / Swift.max(trainSeconds, 1e-9)))"
                       + " cpu_per_wall=\(String(format: "%.2f", cpu / Swift.max(wall, 1e-9)))")
            }
        }
    }
}

extension TrainBenchmarks {
    /// The thread counts `BENCH_THREADS` names, else 1 and 2.
    public static var benchThreads: [Int] {
        let listed = ProcessInfo.processInfo.environment["BENCH_THREADS"]?.split(separator: ",").compactMap { Int($0) }
        return listed.flatMap { $0.isEmpty || $0.contains { $0 < 1 } ? nil : $0 } ?? [1, 2]
    }
}

extension TrainConfig {
    /// One epoch of `batch`-sized steps with the benchmarks' optimizer settings (Adam at 1e-3, SGD
    /// at 0.01 with momentum 0.9), those of the PyTorch twins (`scripts/bench_*_torch.py`);
    /// shared so `bench train` and `bench sparse` train alike.
    static func benchmark(batch: Int, optimizer: OptimizerKind) -> TrainConfig {
        var config = TrainConfig()
        config.epochs = 1
        config.batchSize = batch
        config.optimizer = optimizer
        config.learningRate = optimizer == .adam ? 1e-3 : 0.01
        config.momentum = optimizer == .sgd ? 0.9 : 0
        return config
    }
}

/// The data a training benchmark runs on, loaded only when a chosen case needs it.
enum BenchData {
    /// Fashion-MNIST, or synthetic data of its shape when the package is absent.
    case fashion
    /// Synthetic data of CIFAR's shape, 20 batches of 128.
    case cifar

    func load() throws -> Dataset {
        switch self {
        case .fashion:
            return try (try? Dataset.load(.fashion()))
                ?? Dataset.load(.synthetic(SyntheticSpec(classes: 10, shape: [1, 28, 28], train: 60000, test: 1000, seed: 0)))
        case .cifar:
            return try Dataset.load(.synthetic(SyntheticSpec(classes: 10, shape: [3, 32, 32], train: 128 * 20, test: 128, seed: 0)))
        }
    }
}

extension Dataset {
    /// The same data set with only the first `count` training examples (and a small test split),
    /// for benchmarks that time a fixed number of steps.
    func truncated(train count: Int) -> Dataset {
        Dataset(name: name, source: source, files: files, train: train.slice(0..<Swift.min(count, train.count)),
                validation: nil, test: test.slice(0..<Swift.min(test.count, 256)), classes: classes,
                classNames: classNames, normalization: normalization, checksum: checksum, augmentation: augmentation)
    }
}
