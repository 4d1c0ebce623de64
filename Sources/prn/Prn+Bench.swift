import ArgumentParser
import Foundation
import PrnBench

extension Prn {
    /// `prn bench gemm`: throughput numbers to compare with other tools.
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Measure throughput and print one line per result.")

        /// What can be measured.
        enum Target: String, ExpressibleByArgument, CaseIterable {
            case gemm
            case train
            case synflow
            case sparse
            case conv
            case norm
        }

        @Argument(help: ArgumentHelp("What to measure.", valueName: "what"))
        var what: Target

        func run() throws {
            // The comma-separated names in environment variable `name`, if it is set.
            func listed(_ name: String) -> Set<String>? {
                ProcessInfo.processInfo.environment[name].map { Set($0.split(separator: ",").map(String.init)) }
            }
            // BENCH_MODELS=vgg16,resnet20 runs only those, as in PyTorch's twin script.
            let models = listed("BENCH_MODELS")
            switch what {
            case .gemm:
                // BENCH_SIZES=2048 (or 512,2048) times only those square sizes, without the training
                // products; BENCH_THREADS=1 (or 1,2) only those thread counts.
                let sizes = ProcessInfo.processInfo.environment["BENCH_SIZES"].map { $0.split(separator: ",").compactMap { Int($0) } }
                Benchmarks.gemm(sizes: sizes ?? [256, 512, 1024, 2048], threads: TrainBenchmarks.benchThreads,
                                trainingShapes: sizes == nil, report: { print($0); fflush(stdout) })
            case .train: try TrainBenchmarks.run(models: models, report: { print($0); fflush(stdout) })
            case .synflow: try SynFlowBenchmark.run(report: { print($0); fflush(stdout) })
            case .sparse:
                // With BENCH_MODELS=vgg16layers, BENCH_LAYERS=conv8,conv11 times only those layers.
                try SparseBenchmark.run(models: models, layers: listed("BENCH_LAYERS"), report: { print($0); fflush(stdout) })
            case .conv:
                // BENCH_LAYERS=vgg11.c64.s8,resnet20.c64.s8 times only the layers of those names.
                ConvBenchmark.run(models: models, layers: listed("BENCH_LAYERS"), threads: TrainBenchmarks.benchThreads,
                                  report: { print($0); fflush(stdout) })
            case .norm: NormBenchmark.run(models: models, layers: listed("BENCH_LAYERS"), threads: TrainBenchmarks.benchThreads, report: { print($0); fflush(stdout) })
            }
        }
    }
}
