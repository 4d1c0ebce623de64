import Foundation
@_spi(Bench) import PrnKernel
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
    /// `PRN_POOL_STATS=1` adds, after each line, the host's speed per thread (`HostProbe`) and
    /// where the timed steps' wall time went (`poolReport`); those lines are not `train` lines.
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
                var poolSites: [String: PoolStats.Site] = [:], firstFaults = 0, lastFaults = 0, steps = 0
                var gemmCalls: [GEMM.CallTimes] = [], gemmSteps = 0
                _ = try Trainer.train(model, data: data, config: config, progress: { p in
                    if p.batch == 1 {
                        (firstStepSeconds, firstStepClocks) = (p.elapsed, Clocks.now())
                        if PoolStats.enabled { (firstFaults, steps) = (minorFaults(), 0); PoolStats.reset() }
                        _ = GEMM.takeCallTimes()
                    }
                    if p.finishedEpoch == nil {
                        if p.batch > 1 { (gemmCalls, gemmSteps) = (gemmCalls + GEMM.takeCallTimes(), p.batch - 1) }
                        (trainSeconds, lastStepClocks) = (p.elapsed - firstStepSeconds, Clocks.now())
                        if PoolStats.enabled { (poolSites, lastFaults, steps) = (PoolStats.recorded, minorFaults(), p.batch - 1) }
                    }
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
                if GEMM.Knobs.environment.timing {
                    Benchmarks.reportCallInventory(gemmCalls, steps: gemmSteps, label: "model=\(c.name) threads=\(t)", report: report)
                }
                if PoolStats.enabled {
                    let host = HostProbe.measure(threads: t)
                    report("host model=\(c.name) threads=\(t) gemm_gflops_per_thread=\(String(format: "%.1f", host.gflops))"
                           + " stream_gbs_per_thread=\(String(format: "%.1f", host.gbs))")
                    poolReport(poolSites, case: "model=\(c.name) threads=\(t)", steps: steps, wall: wall,
                               faults: lastFaults - firstFaults, report: report)
                }
            }
        }
    }
}

extension TrainBenchmarks {
    /// `PRN_POOL_STATS=1`: where the timed steps' wall time went, per step in milliseconds — in
    /// pool jobs or outside them (serial: the posting thread alone), and, for the sites with
    /// the longest jobs, the posting thread's work and wait, the workers' start delay, work and
    /// idle tail, and how often a worker had to be woken or the caller slept in the join.
    static func poolReport(_ sites: [String: PoolStats.Site], case name: String, steps: Int, wall: Double,
                           faults: Int, report: (String) -> Void) {
        let perStep = Double(Swift.max(steps, 1))
        let ms = { (ns: UInt64) in String(format: "%.2f", Double(ns) / 1e6 / perStep) }
        let span = sites.values.reduce(0) { $0 + $1.span }
        let busy = sites.values.reduce(0) { $0 + $1.busy }, capacity = sites.values.reduce(0) { $0 + $1.capacity }
        report("pool \(name) steps=\(steps) wall_ms=\(String(format: "%.2f", wall * 1e3 / perStep)) jobs_ms=\(ms(span))"
               + " serial_ms=\(String(format: "%.2f", (wall * 1e9 - Double(span)) / 1e6 / perStep))"
               + " jobs_busy=\(String(format: "%.3f", Double(busy) / Double(Swift.max(capacity, 1))))"
               + " minor_faults_per_step=\(faults / Swift.max(steps, 1))")
        for (site, s) in sites.sorted(by: { $0.value.span > $1.value.span }).prefix(16) {
            report("pool_site \(name) site=\(site) jobs=\(s.jobs / Swift.max(steps, 1)) span_ms=\(ms(s.span))"
                   + " caller_work_ms=\(ms(s.callerWork)) caller_wait_ms=\(ms(s.callerWait))"
                   + " worker_start_ms=\(ms(s.workerStart)) worker_work_ms=\(ms(s.workerWork)) worker_tail_ms=\(ms(s.workerTail))"
                   + " longest_start_ms=\(String(format: "%.2f", Double(s.longestStart) / 1e6))"
                   + " longest_wait_ms=\(String(format: "%.2f", Double(s.longestWait) / 1e6))"
                   + " woke=\(s.wokeWorker) slept=\(s.callerSlept)")
        }
    }

    /// The process's minor page faults so far.
    static func minorFaults() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_minflt
    }

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
