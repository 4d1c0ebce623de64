import Foundation
import PrnKernel
import PrnNN
import PrnPrune

/// SynFlow's cost, printed by `prn bench synflow`: 100 rounds on VGG-16 (CIFAR shape, width 1)
/// to compression 2 (1% kept), the setting PyTorch is timed in by `scripts/bench-peers.sh`.
public enum SynFlowBenchmark {
    public static func run(rounds: Int = 100, threads: [Int] = [Parallel.threads], report: (String) -> Void) throws {
        let model = try Model(Architecture(name: .vgg16, inputShape: [3, 32, 32], classes: 10, width: 1), seed: 0)
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        for t in threads {
            Parallel.threads = t
            let start = Date()
            let result = try Pruner.prune(model, method: .synflow, target: .compression(2), rounds: rounds)
            let seconds = Date().timeIntervalSince(start)
            report("synflow model=vgg16 rounds=\(rounds) threads=\(t) seconds=\(String(format: "%.2f", seconds)) density=\(String(format: "%.4f", result.density))")
        }
    }
}
